/** The feed as a server's RSS reader sees it: each item's title, guid, date and enclosure. */
export interface FeedItemView {
  title: string
  guid: string
  pubDate: string
  enclosure: string
}

export async function feedItems(feedUrl: string): Promise<{ items: FeedItemView[]; lastBuildDate: string }> {
  const xml = await (await fetch(feedUrl)).text()
  const pick = (s: string, tag: string): string => {
    const m = new RegExp(`<${tag}[^>]*>(?:<!\\[CDATA\\[)?(.*?)(?:\\]\\]>)?</${tag}>`, 's').exec(s)
    return m?.[1] ?? ''
  }
  const items = xml
    .split('<item>')
    .slice(1)
    .map((s) => ({ title: pick(s, 'title'), guid: pick(s, 'guid'), pubDate: pick(s, 'pubDate'), enclosure: /<enclosure url="([^"]+)"/.exec(s)?.[1] ?? '' }))
  return { items, lastBuildDate: pick(xml, 'lastBuildDate') }
}
