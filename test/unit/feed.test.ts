import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { buildFeed, EZRSS_NAMESPACE, type FeedItem } from '../../electron/engine/feed.js'

const BASE = 'http://192.168.1.20:7070'
const KEY = 's3cr3t-key'

function item(n: number, publishedAt: Date, overrides: Partial<FeedItem> = {}): FeedItem {
  const infoHash = createHash('sha1').update(`release ${n}`).digest('hex')
  return {
    infoHash,
    title: `app-update-${n}`,
    publishedAt,
    torrentUrl: `${BASE}/torrents/${infoHash}.torrent?key=${KEY}`,
    torrentLength: 400 + n,
    magnet: `magnet:?xt=urn:btih:${infoHash}&dn=app-update-${n}&tr=${encodeURIComponent(`${BASE}/announce`)}`,
    totalSize: 1_000_000 * n,
    fileName: `app-update-${n}.tar`,
    ...overrides,
  }
}

/** The parts of an RSS 2.0 document the clients read, by regex: enough for generated XML. */
interface ParsedItem {
  raw: string
  title: string
  link: string
  guid: string
  guidIsPermaLink: string | null
  pubDate: string
  enclosures: { url: string; length: string; type: string }[]
  ez: Record<string, string>
}

function unescapeXml(s: string): string {
  return s.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&')
}

function one(xml: string, tag: string): string {
  const all = [...xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g'))]
  assert.equal(all.length, 1, `exactly one <${tag}> expected in ${xml.slice(0, 200)}`)
  return unescapeXml(all[0]?.[1] ?? '').trim()
}

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of tag.matchAll(/([\w:]+)="([^"]*)"/g)) out[m[1] ?? ''] = unescapeXml(m[2] ?? '')
  return out
}

function parseFeed(xml: string) {
  const channel = xml.replace(/<item>[\s\S]*?<\/item>/g, '')
  const items: ParsedItem[] = [...xml.matchAll(/<item>([\s\S]*?)<\/item>/g)].map((m) => {
    const raw = m[1] ?? ''
    const guidTag = /<guid([^>]*)>/.exec(raw)?.[1] ?? ''
    const ez: Record<string, string> = {}
    for (const e of raw.matchAll(/<torrent:(\w+)>([\s\S]*?)<\/torrent:\1>/g)) ez[e[1] ?? ''] = unescapeXml(e[2] ?? '')
    return {
      raw,
      title: one(raw, 'title'),
      link: one(raw, 'link'),
      guid: one(raw, 'guid'),
      guidIsPermaLink: attrs(guidTag).isPermaLink ?? null,
      pubDate: one(raw, 'pubDate'),
      enclosures: [...raw.matchAll(/<enclosure\s[^>]*\/?>/g)].map((e) => attrs(e[0]) as ParsedItem['enclosures'][number]),
      ez,
    }
  })
  return {
    rssTag: /<rss\s[^>]*>/.exec(xml)?.[0] ?? '',
    channelTitle: one(channel, 'title'),
    lastBuildDate: one(channel, 'lastBuildDate'),
    ttl: /<ttl>(\d+)<\/ttl>/.exec(channel)?.[1] ?? null,
    selfLink: attrs(/<atom:link\s[^>]*>/.exec(channel)?.[0] ?? '').href ?? null,
    items,
  }
}

const RFC822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/

test('every item carries what RSS clients need: enclosure, link, guid, titles, dates, ezRSS, feed key', () => {
  const t0 = Date.parse('2026-03-01T10:00:00Z')
  // Given out of order on purpose: the feed sorts newest first.
  const items = [item(1, new Date(t0)), item(3, new Date(t0 + 120_000)), item(2, new Date(t0 + 60_000))]
  const lastBuildDate = new Date(t0 + 130_000)
  const xml = buildFeed({ title: 'Swarmdrop releases', feedUrl: `${BASE}/feed.xml?key=${KEY}`, siteUrl: `${BASE}/`, items, lastBuildDate, ttlMinutes: 5 })
  const feed = parseFeed(xml)

  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>/)
  assert.match(feed.rssTag, /version="2.0"/, 'RSS 2.0')
  assert.match(feed.rssTag, new RegExp(`xmlns:torrent="${EZRSS_NAMESPACE.replace(/\./g, '\\.')}"`))
  assert.equal(feed.channelTitle, 'Swarmdrop releases')
  assert.equal(feed.lastBuildDate, lastBuildDate.toUTCString())
  assert.equal(feed.ttl, '5', 'ttl in minutes')
  assert.equal(feed.selfLink, `${BASE}/feed.xml?key=${KEY}`)

  assert.deepEqual(feed.items.map((i) => i.title), ['app-update-3', 'app-update-2', 'app-update-1'], 'newest first')
  const dates = feed.items.map((i) => Date.parse(i.pubDate))
  for (const [n, it] of feed.items.entries()) {
    const source = items.find((s) => s.infoHash === it.guid)
    assert.ok(source, 'guid is the info-hash')
    assert.equal(it.guidIsPermaLink, 'false')
    assert.equal(it.enclosures.length, 1, 'exactly one enclosure')
    assert.deepEqual(it.enclosures[0], { url: source.torrentUrl, length: String(source.torrentLength), type: 'application/x-bittorrent' })
    assert.equal(it.link, source.torrentUrl, '<link> is the .torrent URL')
    assert.match(it.pubDate, RFC822)
    assert.equal(Date.parse(it.pubDate), Math.floor(source.publishedAt.getTime() / 1000) * 1000)
    if (n > 0) assert.ok((dates[n - 1] ?? 0) > (dates[n] ?? 0), 'strictly decreasing down the list')
    assert.deepEqual(it.ez, { infoHash: source.infoHash, contentLength: String(source.totalSize), fileName: source.fileName, magnetURI: source.magnet })
  }
  assert.equal(new Set(feed.items.map((i) => i.guid)).size, 3)

  // The key is in the query string of the feed URL and every .torrent URL.
  for (const url of [feed.selfLink ?? '', ...feed.items.flatMap((i) => [i.link, i.enclosures[0]?.url ?? ''])]) {
    assert.equal(new URL(url).searchParams.get('key'), KEY, url)
  }
})

test('duplicate titles become unique, same-second publishes get strictly increasing dates, odd characters stay valid XML', () => {
  const t0 = Date.parse('2026-03-01T10:00:00.100Z')
  const items = [
    item(1, new Date(t0), { title: 'nightly' }),
    item(2, new Date(t0 + 300), { title: 'nightly' }),
    item(3, new Date(t0 + 600), { title: 'nightly' }),
    item(4, new Date(t0 + 700), { title: 'a <b> & "c" ]]> \u0007bell', fileName: 'ctl\u0001.bin' }),
  ]
  const xml = buildFeed({ title: 'T & U', feedUrl: `${BASE}/feed.xml`, siteUrl: `${BASE}/`, items, lastBuildDate: new Date(t0 + 1000) })
  const feed = parseFeed(xml)
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(xml, /[\u0000-\u0008]/, 'no characters XML 1.0 forbids')
  assert.equal(feed.ttl, null, 'ttl omitted unless asked for')
  const titles = feed.items.map((i) => i.title)
  assert.equal(new Set(titles).size, 4, `unique titles: ${titles.join(' | ')}`)
  assert.deepEqual(titles.slice(1), [`nightly [${items[2]?.infoHash.slice(0, 8)}]`, `nightly [${items[1]?.infoHash.slice(0, 8)}]`, 'nightly'])
  assert.equal(titles[0], 'a <b> & "c" ]]> \ufffdbell')
  const dates = feed.items.map((i) => Date.parse(i.pubDate))
  assert.deepEqual(dates, [t0 - 100 + 3000, t0 - 100 + 2000, t0 - 100 + 1000, t0 - 100])
  assert.equal(feed.items[0]?.ez.fileName, 'ctl\ufffd.bin')
})

test('lastBuildDate is exactly what the caller passes, so it changes only when the caller bumps it', () => {
  const t0 = Date.parse('2026-03-01T10:00:00Z')
  const input = { title: 'x', feedUrl: `${BASE}/feed.xml`, siteUrl: `${BASE}/`, items: [item(1, new Date(t0))], lastBuildDate: new Date(t0 + 5000) }
  const a = buildFeed(input)
  const b = buildFeed(input)
  assert.equal(a, b, 'same input, same bytes: polling does not look like a change')
  const c = buildFeed({ ...input, items: [...input.items, item(2, new Date(t0 + 6000))], lastBuildDate: new Date(t0 + 7000) })
  assert.notEqual(parseFeed(c).lastBuildDate, parseFeed(a).lastBuildDate)
  assert.equal(parseFeed(c).lastBuildDate, new Date(t0 + 7000).toUTCString())
  const empty = parseFeed(buildFeed({ ...input, items: [] }))
  assert.equal(empty.items.length, 0)
  assert.equal(empty.lastBuildDate, new Date(t0 + 5000).toUTCString())
})
