/**
 * The LAN tracker: the only module that imports 'bittorrent-tracker'.
 *
 * bittorrent-tracker runs with its own HTTP, WebSocket and /stats servers switched off. Its HTTP
 * handler is mounted by LanServer on the shared HTTP port, and its UDP handler is fed from a
 * socket we bind ourselves on the same port number. Binding ourselves avoids the library's
 * udp6-on-an-IPv4-host `bind EINVAL` and its `reuseAddr: true`, which would let a second instance
 * silently share the port instead of failing with PORT_IN_USE.
 *
 * On top of the library this adapter adds: a whitelist (the published info-hashes) that also
 * applies to scrapes, including the "scrape everything" form; a `min interval`; peer lists that
 * never contain the announcing peer itself (the seeder must never be told to dial itself); clear
 * failure reasons for malformed HTTP and UDP announces (the library drops malformed UDP packets
 * without a reply); and a typed 'announce' event.
 *
 * Its surface beyond announcing: `closeUdp()` (LanServer.close() stops only the UDP half it
 * started, so the tracker's swarms survive a port change); `close()` is idempotent; `udpPort`
 * (null unless UDP is listening) and `intervalSeconds` are readable; a 'warning' event reports
 * client mistakes (never fatal); `clientPrefix()` and `UNKNOWN_TORRENT` are exported.
 */
import dgram from 'node:dgram'
import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Server as TrackerServer } from 'bittorrent-tracker'
import { SwarmdropError } from '../../shared/errors.js'
import { listenError } from './listen-error.js'

export interface AnnounceEvent {
  infoHash: string
  ip: string
  port: number
  /** 40 hex characters. */
  peerId: string
  /** The first 8 bytes of the peer id as printable text, e.g. "-qB4520-" (non-printables as "."). */
  clientPrefix: string
  event: 'started' | 'completed' | 'stopped' | 'update'
  left: number
  downloaded: number
  uploaded: number
  protocol: 'http' | 'udp'
  at: number
}

export interface TrackerOptions {
  /** Announce interval handed to clients. Default 30 s: LAN-friendly, so progress stays fresh. */
  intervalSeconds?: number
  /** Default: the smaller of 10 s and the interval. */
  minIntervalSeconds?: number
  isAllowed: (infoHash: string) => boolean
}

export interface TrackerPeer {
  ip: string
  port: number
  peerId: string
  left: number
  complete: boolean
}

export const UNKNOWN_TORRENT = 'unknown torrent: this tracker only serves releases published by Swarmdrop'

// BEP 15 constants.
const UDP_PROTOCOL_ID = Buffer.from('0000041727101980', 'hex')
const UDP_ACTION_CONNECT = 0
const UDP_ACTION_ANNOUNCE = 1
const UDP_ACTION_SCRAPE = 2
const UDP_ACTION_ERROR = 3
const UDP_ANNOUNCE_LENGTH = 98

/** The parts of bittorrent-tracker's Server this adapter uses (it ships no types). */
interface LibPeer {
  ip: string
  port: number
  peerId: string
  complete: boolean
  type: string
  /** Added by LanSwarm: the last `left` the peer reported (the library keeps only `complete`). */
  left?: number
}
interface LibSwarm {
  peers: { keys: string[]; peek(key: string): LibPeer | undefined }
}
interface LibSwarmInternals extends LibSwarm {
  announce(params: LibParams, cb?: LibCallback): void
  _getPeers(numwant: number, ownPeerId: string, isWebRTC: boolean): LibPeer[]
}
interface LibParams {
  info_hash: string | string[] | null | undefined
  peer_id: string
  ip: string
  port: number
  left: number
  downloaded?: string | number
  uploaded?: string | number
  type: string
  event: string
}
type LibCallback = (err: Error | null, response?: Record<string, unknown>) => void
interface LibServer extends EventEmitter {
  intervalMs: number
  torrents: Record<string, LibSwarm | undefined>
  udp4: dgram.Socket | null
  destroyed: boolean
  onHttpRequest(req: IncomingMessage, res: ServerResponse, opts: { action: 'announce' | 'scrape' }): void
  onUdpRequest(msg: Buffer, rinfo: dgram.RemoteInfo): void
  close(cb?: () => void): void
}

const LIB_EVENT: Record<string, AnnounceEvent['event']> = {
  start: 'started',
  complete: 'completed',
  stop: 'stopped',
  update: 'update',
  // A BEP 15 "paused" announce is still an announce from a live peer.
  pause: 'update',
}

export interface TrackerEvents {
  announce: [AnnounceEvent]
  /** A client sent something malformed or unknown; it got a failure reason. Never fatal. */
  warning: [Error]
}

export class Tracker extends EventEmitter<TrackerEvents> {
  private readonly server: LibServer
  private readonly isAllowed: (infoHash: string) => boolean
  private minIntervalSeconds: number | null
  private udpSocket: dgram.Socket | null = null
  private closed = false
  udpPort: number | null = null

  constructor(options: TrackerOptions) {
    super()
    this.isAllowed = options.isAllowed
    this.minIntervalSeconds = options.minIntervalSeconds ?? null
    this.server = createLibServer({
      intervalMs: 1000 * checkInterval(options.intervalSeconds ?? 30),
      isAllowed: (infoHash) => this.isAllowed(infoHash),
      minIntervalSeconds: () => this.effectiveMinInterval(),
    })
    // Client mistakes are warnings, never crashes; the client already got a failure reason.
    this.server.on('warning', (err: Error) => this.emit('warning', err))
    this.server.on('error', (err: Error) => this.emit('warning', err))
    for (const name of Object.keys(LIB_EVENT)) {
      this.server.on(name, (_addr: string, params: LibParams) => this.onLibAnnounce(name, params))
    }
  }

  /** Handles GET /announce and GET /scrape. Anything else is the caller's business. */
  handleHttp(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8')
    res.setHeader('Cache-Control', 'no-store')
    const [pathname = '', query = ''] = (req.url ?? '').split('?', 2)
    const action = pathname === '/scrape' ? 'scrape' : 'announce'
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      failHttp(res, 405, `invalid ${action}: trackers only answer GET requests`)
      return
    }
    if (action === 'announce') {
      const problem = announceProblem(query)
      if (problem) {
        failHttp(res, 200, problem)
        return
      }
    }
    this.server.onHttpRequest(req, res, { action })
  }

  /** Starts the UDP tracker (BEP 15). Use the HTTP port's number, so one number serves both. */
  listenUdp(port: number, host: string): Promise<void> {
    if (this.udpSocket) return Promise.reject(new SwarmdropError('INTERNAL', 'The UDP tracker is already listening.'))
    const socket = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', reuseAddr: false })
    return new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        socket.close()
        // The UDP tracker has no flag of its own: it shares the HTTP port's number.
        reject(listenError(err, { label: 'UDP port', proto: 'UDP', host, port, flag: '--http-port (the UDP tracker uses the same number)' }))
      }
      socket.once('error', onError)
      socket.bind(port, host, () => {
        socket.off('error', onError)
        socket.on('error', (err) => this.emit('warning', err))
        socket.on('message', (msg, rinfo) => this.onUdpMessage(msg, rinfo))
        this.udpSocket = socket
        // The library replies through `this.udp4` (it picks udp4/udp6 by the sender's family; a
        // udp6 socket here would only ever see IPv6 senders, so pointing both at it is safe).
        this.server.udp4 = socket
        this.udpPort = socket.address().port
        resolve()
      })
    })
  }

  /**
   * Stops only the UDP half, so a LanServer can move to another port and call listenUdp again
   * while the swarms (and the engine's 'announce' listeners) live on.
   */
  closeUdp(): Promise<void> {
    const socket = this.udpSocket
    if (!socket) return Promise.resolve()
    this.udpSocket = null
    this.server.udp4 = null
    this.udpPort = null
    return new Promise((resolve) => socket.close(() => resolve()))
  }

  peers(infoHash: string): TrackerPeer[] {
    if (!this.isAllowed(infoHash)) return []
    const swarm = this.server.torrents[infoHash]
    if (!swarm) return []
    const out: TrackerPeer[] = []
    for (const key of swarm.peers.keys) {
      const peer = swarm.peers.peek(key)
      if (!peer) continue
      out.push({ ip: peer.ip, port: peer.port, peerId: peer.peerId, left: peer.left ?? (peer.complete ? 0 : -1), complete: peer.complete })
    }
    return out
  }

  setInterval(seconds: number): void {
    this.server.intervalMs = 1000 * checkInterval(seconds)
  }

  get intervalSeconds(): number {
    return this.server.intervalMs / 1000
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    // The library closes its udp4 (our socket) too; take it back so it is closed exactly once.
    const udp = this.closeUdp()
    return Promise.all([udp, new Promise<void>((resolve) => this.server.close(() => resolve()))]).then(() => undefined)
  }

  private effectiveMinInterval(): number {
    const interval = this.server.intervalMs / 1000
    return Math.min(this.minIntervalSeconds ?? 10, interval)
  }

  private onLibAnnounce(libEvent: string, params: LibParams): void {
    const event = LIB_EVENT[libEvent]
    if (!event || typeof params.info_hash !== 'string') return
    this.emit('announce', {
      infoHash: params.info_hash,
      ip: params.ip,
      port: params.port,
      peerId: params.peer_id,
      clientPrefix: clientPrefix(params.peer_id),
      event,
      left: Number.isFinite(params.left) ? params.left : -1,
      downloaded: toCount(params.downloaded),
      uploaded: toCount(params.uploaded),
      protocol: params.type === 'udp' ? 'udp' : 'http',
      at: Date.now(),
    })
  }

  private onUdpMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    // Too short to carry a transaction id: nothing to answer to.
    if (msg.length < 16) return
    const action = msg.readUInt32BE(8)
    const transactionId = msg.readUInt32BE(12)
    let problem: string | null = null
    if (!msg.subarray(0, 8).equals(UDP_PROTOCOL_ID)) problem = 'invalid connection id: connect first (BEP 15)'
    else if (action === UDP_ACTION_ANNOUNCE && msg.length < UDP_ANNOUNCE_LENGTH) problem = `malformed announce: ${msg.length} bytes, BEP 15 needs ${UDP_ANNOUNCE_LENGTH}`
    else if (action === UDP_ACTION_ANNOUNCE && msg.readUInt32BE(80) > 4) problem = `malformed announce: unknown event ${msg.readUInt32BE(80)}`
    else if (action === UDP_ACTION_SCRAPE && (msg.length === 16 || (msg.length - 16) % 20 !== 0)) problem = 'malformed scrape: expected one or more 20-byte info-hashes'
    else if (action !== UDP_ACTION_CONNECT && action !== UDP_ACTION_ANNOUNCE && action !== UDP_ACTION_SCRAPE) problem = `unknown action ${action}`
    if (problem) {
      const reply = Buffer.concat([u32(UDP_ACTION_ERROR), u32(transactionId), Buffer.from(problem)])
      this.udpSocket?.send(reply, rinfo.port, rinfo.address)
      this.emit('warning', new Error(`UDP tracker: ${problem} from ${rinfo.address}:${rinfo.port}`))
      return
    }
    this.server.onUdpRequest(msg, rinfo)
  }
}

function createLibServer(config: { intervalMs: number; isAllowed: (infoHash: string) => boolean; minIntervalSeconds: () => number }): LibServer {
  const { isAllowed } = config
  // bittorrent-tracker calls `new Server.Swarm(...)` in createSwarm; subclass it to drop the
  // announcing peer from its own peer list (the library only does that for WebRTC peers) and to
  // add BEP 3's `min interval`.
  const BaseSwarm = (TrackerServer as { Swarm: new (infoHash: string, server: unknown) => object }).Swarm
  const base = BaseSwarm.prototype as LibSwarmInternals
  class LanSwarm extends BaseSwarm {
    announce(params: LibParams & { addr: string }, cb?: LibCallback): void {
      base.announce.call(this, params, cb && ((err, response) => {
        // Keep `left` on the library's own peer record, so it is evicted together with the peer.
        const peer = (this as unknown as LibSwarm).peers.peek(params.addr)
        if (peer && Number.isFinite(params.left)) peer.left = params.left
        if (response) response['min interval'] = config.minIntervalSeconds()
        cb(err, response)
      }))
    }
    _getPeers(numwant: number, ownPeerId: string, isWebRTC: boolean): LibPeer[] {
      return base._getPeers.call(this, numwant + 1, ownPeerId, isWebRTC).filter((p) => p.peerId !== ownPeerId).slice(0, numwant)
    }
  }
  const server = new TrackerServer({
    http: false,
    udp: false,
    ws: false,
    stats: false,
    interval: config.intervalMs,
    filter: (infoHash: string, _params: unknown, cb: (err: Error | null) => void) => {
      if (isAllowed(infoHash)) return cb(null)
      // A retired release's swarm goes too: the library never prunes swarms.
      delete (server as LibServer).torrents[infoHash]
      cb(new Error(UNKNOWN_TORRENT))
    },
  }) as LibServer & {
    createSwarm(infoHash: string, cb: (err: Error | null, swarm: object) => void): void
    _onScrape(params: LibParams, cb: LibCallback): void
  }
  server.createSwarm = (infoHash, cb) => {
    process.nextTick(() => {
      const swarm = new LanSwarm(infoHash, server)
      server.torrents[infoHash] = swarm as unknown as LibSwarm
      cb(null, swarm)
    })
  }
  const libScrape = server._onScrape.bind(server)
  server._onScrape = (params, cb) => {
    // Without info_hash the library would list every swarm it knows.
    const hashes = Array.isArray(params.info_hash) ? params.info_hash : []
    if (hashes.length === 0) return cb(new Error('invalid scrape: info_hash is required'))
    if (!hashes.every((h) => isAllowed(h))) return cb(new Error(UNKNOWN_TORRENT))
    libScrape(params, cb)
  }
  return server
}

/** Checks an HTTP announce query so the client gets a precise failure reason. */
function announceProblem(query: string): string | null {
  const fields = new Map<string, Buffer>()
  for (const part of query.split('&')) {
    if (!part) continue
    const eq = part.indexOf('=')
    const name = eq < 0 ? part : part.slice(0, eq)
    const value = eq < 0 ? '' : part.slice(eq + 1)
    const bytes = percentDecode(value)
    if (!bytes) return `invalid announce: ${name} is not correctly percent-encoded`
    if (!fields.has(name)) fields.set(name, bytes)
  }
  const infoHash = fields.get('info_hash')
  if (!infoHash) return 'invalid announce: info_hash is missing'
  if (infoHash.length !== 20) return `invalid announce: info_hash must be 20 bytes, got ${infoHash.length}`
  const peerId = fields.get('peer_id')
  if (!peerId) return 'invalid announce: peer_id is missing'
  if (peerId.length !== 20) return `invalid announce: peer_id must be 20 bytes, got ${peerId.length}`
  const port = fields.get('port')?.toString('latin1')
  if (port === undefined || !/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return 'invalid announce: port must be a number from 1 to 65535'
  for (const name of ['left', 'uploaded', 'downloaded']) {
    const value = fields.get(name)?.toString('latin1')
    if (value !== undefined && !/^\d{1,20}$/.test(value)) return `invalid announce: ${name} must be a non-negative integer`
  }
  if (fields.get('left') === undefined) return 'invalid announce: left is missing'
  const event = fields.get('event')?.toString('latin1')
  if (event !== undefined && !['', 'started', 'completed', 'stopped', 'empty', 'paused'].includes(event)) return `invalid announce: unknown event "${event}"`
  return null
}

/** Percent-decoding to raw bytes: info_hash and peer_id are binary, not UTF-8. */
function percentDecode(value: string): Buffer | null {
  const out: number[] = []
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i)
    if (ch === 0x25) {
      const hex = value.slice(i + 1, i + 3)
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null
      out.push(parseInt(hex, 16))
      i += 2
    } else if (ch === 0x2b) {
      out.push(0x20)
    } else if (ch < 0x80) {
      out.push(ch)
    } else {
      out.push(...Buffer.from(value[i] ?? '', 'utf8'))
    }
  }
  return Buffer.from(out)
}

function failHttp(res: ServerResponse, status: number, reason: string): void {
  const body = Buffer.from(`d14:failure reason${Buffer.byteLength(reason)}:${reason}e`)
  res.statusCode = status
  res.setHeader('Content-Length', body.length)
  res.end(body)
}

export function clientPrefix(peerIdHex: string): string {
  return [...Buffer.from(peerIdHex, 'hex').subarray(0, 8)].map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.')).join('')
}

function checkInterval(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86400) {
    throw new SwarmdropError('INVALID_ARGUMENT', `Tracker interval ${seconds} is invalid: use whole seconds from 1 to 86400.`)
  }
  return seconds
}

function toCount(value: string | number | undefined): number {
  const n = Number(value ?? 0)
  return Number.isFinite(n) && n >= 0 ? n : 0
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n >>> 0)
  return b
}
