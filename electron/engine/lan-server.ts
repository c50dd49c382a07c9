/**
 * The LAN surface on ONE TCP port: the RSS feed, the .torrent files, the BEP 19 web seed and the
 * HTTP tracker; the UDP tracker listens on the same number. Everything it serves is derived from
 * `releases()` on each request, so a retired release disappears from every route at once.
 *
 * Routes (all GET; HEAD too for feed, torrents and web seed; shapes from lan-urls.ts):
 *   /feed.xml[?key=K]                        RSS 2.0 (feed.ts) of the default channel
 *   /feeds/<channel>.xml[?key=K]             RSS 2.0 of another channel (empty until its first release)
 *   /torrents/<infohash>.torrent[?key=K]     freshly encoded .torrent (current address)
 *   /webseed/[<K>/]<infohash>/<name>[/<path>] exactly the release's files, with single Range
 *   /announce, /scrape                       the tracker (tracker.ts)
 * Anything else, a wrong or missing key, and any path that is not exactly one of a published
 * release's files is a plain 404 that reveals nothing.
 *
 * Feed key: required on the feed, torrent and web-seed URLs. The web seed carries it in the path,
 * because clients append `<name>/<path>` to the url-list entry and would drop a query string.
 * Announces do NOT need it, by design: (1) every client already sends a `key` parameter of its
 * own in announces (BEP 7 / de-facto), so a `?key=` in the announce URL would collide with it;
 * (2) qBittorrent refuses loopback trackers whose path is not exactly /announce; (3) the tracker
 * only answers for published info-hashes, and an info-hash is only learnt from a .torrent or
 * magnet, which the key already protects. The key protects discovery and content; the tracker
 * protects nothing but a peer list.
 *
 * lastBuildDate is derived: it moves forward (whole seconds, strictly increasing) whenever the
 * rendered item list differs from the previous one, and on releasesChanged(). So it is stable
 * while nothing changes (qBittorrent then skips re-parsing) and always bumped when something
 * does (otherwise qBittorrent would miss the new item).
 *
 * URL shapes live in lan-urls.ts, the web seed in web-seed.ts.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import { DEFAULT_CHANNEL } from '../../shared/contract.js'
import type { AddressInfo } from 'node:net'
import { EventEmitter } from 'node:events'
import { buildFeed, type FeedItem } from './feed.js'
import { feedPathChannel, LAN_PATHS, LanUrls, torrentPathInfoHash } from './lan-urls.js'
import { normalizeIp } from './ip-address.js'
import { ConnectionCap, DEFAULT_CONNECTIONS_PER_ADDRESS } from './connection-caps.js'
import { listenError } from './listen-error.js'
import { decodeSegment } from './safe-path.js'
import { secretMatches } from './secrets.js'
import type { Tracker } from './tracker.js'
import { UploadBucket } from './upload-bucket.js'
import { WebSeed, type WebSeedRelease } from './web-seed.js'
import type { WebSeedGate } from './web-seed-gate.js'
import { methodNotAllowed, notFound, sendText } from './http-replies.js'

export interface PublishedRelease extends WebSeedRelease {
  /** Unique feed title. */
  title: string
  /** Which feed lists it (DEFAULT_CHANNEL: /feed.xml). */
  channel: string
  publishedAt: Date
  isDirectory: boolean
  totalSize: number
  /** The .torrent, freshly encoded (current announce URLs and url-list). */
  torrent(): Buffer
  magnet: string
}

/** Announces are not logged: the tracker reports them (its 'announce' event). */
export type LanRequestKind = 'feed' | 'torrent' | 'webseed' | 'other'

export interface LanRequestLog {
  at: number
  ip: string
  method: string
  /** The path without the feed key and without the query string. */
  path: string
  kind: LanRequestKind
  infoHash: string | null
  status: number
  /** Body bytes sent. */
  bytes: number
  userAgent: string | null
  range: string | null
}

export interface LanServerOptions {
  /** 0 picks a free port. */
  port: number
  /** Where to bind; default '0.0.0.0'. */
  host?: string
  /** The host name or IP the servers reach us at, written into every URL. */
  address: string
  feedKey(): string | null
  /** Published and not retired, newest first. */
  releases(): PublishedRelease[]
  tracker: Tracker
  feedTitle?: string
  feedTtlMinutes?: number
  /** A web-seeded file is not what was published (see web-seed.ts). */
  onSourceChanged?: (infoHash: string, err: Error) => void
  /** Bytes per second for the web seed, 0 = unlimited; read live. */
  uploadLimit?: () => number
  /** A connection with no traffic either way for this long is dropped (a stalled reader). */
  idleTimeoutMs?: number
  /** Open connections allowed per client IP, and in total. */
  maxConnectionsPerIp?: number
  maxConnections?: number
  /**
   * Whether the web seed serves `ip` (see web-seed-gate.ts): refused (503) while it takes the
   * release from us over BitTorrent, so a client that uses both (aria2, qBittorrent) does not
   * fetch it twice over. Always served when absent.
   */
  webSeedGate?: WebSeedGate
}

/** When a server refused by the web seed (it gets the release over BitTorrent) may ask again. */
const WEB_SEED_RETRY_S = 30

/**
 * Limits that keep a slow or hostile client from pinning memory or descriptors: a web-seed
 * reader that stops reading holds a file stream and socket buffers until it is dropped. A LAN
 * client needs a handful of connections (feed, .torrent, announces, a web seed with a few ranges).
 */
const IDLE_TIMEOUT_MS = 30_000
const MAX_CONNECTIONS = 1024

export interface LanServerEvents {
  request: [LanRequestLog]
}


export class LanServer extends EventEmitter<LanServerEvents> {
  private readonly options: LanServerOptions
  private readonly server: http.Server
  private readonly webSeed: WebSeed
  private sentByWebSeed = 0
  private boundPort: number | null = null
  /** Per channel: its lastBuildDate and what its last render listed. */
  private readonly builds = new Map<string, { lastBuild: number; signature: string | null }>()
  /** Every URL this server answers, as the servers are told them. */
  readonly urls: LanUrls

  constructor(options: LanServerOptions) {
    super()
    this.options = options
    this.urls = new LanUrls(options.address, () => this.port, options.feedKey)
    const bucket = new UploadBucket(options.uploadLimit ?? (() => 0))
    this.webSeed = new WebSeed({ onSourceChanged: options.onSourceChanged, throttle: () => (bucket.limited ? bucket.stream() : null) })
    this.server = http.createServer((req, res) => this.onRequest(req, res))
    this.server.timeout = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS
    this.server.keepAliveTimeout = 5_000
    this.server.headersTimeout = 10_000
    this.server.requestTimeout = 30_000
    this.server.maxConnections = options.maxConnections ?? MAX_CONNECTIONS
    const maxPerIp = options.maxConnectionsPerIp ?? DEFAULT_CONNECTIONS_PER_ADDRESS
    new ConnectionCap(() => maxPerIp).gate(this.server)
    // A garbage request line must never take the server down.
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      else socket.destroy()
    })
  }

  get port(): number {
    return this.boundPort ?? this.options.port
  }

  /** Body bytes the web seed has sent so far: the engine shares the upload limit with BitTorrent by it. */
  get webSeedBytes(): number {
    return this.sentByWebSeed
  }

  /** The default channel's lastBuildDate. */
  get lastBuildDate(): Date {
    return new Date(this.build(DEFAULT_CHANNEL).lastBuild)
  }

  async listen(): Promise<void> {
    const host = this.options.host ?? '0.0.0.0'
    // With port 0 the kernel picks a TCP port that may be taken on UDP: then try another one.
    for (let attempt = 0; ; attempt++) {
      await this.listenTcp(this.options.port, host)
      const port = (this.server.address() as AddressInfo).port
      try {
        await this.options.tracker.listenUdp(port, host)
        this.boundPort = port
        return
      } catch (err) {
        await new Promise<void>((resolve) => this.server.close(() => resolve()))
        if (this.options.port !== 0 || attempt >= 10) throw err
      }
    }
  }

  /** The item lists changed: move every channel's lastBuildDate forward now, whatever the next render shows. */
  releasesChanged(): void {
    const releases = this.options.releases()
    for (const [channel, build] of this.builds) {
      this.bumpLastBuild(build)
      build.signature = feedSignature(this.feedItems(releases.filter((r) => r.channel === channel)))
    }
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    // Keep-alive clients (and a web seed mid-transfer) would otherwise hold close() open.
    this.server.closeAllConnections()
    await Promise.all([closed, this.options.tracker.closeUdp()])
    this.boundPort = null
  }

  private listenTcp(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        this.server.off('listening', onListening)
        reject(listenError(err, { label: 'HTTP port', proto: 'TCP', host, port, flag: '--http-port' }))
      }
      const onListening = () => {
        this.server.off('error', onError)
        resolve()
      }
      this.server.once('error', onError)
      this.server.once('listening', onListening)
      this.server.listen({ port, host, exclusive: true })
    })
  }

  private build(channel: string): { lastBuild: number; signature: string | null } {
    let build = this.builds.get(channel)
    if (!build) this.builds.set(channel, (build = { lastBuild: wholeSecond(Date.now()), signature: null }))
    return build
  }

  private bumpLastBuild(build: { lastBuild: number }): void {
    build.lastBuild = Math.max(wholeSecond(Date.now()), build.lastBuild + 1000)
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = Date.now()
    const rawUrl = req.url ?? ''
    const queryAt = rawUrl.indexOf('?')
    const rawPath = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt)
    res.setHeader('X-Content-Type-Options', 'nosniff')
    // Announces are most of a fleet's requests, and the fleet view takes them from the tracker's
    // own event: the request log (its object, the byte-counting wrappers and the close listener)
    // was a twentieth of the tracker's CPU under load, for records nobody reads.
    if (rawPath === LAN_PATHS.announce || rawPath === LAN_PATHS.scrape) return this.guarded(res, () => this.options.tracker.handleHttp(req, res))
    const query = queryAt < 0 ? '' : rawUrl.slice(queryAt + 1)
    const log: LanRequestLog = {
      at: started,
      ip: normalizeIp(req.socket.remoteAddress ?? ''),
      method: req.method ?? '',
      path: rawPath,
      kind: 'other',
      infoHash: null,
      status: 0,
      bytes: 0,
      userAgent: req.headers['user-agent'] ?? null,
      range: typeof req.headers.range === 'string' ? req.headers.range : null,
    }
    countBodyBytes(res, (n) => {
      log.bytes += n
      if (log.kind === 'webseed') this.sentByWebSeed += n
    })
    res.on('close', () => {
      log.status = res.statusCode
      this.emit('request', log)
    })
    this.guarded(res, () => this.route(req, res, rawPath, query, log))
  }

  private guarded(res: ServerResponse, handle: () => void): void {
    try {
      handle()
    } catch (err) {
      // A bug in one request must not take the LAN surface down for every server.
      if (!res.headersSent) sendText(res, 500, 'Internal error\n')
      else res.destroy(err as Error)
    }
  }

  private route(req: IncomingMessage, res: ServerResponse, rawPath: string, query: string, log: LanRequestLog): void {
    const isRead = req.method === 'GET' || req.method === 'HEAD'
    const channel = feedPathChannel(rawPath)
    if (channel !== null) {
      log.kind = 'feed'
      if (!this.queryKeyOk(query)) return notFound(res)
      if (!isRead) return methodNotAllowed(res)
      return this.serveFeed(req, res, channel)
    }
    const torrentHash = torrentPathInfoHash(rawPath)
    if (torrentHash) {
      log.kind = 'torrent'
      log.infoHash = torrentHash
      if (!this.queryKeyOk(query)) return notFound(res)
      const release = this.findRelease(torrentHash)
      if (!release) return notFound(res)
      if (!isRead) return methodNotAllowed(res)
      return serveTorrent(req, res, release)
    }
    if (rawPath.startsWith(LAN_PATHS.webSeed)) {
      log.kind = 'webseed'
      const segments = rawPath.slice(LAN_PATHS.webSeed.length).split('/')
      const key = this.options.feedKey()
      if (key) {
        const given = segments.shift() ?? ''
        log.path = `${LAN_PATHS.webSeed}${segments.join('/')}`
        if (!secretMatches(decodeSegment(given), key)) return notFound(res)
      }
      const infoHash = segments.shift() ?? ''
      const release = this.findRelease(infoHash)
      if (!release) return notFound(res)
      log.infoHash = infoHash
      const target = this.webSeed.target(req, release, segments)
      if (!target) return notFound(res)
      const gate = this.options.webSeedGate
      if (!gate) return this.webSeed.serveTarget(req, res, release, target)
      void gate.decide(infoHash, log.ip, () => res.destroyed, target.span).then((verdict) => {
        if (verdict === 'serve') {
          // Whole only if the file went out: a file changed since publishing gets a 404 instead.
          res.once('close', () => gate.ended(infoHash, log.ip, target.span, res.writableFinished && res.statusCode < 300))
          return this.webSeed.serveTarget(req, res, release, target)
        }
        if (verdict === 'gone') return
        res.setHeader('Retry-After', String(WEB_SEED_RETRY_S))
        sendText(res, 503, 'This server gets the release over BitTorrent from the publisher; the web seed serves only servers BitTorrent does not reach.\n')
      })
      return
    }
    notFound(res)
  }

  private queryKeyOk(query: string): boolean {
    const key = this.options.feedKey()
    if (!key) return true
    let given: string | null = null
    try {
      given = new URLSearchParams(query).get('key')
    } catch {
      return false
    }
    return secretMatches(given, key)
  }

  private findRelease(infoHash: string): PublishedRelease | undefined {
    return this.options.releases().find((r) => r.infoHash === infoHash)
  }

  private feedItems(releases: PublishedRelease[]): FeedItem[] {
    return releases.map((r) => ({
      infoHash: r.infoHash,
      title: r.title,
      publishedAt: r.publishedAt,
      torrentUrl: this.urls.torrent(r.infoHash),
      torrentLength: r.torrent().length,
      magnet: r.magnet,
      totalSize: r.totalSize,
      fileName: r.name,
    }))
  }

  /** A channel with nothing published yet is an empty feed, so servers can subscribe ahead of its first release. */
  private serveFeed(req: IncomingMessage, res: ServerResponse, channel: string): void {
    const items = this.feedItems(this.options.releases().filter((r) => r.channel === channel))
    const signature = feedSignature(items)
    const build = this.build(channel)
    if (build.signature !== null && signature !== build.signature) this.bumpLastBuild(build)
    build.signature = signature
    const title = this.options.feedTitle ?? 'Swarmdrop releases'
    const body = Buffer.from(
      buildFeed({
        title: channel === DEFAULT_CHANNEL ? title : `${title}: ${channel}`,
        feedUrl: this.urls.feed(channel),
        siteUrl: `${this.urls.base()}/`,
        items,
        lastBuildDate: new Date(build.lastBuild),
        ttlMinutes: this.options.feedTtlMinutes,
      }),
    )
    res.statusCode = 200
    res.setHeader('Content-Type', 'application/rss+xml; charset=utf-8')
    res.setHeader('Content-Length', body.length)
    res.setHeader('Last-Modified', new Date(build.lastBuild).toUTCString())
    res.setHeader('Cache-Control', 'no-cache')
    res.end(req.method === 'HEAD' ? undefined : body)
  }
}

function serveTorrent(req: IncomingMessage, res: ServerResponse, release: PublishedRelease): void {
  const body = release.torrent()
  const fileName = `${release.name}.torrent`
  res.statusCode = 200
  res.setHeader('Content-Type', 'application/x-bittorrent')
  res.setHeader('Content-Length', body.length)
  res.setHeader('Content-Disposition', `attachment; filename="${asciiFallback(fileName)}"; filename*=UTF-8''${encodeRfc5987(fileName)}`)
  // The announce address inside may change (DHCP, settings): never cache it for long.
  res.setHeader('Cache-Control', 'no-cache')
  res.end(req.method === 'HEAD' ? undefined : body)
}

function feedSignature(items: FeedItem[]): string {
  return JSON.stringify(items)
}

/** Counts body bytes as they are handed to the socket (headers excluded). */
function countBodyBytes(res: ServerResponse, add: (n: number) => void): void {
  const write = res.write.bind(res) as (...args: unknown[]) => boolean
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
  const measure = (chunk: unknown) => {
    if (typeof chunk === 'string') add(Buffer.byteLength(chunk))
    else if (chunk instanceof Uint8Array) add(chunk.length)
  }
  res.write = ((...args: unknown[]) => {
    measure(args[0])
    return write(...args)
  }) as ServerResponse['write']
  res.end = ((...args: unknown[]) => {
    if (typeof args[0] !== 'function' && res.req.method !== 'HEAD') measure(args[0])
    return end(...args)
  }) as ServerResponse['end']
}

function wholeSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000
}

function asciiFallback(name: string): string {
  return name.replace(/[^\x20-\x7e]|["\\]/g, '_')
}

function encodeRfc5987(name: string): string {
  return encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}
