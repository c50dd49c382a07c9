/**
 * The LAN surface on ONE TCP port: the RSS feed, the .torrent files, the BEP 19 web seed and the
 * HTTP tracker; the UDP tracker listens on the same number. Everything it serves is derived from
 * `releases()` on each request, so a retired release disappears from every route at once.
 *
 * Routes (all GET; HEAD too for feed, torrents and web seed):
 *   /feed.xml[?key=K]                        RSS 2.0 (feed.ts), application/rss+xml
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
 * Extensions to the agreed interface: `feedTtlMinutes` option; `webSeedPrefix` is not exposed;
 * `lastBuildDate` is readable; 'request' logs also carry `range` (the Range header, or null).
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash, timingSafeEqual } from 'node:crypto'
import { EventEmitter } from 'node:events'
import path from 'node:path'
import { pipeline } from 'node:stream'
import { SwarmdropError } from '../../shared/errors.js'
import { buildFeed, type FeedItem } from './feed.js'
import type { Tracker } from './tracker.js'

export interface PublishedRelease {
  infoHash: string
  /** Unique feed title. */
  title: string
  publishedAt: Date
  /** info.name: the top folder name, or the file name for a single file. */
  name: string
  isDirectory: boolean
  /** Paths inside the release, excluding `name`. A single file has one entry with path []. */
  files: { path: string[]; absPath: string; length: number }[]
  totalSize: number
  /** The .torrent, freshly encoded (current announce URLs and url-list). */
  torrent(): Buffer
  magnet: string
}

export type LanRequestKind = 'feed' | 'torrent' | 'webseed' | 'announce' | 'other'

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
  /** 0 picks a free port (tests). */
  port: number
  /** Default '0.0.0.0'. */
  host?: string
  /** e.g. 'http://192.168.1.20:7070', from the current address and port. */
  baseUrl(): string
  feedKey(): string | null
  /** Published and not retired, newest first. */
  releases(): PublishedRelease[]
  tracker: Tracker
  feedTitle?: string
  feedTtlMinutes?: number
}

export interface LanServerEvents {
  request: [LanRequestLog]
}

const NOT_FOUND = 'Not found\n'
const INFO_HASH_RE = /^[0-9a-f]{40}$/

export class LanServer extends EventEmitter<LanServerEvents> {
  private readonly options: LanServerOptions
  private readonly server: http.Server
  private boundPort: number | null = null
  private lastBuild = wholeSecond(Date.now())
  private lastFeedSignature: string | null = null
  /** Per release, its files by full path (name + path); rebuilt when the release's file list changes. */
  private readonly fileIndex = new Map<string, { files: PublishedRelease['files']; byPath: Map<string, PublishedRelease['files'][number]> }>()

  constructor(options: LanServerOptions) {
    super()
    this.options = options
    this.server = http.createServer((req, res) => this.onRequest(req, res))
    // A garbage request line must never take the server down.
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      else socket.destroy()
    })
  }

  get port(): number {
    return this.boundPort ?? this.options.port
  }

  get lastBuildDate(): Date {
    return new Date(this.lastBuild)
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

  feedUrl(): string {
    return `${this.base()}/feed.xml${this.keyQuery()}`
  }

  torrentUrl(infoHash: string): string {
    return `${this.base()}/torrents/${infoHash}.torrent${this.keyQuery()}`
  }

  /** The url-list entry for the .torrent. Ends in '/', so clients append `<name>[/<path>]`. */
  webSeedUrl(infoHash: string): string {
    const key = this.options.feedKey()
    return `${this.base()}/webseed/${key ? `${encodeURIComponent(key)}/` : ''}${infoHash}/`
  }

  /** The item list changed: move lastBuildDate forward now, whatever the next render shows. */
  releasesChanged(): void {
    this.bumpLastBuild()
    this.lastFeedSignature = feedSignature(this.feedItems(this.options.releases()))
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
        if (err.code === 'EADDRINUSE') {
          reject(new SwarmdropError('PORT_IN_USE', `HTTP port ${port} is already in use by another program. Stop it or pick another port with --http-port.`, { cause: err }))
        } else if (err.code === 'EACCES') {
          reject(new SwarmdropError('PORT_IN_USE', `HTTP port ${port} needs administrator rights on this system. Pick a port above 1023 with --http-port.`, { cause: err }))
        } else if (err.code === 'EADDRNOTAVAIL') {
          reject(new SwarmdropError('INVALID_ARGUMENT', `Cannot listen on ${host}:${port}: ${host} is not an address of this machine. Use 0.0.0.0 or one of its addresses.`, { cause: err }))
        } else {
          reject(new SwarmdropError('INTERNAL', `Cannot listen on ${host}:${port}: ${err.message}`, { cause: err }))
        }
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

  private base(): string {
    return this.options.baseUrl().replace(/\/+$/, '')
  }

  private keyQuery(): string {
    const key = this.options.feedKey()
    return key ? `?key=${encodeURIComponent(key)}` : ''
  }

  private bumpLastBuild(): void {
    this.lastBuild = Math.max(wholeSecond(Date.now()), this.lastBuild + 1000)
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = Date.now()
    const rawUrl = req.url ?? ''
    const queryAt = rawUrl.indexOf('?')
    const rawPath = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt)
    const query = queryAt < 0 ? '' : rawUrl.slice(queryAt + 1)
    const log: LanRequestLog = {
      at: started,
      ip: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
      method: req.method ?? '',
      path: rawPath,
      kind: 'other',
      infoHash: null,
      status: 0,
      bytes: 0,
      userAgent: req.headers['user-agent'] ?? null,
      range: typeof req.headers.range === 'string' ? req.headers.range : null,
    }
    countBodyBytes(res, (n) => (log.bytes += n))
    res.on('close', () => {
      log.status = res.statusCode
      this.emit('request', log)
    })
    res.setHeader('X-Content-Type-Options', 'nosniff')
    try {
      this.route(req, res, rawPath, query, log)
    } catch (err) {
      // A bug in one request must not take the LAN surface down for every server.
      if (!res.headersSent) sendText(res, 500, 'Internal error\n')
      else res.destroy(err as Error)
    }
  }

  private route(req: IncomingMessage, res: ServerResponse, rawPath: string, query: string, log: LanRequestLog): void {
    if (rawPath === '/announce' || rawPath === '/scrape') {
      log.kind = 'announce'
      log.infoHash = announcedInfoHash(query)
      this.options.tracker.handleHttp(req, res)
      return
    }
    const isRead = req.method === 'GET' || req.method === 'HEAD'
    if (rawPath === '/feed.xml') {
      log.kind = 'feed'
      if (!this.queryKeyOk(query)) return notFound(res)
      if (!isRead) return methodNotAllowed(res)
      return this.serveFeed(req, res)
    }
    const torrent = /^\/torrents\/([0-9a-f]{40})\.torrent$/.exec(rawPath)
    if (torrent) {
      log.kind = 'torrent'
      log.infoHash = torrent[1] ?? null
      if (!this.queryKeyOk(query)) return notFound(res)
      const release = this.findRelease(log.infoHash)
      if (!release) return notFound(res)
      if (!isRead) return methodNotAllowed(res)
      return serveTorrent(req, res, release)
    }
    if (rawPath.startsWith('/webseed/')) {
      log.kind = 'webseed'
      const segments = rawPath.split('/').slice(2)
      const key = this.options.feedKey()
      if (key) {
        const given = segments.shift() ?? ''
        log.path = ['/webseed', ...segments].join('/')
        if (!keyMatches(decodeSegment(given), key)) return notFound(res)
      }
      const infoHash = segments.shift() ?? ''
      if (!INFO_HASH_RE.test(infoHash)) return notFound(res)
      log.infoHash = infoHash
      const release = this.findRelease(infoHash)
      if (!release) return notFound(res)
      const file = this.findFile(release, segments)
      if (!file) return notFound(res)
      if (!isRead) return methodNotAllowed(res)
      void serveFile(req, res, file)
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
    return keyMatches(given, key)
  }

  private findRelease(infoHash: string | null): PublishedRelease | undefined {
    if (!infoHash) return undefined
    return this.options.releases().find((r) => r.infoHash === infoHash)
  }

  /** Exactly one of the release's files, or nothing: there is no path arithmetic to escape from. */
  private findFile(release: PublishedRelease, rawSegments: string[]): PublishedRelease['files'][number] | undefined {
    const segments: string[] = []
    for (const raw of rawSegments) {
      const segment = decodeSegment(raw)
      if (segment === null || !isPlainSegment(segment)) return undefined
      segments.push(segment)
    }
    let index = this.fileIndex.get(release.infoHash)
    if (!index || index.files !== release.files) {
      const byPath = new Map<string, PublishedRelease['files'][number]>()
      for (const f of release.files) byPath.set([release.name, ...f.path].join('\u0000'), f)
      index = { files: release.files, byPath }
      this.fileIndex.set(release.infoHash, index)
    }
    // Releases come and go; drop indexes of releases no longer published, lazily.
    if (this.fileIndex.size > 64) this.fileIndex.clear()
    return index.byPath.get(segments.join('\u0000'))
  }

  private feedItems(releases: PublishedRelease[]): FeedItem[] {
    return releases.map((r) => ({
      infoHash: r.infoHash,
      title: r.title,
      publishedAt: r.publishedAt,
      torrentUrl: this.torrentUrl(r.infoHash),
      torrentLength: r.torrent().length,
      magnet: r.magnet,
      totalSize: r.totalSize,
      fileName: r.name,
    }))
  }

  private serveFeed(req: IncomingMessage, res: ServerResponse): void {
    const items = this.feedItems(this.options.releases())
    const signature = feedSignature(items)
    if (this.lastFeedSignature !== null && signature !== this.lastFeedSignature) this.bumpLastBuild()
    this.lastFeedSignature = signature
    const body = Buffer.from(
      buildFeed({
        title: this.options.feedTitle ?? 'Swarmdrop releases',
        feedUrl: this.feedUrl(),
        siteUrl: `${this.base()}/`,
        items,
        lastBuildDate: new Date(this.lastBuild),
        ttlMinutes: this.options.feedTtlMinutes,
      }),
    )
    res.statusCode = 200
    res.setHeader('Content-Type', 'application/rss+xml; charset=utf-8')
    res.setHeader('Content-Length', body.length)
    res.setHeader('Last-Modified', new Date(this.lastBuild).toUTCString())
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

async function serveFile(req: IncomingMessage, res: ServerResponse, file: PublishedRelease['files'][number]): Promise<void> {
  let info
  try {
    info = await stat(file.absPath)
  } catch {
    return notFound(res)
  }
  // A source file that changed size since publishing would feed clients wrong data.
  if (!info.isFile() || info.size !== file.length) return notFound(res)
  const size = file.length
  res.setHeader('Accept-Ranges', 'bytes')
  res.setHeader('Content-Type', contentTypeOf(file.absPath))
  res.setHeader('Last-Modified', info.mtime.toUTCString())
  const range = parseRange(req.headers.range, size)
  if (range === 'unsatisfiable') {
    res.statusCode = 416
    res.setHeader('Content-Range', `bytes */${size}`)
    res.setHeader('Content-Type', 'text/plain; charset=utf-8')
    const body = 'Requested range not satisfiable\n'
    res.setHeader('Content-Length', Buffer.byteLength(body))
    res.end(req.method === 'HEAD' ? undefined : body)
    return
  }
  const start = range ? range.start : 0
  const end = range ? range.end : size - 1
  res.statusCode = range ? 206 : 200
  if (range) res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`)
  res.setHeader('Content-Length', end - start + 1)
  if (req.method === 'HEAD' || size === 0) {
    res.end()
    return
  }
  // 1 MiB reads instead of the 64 KiB default: 256 MiB over loopback went from ~500 to ~950 MB/s.
  pipeline(createReadStream(file.absPath, { start, end, highWaterMark: 1 << 20 }), res, () => {
    // Errors here are a client that went away or a file that vanished mid-read: the socket is
    // already torn down by pipeline, and the request log records what was sent.
  })
}

/**
 * One `bytes=` range. null = serve the whole file (no Range, several ranges or a malformed one:
 * RFC 9110 lets a server ignore those). 'unsatisfiable' = 416.
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m) return null
  const [, from = '', to = ''] = m
  if (from === '' && to === '') return null
  if (from === '') {
    const suffix = Number(to)
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(from)
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1)
  if (to !== '' && Number(to) < start) return null
  if (start >= size) return 'unsatisfiable'
  return { start, end }
}

const CONTENT_TYPES: Record<string, string> = {
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.sh': 'application/x-sh',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.bz2': 'application/x-bzip2',
  '.xz': 'application/x-xz',
  '.zst': 'application/zstd',
  '.tar': 'application/x-tar',
  '.7z': 'application/x-7z-compressed',
  '.deb': 'application/vnd.debian.binary-package',
  '.rpm': 'application/x-rpm',
  '.iso': 'application/x-iso9660-image',
  '.img': 'application/octet-stream',
  '.qcow2': 'application/octet-stream',
  '.exe': 'application/vnd.microsoft.portable-executable',
  '.msi': 'application/x-msi',
  '.torrent': 'application/x-bittorrent',
  '.mp4': 'video/mp4',
  '.mkv': 'video/x-matroska',
  '.mp3': 'audio/mpeg',
  '.wasm': 'application/wasm',
}

export function contentTypeOf(fileName: string): string {
  return CONTENT_TYPES[path.extname(fileName).toLowerCase()] ?? 'application/octet-stream'
}

function decodeSegment(raw: string): string | null {
  try {
    return decodeURIComponent(raw)
  } catch {
    return null
  }
}

/** One path component that cannot mean anything but itself on any OS. */
function isPlainSegment(segment: string): boolean {
  return segment !== '' && segment !== '.' && segment !== '..' && !segment.includes('/') && !segment.includes('\\') && !segment.includes('\u0000')
}

function keyMatches(given: string | null, key: string): boolean {
  if (given === null) return false
  // Hash both, so the comparison takes the same time whatever the lengths.
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(key).digest()
  return timingSafeEqual(a, b)
}

function announcedInfoHash(query: string): string | null {
  const m = /(?:^|&)info_hash=([^&]*)/.exec(query)
  if (!m?.[1]) return null
  try {
    const bytes = Buffer.from(unescape(m[1]), 'latin1')
    return bytes.length === 20 ? bytes.toString('hex') : null
  } catch {
    return null
  }
}

function feedSignature(items: FeedItem[]): string {
  return JSON.stringify(items)
}

function notFound(res: ServerResponse): void {
  sendText(res, 404, NOT_FOUND)
}

function methodNotAllowed(res: ServerResponse): void {
  res.setHeader('Allow', 'GET, HEAD')
  sendText(res, 405, 'Method not allowed\n')
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(text))
  res.end(res.req.method === 'HEAD' ? undefined : text)
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
