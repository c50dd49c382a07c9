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
 * one-line failure reasons for malformed HTTP and UDP announces (the library drops malformed UDP
 * packets without a reply, and hands some malformed HTTP ones its internal peer records); real
 * BEP 15 connection ids; and a typed 'announce' event.
 *
 * UDP connection ids. BEP 15's connect step exists so that a tracker only acts on announces from
 * an address that has just proved it can receive packets there: UDP source addresses are trivially
 * spoofed, and every announce the tracker accepts both enters the swarm and makes the engine dial
 * the peer. The library hands out the protocol's public constant 0x41727101980 as the connection
 * id and accepts it back, which makes the handshake void. So we answer connect requests ourselves
 * with HMAC-SHA256(per-instance random secret, ip|port|minute) cut to 64 bits: unguessable without
 * the secret, bound to the exact source IP and port, valid for the current and the previous
 * minute (BEP 15's "a client may use it for one minute, a tracker accepts it for two"), and
 * stateless, so a flood of connects costs no memory and there is no table to exhaust or expire.
 * Announces and scrapes with any other id, including the constant itself, get an error naming the
 * cure and never reach the swarm. A restart draws a new secret; clients then simply reconnect.
 * Refusals are answered, not dropped, so a client with an expired id learns why at once. The reply
 * is a fixed error of under 100 bytes with no peer data: a spoofer can bounce only that at a victim,
 * at most a few times the size of the request, never a peer list.
 *
 * Peer identity is always the packet's source: BEP 15's optional IP address field is ignored (it
 * would let anyone register another host as a peer, and the engine would dial it), as is HTTP's
 * `ip` parameter (the library already ignores it).
 *
 * Its surface beyond announcing: `closeUdp()` (LanServer.close() stops only the UDP half it
 * started, so the tracker's swarms survive a port change); `close()` is idempotent; `udpPort`
 * (null unless UDP is listening) and `intervalSeconds` are readable; a 'warning' event reports
 * client mistakes (never fatal); `clientPrefix()` and `UNKNOWN_TORRENT` are exported.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import dgram from 'node:dgram'
import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Server as TrackerServer } from 'bittorrent-tracker'
import { SwarmdropError } from '../../shared/errors.js'
import { listenError } from './listen-error.js'

/** Peers kept per swarm before the oldest are dropped. */
export const MAX_PEERS_PER_SWARM = 100_000

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
/** Bytes 84..87 of an announce: the optional IP address field, which we never honour. */
const UDP_ANNOUNCE_IP_OFFSET = 84
const CONNECTION_ID_BUCKET_MS = 60_000
export const UDP_CONNECTION_ID_REFUSED = 'connection id expired or not issued to this address; send a connect request first'
/** numwant is a 32-bit field in BEP 15; anything past that is garbage, not a large wish. */
const MAX_NUMWANT = 0xffffffff
/** HTTP announce parameters that a client must send at most once. */
const SINGLE_VALUED = new Set(['info_hash', 'peer_id', 'port', 'left', 'uploaded', 'downloaded', 'compact', 'numwant', 'event', 'ip', 'key', 'trackerid'])

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
  /** Set by LanSwarm once the swarm took the announce. */
  accepted?: boolean
}
type LibCallback = (err: Error | null, response?: Record<string, unknown>) => void
interface LibServer extends EventEmitter {
  intervalMs: number
  torrents: Record<string, LibSwarm | undefined>
  udp4: dgram.Socket | null
  udp6: dgram.Socket | null
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
  private readonly connectionIds = new ConnectionIds()
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
        // The library replies through udp4 or udp6 by the sender's family. One socket sees only
        // one family (a dual-stack udp6 socket reports IPv4 senders as ::ffff: IPv6), so pointing
        // both at it is safe, and without udp6 an IPv6 sender would never get a reply.
        this.server.udp4 = socket
        this.server.udp6 = socket
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
    this.server.udp6 = null
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
    // The library closes its udp4/udp6 (our socket) too; take it back so it is closed exactly once.
    const udp = this.closeUdp()
    return Promise.all([udp, new Promise<void>((resolve) => this.server.close(() => resolve()))]).then(() => undefined)
  }

  private effectiveMinInterval(): number {
    const interval = this.server.intervalMs / 1000
    return Math.min(this.minIntervalSeconds ?? 10, interval)
  }

  private onLibAnnounce(libEvent: string, params: LibParams): void {
    const event = LIB_EVENT[libEvent]
    // The library emits refused announces too (an unknown torrent, say): those never happened.
    if (!event || !params.accepted || typeof params.info_hash !== 'string') return
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
    const connectionId = msg.subarray(0, 8)
    const action = msg.readUInt32BE(8)
    const transactionId = msg.readUInt32BE(12)
    if (action === UDP_ACTION_CONNECT) {
      if (!connectionId.equals(UDP_PROTOCOL_ID)) return this.failUdp(rinfo, transactionId, 'invalid connection id: a connect request carries the BEP 15 protocol id 0x41727101980')
      this.udpSocket?.send(Buffer.concat([u32(UDP_ACTION_CONNECT), u32(transactionId), this.connectionIds.issue(rinfo.address, rinfo.port)]), rinfo.port, rinfo.address)
      return
    }
    if (action !== UDP_ACTION_ANNOUNCE && action !== UDP_ACTION_SCRAPE) return this.failUdp(rinfo, transactionId, `unknown action ${action}`)
    // Checked before anything else, so an unproven address learns nothing but how to connect.
    if (!this.connectionIds.verify(connectionId, rinfo.address, rinfo.port)) return this.failUdp(rinfo, transactionId, UDP_CONNECTION_ID_REFUSED)
    let problem: string | null = null
    if (action === UDP_ACTION_ANNOUNCE && msg.length < UDP_ANNOUNCE_LENGTH) problem = `malformed announce: ${msg.length} bytes, BEP 15 needs ${UDP_ANNOUNCE_LENGTH}`
    else if (action === UDP_ACTION_ANNOUNCE && msg.readUInt32BE(80) > 4) problem = `malformed announce: unknown event ${msg.readUInt32BE(80)}`
    else if (action === UDP_ACTION_SCRAPE && (msg.length === 16 || (msg.length - 16) % 20 !== 0)) problem = 'malformed scrape: expected one or more 20-byte info-hashes'
    if (problem) return this.failUdp(rinfo, transactionId, problem)
    // The library only knows the constant as a connection id; it has been verified above. It also
    // reads the IP field as the peer's address (and turns it into garbage): zero it, so the peer
    // is the address the packet came from.
    const forLib = Buffer.from(msg)
    UDP_PROTOCOL_ID.copy(forLib, 0)
    if (action === UDP_ACTION_ANNOUNCE) forLib.writeUInt32BE(0, UDP_ANNOUNCE_IP_OFFSET)
    this.server.onUdpRequest(forLib, rinfo)
  }

  private failUdp(rinfo: dgram.RemoteInfo, transactionId: number, problem: string): void {
    this.udpSocket?.send(Buffer.concat([u32(UDP_ACTION_ERROR), u32(transactionId), Buffer.from(problem)]), rinfo.port, rinfo.address)
    this.emit('warning', new Error(`UDP tracker: ${problem} from ${rinfo.address}:${rinfo.port}`))
  }
}

/** BEP 15 connection ids: stateless, per instance, bound to ip|port and the minute (see the top). */
class ConnectionIds {
  private readonly secret = randomBytes(32)

  issue(address: string, port: number): Buffer {
    return this.id(address, port, Math.floor(Date.now() / CONNECTION_ID_BUCKET_MS))
  }

  verify(connectionId: Buffer, address: string, port: number): boolean {
    // Never the constant, not even if an HMAC should ever come out equal to it.
    if (connectionId.length !== 8 || connectionId.equals(UDP_PROTOCOL_ID)) return false
    const bucket = Math.floor(Date.now() / CONNECTION_ID_BUCKET_MS)
    return [bucket, bucket - 1].some((b) => timingSafeEqual(connectionId, this.id(address, port, b)))
  }

  private id(address: string, port: number, bucket: number): Buffer {
    return createHmac('sha256', this.secret).update(`${address}|${port}|${bucket}`).digest().subarray(0, 8)
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
        if (!err) params.accepted = true
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
    // The library keeps 1,000 peers per swarm by default and evicts the rest as if they had
    // stopped: a fleet of 2,000 would show half its servers as gone. Sized for any LAN fleet.
    peersCacheLength: MAX_PEERS_PER_SWARM,
    filter: (infoHash: string, _params: unknown, cb: (err: Error | null) => void) => {
      if (isAllowed(infoHash)) return cb(null)
      // A retired release's swarm goes too: the library never prunes swarms.
      delete (server as LibServer).torrents[infoHash]
      cb(new Error(UNKNOWN_TORRENT))
    },
  }) as LibServer & {
    createSwarm(infoHash: string, cb: (err: Error | null, swarm: object) => void): void
    _onScrape(params: LibParams, cb: LibCallback): void
    _onAnnounce(params: LibParams & { compact?: number }, cb: LibCallback): void
  }
  server.createSwarm = (infoHash, cb) => {
    process.nextTick(() => {
      const swarm = new LanSwarm(infoHash, server)
      server.torrents[infoHash] = swarm as unknown as LibSwarm
      cb(null, swarm)
    })
  }
  const libAnnounce = server._onAnnounce.bind(server)
  server._onAnnounce = (params, cb) => {
    // Any compact value but 0 or 1 makes the library answer with its raw peer records (meant for
    // its WebSocket server, which is off). announceProblem already refuses those; this is the
    // backstop, so a path that skips it can never leak them.
    if (params.compact !== 0 && params.compact !== 1) params.compact = 1
    libAnnounce(params, cb)
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

/**
 * Checks an HTTP announce query so the client gets a precise one-line failure reason, and the
 * library only ever sees values it handles: it throws on some bad fields, silently misreads others
 * (a repeated field becomes an array), and answers any compact other than 0 or 1 with its internal
 * peer records. compact must be 0 or 1 (absent means 0, BEP 3's dictionary form); we refuse other
 * values rather than guess, since no real client sends them. numwant above what we ever return is
 * a wish and is capped; only a value that is not a 32-bit unsigned integer is refused.
 */
function announceProblem(query: string): string | null {
  const fields = new Map<string, Buffer>()
  for (const part of query.split('&')) {
    if (!part) continue
    const eq = part.indexOf('=')
    const rawName = eq < 0 ? part : part.slice(0, eq)
    // Names are decoded as the library decodes them, so `compac%74` cannot slip a second compact past us.
    const name = percentDecode(rawName)?.toString('latin1')
    if (name === undefined) return `invalid announce: ${printable(rawName)} is not correctly percent-encoded`
    const value = eq < 0 ? '' : part.slice(eq + 1)
    const bytes = percentDecode(value)
    if (!bytes) return `invalid announce: ${printable(name)} is not correctly percent-encoded`
    if (fields.has(name)) {
      if (SINGLE_VALUED.has(name)) return `invalid announce: ${name} is given more than once`
      continue
    }
    fields.set(name, bytes)
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
  const compact = fields.get('compact')?.toString('latin1')
  if (compact !== undefined && compact !== '0' && compact !== '1') return 'invalid announce: compact must be 0 or 1'
  const numwant = fields.get('numwant')?.toString('latin1')
  if (numwant !== undefined && (!/^\d{1,10}$/.test(numwant) || Number(numwant) > MAX_NUMWANT)) return `invalid announce: numwant must be an integer from 0 to ${MAX_NUMWANT}`
  const event = fields.get('event')?.toString('latin1')
  if (event !== undefined && !['', 'started', 'completed', 'stopped', 'empty', 'paused'].includes(event)) return `invalid announce: unknown event "${printable(event)}"`
  return null
}

/** Client text echoed in a failure reason: one line, bounded, nothing a terminal would act on. */
function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?')
  return clean.length > 40 ? `${clean.slice(0, 40)}...` : clean
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
