/**
 * The RSS 2.0 feed the servers' BitTorrent clients subscribe to: a pure function over the
 * published releases, built with the `rss` package, shaped so that the RSS readers of
 * qBittorrent, uTorrent, Deluge (YaRSS2), FlexGet, transmission-rss and ruTorrent all take every
 * item. test/unit/feed.test.ts checks each point below.
 *
 * What this module guarantees on its own, whatever the caller passes:
 * - items newest first, with unique titles (a repeated title gets " [<first 8 hex of the
 *   info-hash>]" appended, because FlexGet and smart filters key on titles) and strictly
 *   increasing pubDates at RFC 822's one-second resolution (an item published in the same second
 *   as the previous one is dated one second later, because YaRSS2 drops items that are not newer);
 * - exactly one enclosure of type `application/x-bittorrent` (never the rss package's guess, which
 *   fails on URLs with a query string) and `<link>` both pointing at the .torrent URL;
 * - `<guid isPermaLink="false">` = the info-hash;
 * - the caller's lastBuildDate (the rss package always writes the generation time, which would
 *   change on every poll; it is replaced here).
 * The feed key, when there is one, is already part of the URLs the caller passes.
 */
import RSS from 'rss'
import { formatBytes } from '../../shared/format.js'
import { PRODUCT } from './product.js'

export interface FeedItem {
  infoHash: string
  title: string
  publishedAt: Date
  /** Absolute .torrent URL, with the feed key when one is set. */
  torrentUrl: string
  /** Size in bytes of the .torrent served at torrentUrl (BEP 36: the enclosure length). */
  torrentLength: number
  magnet: string
  /** Size of the release's content. */
  totalSize: number
  /** info.name: the top folder or the single file's name. */
  fileName: string
}

export interface FeedInput {
  title: string
  /** The feed's own URL (with the key when one is set), for `atom:link rel="self"`. */
  feedUrl: string
  siteUrl: string
  items: FeedItem[]
  /** Must change whenever the item list changes (qBittorrent skips a feed whose date did not). */
  lastBuildDate: Date
  /** RSS 2.0 `ttl` is in minutes (BEP 36's "seconds" is wrong for every reader). Omitted when unset. */
  ttlMinutes?: number
  description?: string
}

export const TORRENT_MIME = 'application/x-bittorrent'
export const EZRSS_NAMESPACE = 'http://xmlns.ezrss.it/0.1/'

export function buildFeed(input: FeedInput): string {
  const feed = new RSS({
    title: xmlSafe(input.title),
    description: xmlSafe(input.description ?? `Releases published by ${PRODUCT.name}. Subscribe with your BitTorrent client's RSS reader.`),
    site_url: input.siteUrl,
    feed_url: input.feedUrl,
    generator: `${PRODUCT.name} ${PRODUCT.version}`,
    ttl: input.ttlMinutes !== undefined ? Math.max(1, Math.round(input.ttlMinutes)) : undefined,
    custom_namespaces: { torrent: EZRSS_NAMESPACE },
  })
  for (const item of feedOrder(input.items)) {
    feed.item({
      title: item.title,
      description: `${xmlSafe(item.fileName)} (${formatBytes(item.totalSize)})`,
      url: item.torrentUrl,
      guid: item.infoHash,
      date: item.publishedAt,
      enclosure: { url: item.torrentUrl, size: item.torrentLength, type: TORRENT_MIME },
      custom_elements: [
        { 'torrent:infoHash': item.infoHash },
        { 'torrent:contentLength': item.totalSize },
        { 'torrent:fileName': xmlSafe(item.fileName) },
        { 'torrent:magnetURI': { _cdata: item.magnet } },
      ],
    })
  }
  const lastBuildDate = `<lastBuildDate>${new Date(input.lastBuildDate).toUTCString()}</lastBuildDate>`
  return feed.xml({ indent: true }).replace(/<lastBuildDate>[^<]*<\/lastBuildDate>/, lastBuildDate)
}

/** Newest first, unique titles, strictly increasing whole-second dates (see the module comment). */
function feedOrder(items: FeedItem[]): FeedItem[] {
  const oldestFirst = [...items].sort((a, b) => a.publishedAt.getTime() - b.publishedAt.getTime() || a.infoHash.localeCompare(b.infoHash))
  const titles = new Set<string>()
  let previous = -Infinity
  const out: FeedItem[] = []
  for (const item of oldestFirst) {
    const seconds = Math.max(Math.floor(item.publishedAt.getTime() / 1000), previous + 1)
    previous = seconds
    let title = xmlSafe(item.title).trim() || item.fileName
    if (titles.has(title)) title = `${title} [${item.infoHash.slice(0, 8)}]`
    for (let n = 2; titles.has(title); n++) title = `${title} (${n})`
    titles.add(title)
    out.push({ ...item, title, publishedAt: new Date(seconds * 1000) })
  }
  return out.reverse()
}

/** File names may hold characters XML 1.0 cannot carry at all (control characters, lone surrogates). */
function xmlSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
}
