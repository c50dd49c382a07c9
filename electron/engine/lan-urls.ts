/**
 * Every URL the servers see, built and recognised in one place: the feed, the .torrent files,
 * the web seed and both tracker announce URLs. The LAN server routes exactly these shapes, and
 * the engine, the feed and the .torrent files only ever ask this module for them.
 *
 * Channels: the default channel's feed is /feed.xml, each other one's /feeds/<name>.xml, so a
 * server subscribed to one channel never sees another's releases.
 *
 * The feed key rides in the query string of the feed and .torrent URLs (every RSS reader passes
 * it through), and as a path segment in the web seed's URL, because clients append
 * `<name>/<path>` to a url-list entry and would drop a query string. Announce URLs carry no key
 * (see lan-server.ts for why).
 */
import { DEFAULT_CHANNEL } from '../../shared/contract.js'

export const LAN_PATHS = {
  feed: '/feed.xml',
  channelFeeds: '/feeds/',
  announce: '/announce',
  scrape: '/scrape',
  torrents: '/torrents/',
  webSeed: '/webseed/',
} as const

const TORRENT_PATH = /^\/torrents\/([0-9a-f]{40})\.torrent$/
const CHANNEL_FEED_PATH = /^\/feeds\/([a-z0-9][a-z0-9._-]{0,63})\.xml$/

export class LanUrls {
  /**
   * `address`: the host name or IP in every URL (IPv6 gets its brackets here). `port` and
   * `feedKey` are read on each call: the port is known only once listening, the key is a live setting.
   */
  constructor(
    private readonly address: string,
    private readonly port: () => number,
    readonly feedKey: () => string | null,
  ) {}

  /** http://host:port, with no trailing slash. */
  base(): string {
    return `http://${this.host()}:${this.port()}`
  }

  /** The default channel's feed is /feed.xml; each other channel has /feeds/<name>.xml. */
  feed(channel: string = DEFAULT_CHANNEL): string {
    const feedPath = channel === DEFAULT_CHANNEL ? LAN_PATHS.feed : `${LAN_PATHS.channelFeeds}${channel}.xml`
    return `${this.base()}${feedPath}${this.keyQuery()}`
  }

  torrent(infoHash: string): string {
    return `${this.base()}${LAN_PATHS.torrents}${infoHash}.torrent${this.keyQuery()}`
  }

  /** The url-list entry for a .torrent. Ends in '/', so clients append `<name>[/<path>]`. */
  webSeed(infoHash: string): string {
    const key = this.feedKey()
    return `${this.base()}${LAN_PATHS.webSeed}${key ? `${encodeURIComponent(key)}/` : ''}${infoHash}/`
  }

  /** HTTP first (every client speaks it), then UDP on the same port number. */
  announce(): string[] {
    return [`${this.base()}${LAN_PATHS.announce}`, `udp://${this.host()}:${this.port()}`]
  }

  private host(): string {
    return this.address.includes(':') && !this.address.startsWith('[') ? `[${this.address}]` : this.address
  }

  private keyQuery(): string {
    const key = this.feedKey()
    return key ? `?key=${encodeURIComponent(key)}` : ''
  }
}

/** The channel a feed path names (/feed.xml is the default one), or null for any other path. */
export function feedPathChannel(rawPath: string): string | null {
  if (rawPath === LAN_PATHS.feed) return DEFAULT_CHANNEL
  return CHANNEL_FEED_PATH.exec(rawPath)?.[1] ?? null
}

/** The info-hash a /torrents/<hash>.torrent path names, or null for any other path. */
export function torrentPathInfoHash(rawPath: string): string | null {
  return TORRENT_PATH.exec(rawPath)?.[1] ?? null
}
