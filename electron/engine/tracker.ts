/**
 * The LAN tracker: the only module that imports 'bittorrent-tracker'.
 *
 * bittorrent-tracker runs with its own HTTP, WebSocket and /stats servers switched off. Its HTTP
 * handler is mounted by LanServer on the shared HTTP port, and its UDP handler is fed from a
 * socket we bind ourselves on the same port number. Binding ourselves avoids the library's
 * udp6-on-an-IPv4-host `bind EINVAL` and its `reuseAddr: true`, which would let a second instance
 * silently share the port instead of failing with PORT_IN_USE.
 *
 * The swarms are ours (swarm.ts), not the library's: its swarm listed every peer on each announce,
 * so a reply cost O(swarm size). HTTP announces, the hot path of a fleet, are answered here in full
 * (parse once, whitelist, update the swarm, a compact reply built from bytes kept per peer); the
 * library still parses UDP packets and scrapes, reaching our swarms through a small handle.
 *
 * On top of that this adapter adds: a whitelist (the published info-hashes) that also applies to
 * scrapes, including the "scrape everything" form; a `min interval`; peer lists that never contain
 * the announcing peer itself (the seeder must never be told to dial itself); clear one-line
 * failure reasons for malformed HTTP and UDP announces (the library drops malformed UDP packets
 * without a reply); real BEP 15 connection ids; and a typed 'announce' event.
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
import { endBatched } from './batched-end.js'
import { bencode } from './bencode.js'
import { normalizeIp } from './ip-address.js'
import { listenError } from './listen-error.js'
import { Swarm, type SwarmAnnounce, type SwarmPeer } from './swarm.js'

/** Peers kept per swarm before the longest-silent is dropped. */
export const MAX_PEERS_PER_SWARM = 100_000
/** A peer not heard from for this long has left (bittorrent-tracker's peersCacheTtl). */
const PEER_TTL_MS = 20 * 60_000
/** Peers in a reply: bittorrent-tracker's default and cap, kept so replies look as they did. */
const DEFAULT_REPLY_PEERS = 50
const MAX_REPLY_PEERS = 82

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
  /**
   * Asked after each HTTP announce's 'announce' event: a promise to settle before the reply goes
   * out (the seeder's dial to this peer still connecting), or null to reply at once. Waited for at
   * most HOLD_REPLY_MAX_MS.
   */
  holdReply?: (infoHash: string, ip: string, port: number) => Promise<void> | null
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
/**
 * A dial's TCP connect on a LAN takes a round trip, up to ~0.1 s behind a full queue on our link;
 * an unreachable peer must not hold its client's announce for long.
 */
export const HOLD_REPLY_MAX_MS = 250
/** Bytes 84..87 of an announce: the optional IP address field, which we never honour. */
const UDP_ANNOUNCE_IP_OFFSET = 84
const CONNECTION_ID_BUCKET_MS = 60_000
export const UDP_CONNECTION_ID_REFUSED = 'connection id expired or not issued to this address; send a connect request first'
/** numwant is a 32-bit field in BEP 15; anything past that is garbage, not a large wish. */
const MAX_NUMWANT = 0xffffffff

/** The parts of bittorrent-tracker's Server this adapter uses (it ships no types). */
interface LibParams {
  info_hash: string | string[] | null | undefined
  peer_id: string
  ip: string
  port: number
  left: number
  numwant?: number
  downloaded?: string | number
  uploaded?: string | number
  type: string
  event: string
  /** Set by our swarm handle once the swarm took the announce. */
  accepted?: boolean
}
type LibCallback = (err: Error | null, response?: Record<string, unknown>) => void
/** What the library calls on a swarm (UDP announces and scrapes): a handle over our Swarm. */
interface LibSwarmHandle {
  announce(params: LibParams, cb: LibCallback): void
  scrape(params: LibParams, cb: LibCallback): void
}
interface LibServer extends EventEmitter {
  intervalMs: number
  udp4: dgram.Socket | null
  udp6: dgram.Socket | null
  destroyed: boolean
  onHttpRequest(req: IncomingMessage, res: ServerResponse, opts: { action: 'announce' | 'scrape' }): void
  onUdpRequest(msg: Buffer, rinfo: dgram.RemoteInfo): void
  close(cb?: () => void): void
}

/** An HTTP announce that passed parseAnnounce: every field checked and converted. */
interface HttpAnnounce {
  infoHash: string
  peerId: string
  port: number
  left: number
  uploaded: number
  downloaded: number
  compact: 0 | 1
  numwant: number
  event: AnnounceEvent['event']
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
  private readonly holdReply: TrackerOptions['holdReply'] | null
  private minIntervalSeconds: number | null
  private udpSocket: dgram.Socket | null = null
  private readonly connectionIds = new ConnectionIds()
  private readonly swarms = new Map<string, Swarm>()
  private closed = false
  udpPort: number | null = null

  constructor(options: TrackerOptions) {
    super()
    this.isAllowed = options.isAllowed
    this.holdReply = options.holdReply ?? null
    this.minIntervalSeconds = options.minIntervalSeconds ?? null
    this.server = createLibServer({
      intervalMs: 1000 * checkInterval(options.intervalSeconds ?? 30),
      isAllowed: (infoHash) => this.isAllowed(infoHash),
      minIntervalSeconds: () => this.effectiveMinInterval(),
      swarm: (infoHash) => this.swarm(infoHash),
      dropSwarm: (infoHash) => this.swarms.delete(infoHash),
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
      const announce = parseAnnounce(query)
      if (typeof announce === 'string') return failHttp(res, 200, announce)
      return this.announceHttp(req, res, announce)
    }
    this.server.onHttpRequest(req, res, { action })
  }

  /**
   * HTTP announces are answered here, not by the library: it parses the query a second time,
   * builds each compact reply from peer address strings (ipaddr.js per peer) and bencodes a
   * generic dictionary. This is the hot path of a fleet; the reply is the library's, byte for byte
   * in structure (complete, incomplete, interval, min interval, peers, peers6).
   */
  private announceHttp(req: IncomingMessage, res: ServerResponse, a: HttpAnnounce): void {
    if (this.closed) return void res.end()
    if (!this.isAllowed(a.infoHash)) {
      // A retired release's swarm goes too.
      this.swarms.delete(a.infoHash)
      this.emit('warning', new Error(UNKNOWN_TORRENT))
      return failHttp(res, 200, UNKNOWN_TORRENT)
    }
    const ip = normalizeIp(req.socket.remoteAddress ?? '')
    const swarm = this.swarm(a.infoHash)
    swarm.announce({ ip, port: a.port, peerId: a.peerId, left: a.left, event: a.event })
    // A peer that is leaving needs no peers.
    const wanted = a.event === 'stopped' ? 0 : Math.min(a.numwant || DEFAULT_REPLY_PEERS, MAX_REPLY_PEERS)
    const head = `d8:completei${swarm.complete}e10:incompletei${swarm.incomplete}e8:intervali${Math.ceil(this.server.intervalMs / 1000)}e12:min intervali${this.effectiveMinInterval()}e`
    const reply = a.compact === 1 ? compactReply(head, swarm, swarm.sampleSlots(wanted, a.peerId)) : dictReply(head, swarm.sample(wanted, a.peerId))
    this.emit('announce', {
      infoHash: a.infoHash,
      ip,
      port: a.port,
      peerId: a.peerId,
      clientPrefix: clientPrefix(a.peerId),
      event: a.event,
      left: a.left,
      downloaded: a.downloaded,
      uploaded: a.uploaded,
      protocol: 'http',
      at: Date.now(),
    })
    // The 'announce' listeners may have dialled this peer. aria2 accepts incoming connections only
    // when its event loop wakes, and with nothing else to do it sleeps up to 1 s: our dial waited
    // for its next tick (aria2 took our dial 1.0 s after its announce). Our reply wakes it, so it
    // goes out once the dial has connected and aria2 accepts it in the same turn.
    const hold = this.holdReply?.(a.infoHash, ip, a.port) ?? null
    if (!hold) return void endBatched(res, reply)
    const timer = setTimeout(() => res.end(reply), HOLD_REPLY_MAX_MS)
    void hold.then(() => {
      clearTimeout(timer)
      if (!res.writableEnded) res.end(reply)
    })
  }

  private swarm(infoHash: string): Swarm {
    let swarm = this.swarms.get(infoHash)
    if (!swarm) {
      swarm = new Swarm(infoHash, { maxPeers: MAX_PEERS_PER_SWARM, ttlMs: PEER_TTL_MS })
      this.swarms.set(infoHash, swarm)
    }
    return swarm
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
    const swarm = this.swarms.get(infoHash)
    if (!swarm) return []
    return swarm.peers().map((p) => ({ ip: p.ip, port: p.port, peerId: p.peerId, left: p.left, complete: p.complete }))
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

function createLibServer(config: {
  intervalMs: number
  isAllowed: (infoHash: string) => boolean
  minIntervalSeconds: () => number
  swarm: (infoHash: string) => Swarm
  dropSwarm: (infoHash: string) => void
}): LibServer {
  const { isAllowed } = config
  const server = new TrackerServer({
    http: false,
    udp: false,
    ws: false,
    stats: false,
    interval: config.intervalMs,
    filter: (infoHash: string, _params: unknown, cb: (err: Error | null) => void) => {
      if (isAllowed(infoHash)) return cb(null)
      // A retired release's swarm goes too: the library never prunes swarms.
      config.dropSwarm(infoHash)
      cb(new Error(UNKNOWN_TORRENT))
    },
  }) as LibServer & {
    getSwarm(infoHash: string, cb: (err: Error | null, swarm?: LibSwarmHandle) => void): void
    createSwarm(infoHash: string, cb: (err: Error | null, swarm: LibSwarmHandle) => void): void
    _onScrape(params: LibParams, cb: LibCallback): void
  }
  // The library's swarms are replaced by ours (swarm.ts), shared with the HTTP fast path: it only
  // ever reaches a swarm through getSwarm/createSwarm, and gets a handle speaking its interface.
  const handle = (swarm: Swarm): LibSwarmHandle => ({
    announce(params, cb) {
      const event = LIB_SWARM_EVENT[params.event]
      if (!event) return cb(new Error('invalid event'))
      swarm.announce({ ip: params.ip, port: params.port, peerId: params.peer_id, left: Number.isFinite(params.left) ? params.left : -1, event })
      params.accepted = true
      const peers = event === 'stopped' ? [] : swarm.sample(params.numwant ?? DEFAULT_REPLY_PEERS, params.peer_id)
      cb(null, { complete: swarm.complete, incomplete: swarm.incomplete, peers: peers.map((p) => ({ ip: p.ip, port: p.port, peerId: p.peerId })), 'min interval': config.minIntervalSeconds() })
    },
    scrape(_params, cb) {
      cb(null, { complete: swarm.complete, incomplete: swarm.incomplete })
    },
  })
  server.getSwarm = (infoHash, cb) => {
    const swarm = isAllowed(infoHash) ? config.swarm(infoHash) : null
    cb(null, swarm ? handle(swarm) : undefined)
  }
  server.createSwarm = (infoHash, cb) => cb(null, handle(config.swarm(infoHash)))
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

/** The library's event names (after it maps "empty" to "update") as our swarm's. */
const LIB_SWARM_EVENT: Record<string, SwarmAnnounce['event'] | undefined> = {
  started: 'started',
  completed: 'completed',
  stopped: 'stopped',
  update: 'update',
  paused: 'update',
}

/**
 * A compact reply (BEP 23, with BEP 7's peers6) to `slots` of `swarm`: `head` is the dictionary
 * up to the peers. Read from the swarm's flat compact table, never from peer objects.
 */
function compactReply(head: string, swarm: Swarm, slots: readonly number[]): Buffer {
  let v4 = 0
  let v6 = 0
  for (const slot of slots) {
    const length = swarm.compactLengthAt(slot)
    if (length === 6) v4 += 6
    else v6 += length
  }
  const v4Head = `${head}5:peers${v4}:`
  const v6Head = `6:peers6${v6}:`
  const out = Buffer.allocUnsafe(v4Head.length + v4 + v6Head.length + v6 + 1)
  let at = out.write(v4Head, 0, 'latin1')
  for (const slot of slots) if (swarm.compactLengthAt(slot) === 6) at = swarm.copyCompact(slot, out, at)
  at += out.write(v6Head, at, 'latin1')
  for (const slot of slots) if (swarm.compactLengthAt(slot) === 18) at = swarm.copyCompact(slot, out, at)
  out[at] = 0x65 // 'e'
  return out
}

/** BEP 3's original form (compact=0): a list of dictionaries, IPv4 and IPv6 together. */
function dictReply(head: string, peers: SwarmPeer[]): Buffer {
  const list = bencode(peers.map((p) => ({ ip: p.ip, 'peer id': Buffer.from(p.peerId, 'hex'), port: p.port })))
  return Buffer.concat([Buffer.from(`${head}5:peers`, 'latin1'), list, Buffer.from('e', 'latin1')])
}

/**
 * Parses and checks an HTTP announce query, so the client gets a precise one-line failure reason
 * and the swarm only ever sees values it handles. A repeated single-valued field is refused (the
 * library would have read it as an array). compact must be 0 or 1 (absent means 0, BEP 3's
 * dictionary form); we refuse other values rather than guess, since no real client sends them.
 * numwant above what we ever return is a wish and is capped; only a value that is not a 32-bit
 * unsigned integer is refused.
 */
function parseAnnounce(query: string): HttpAnnounce | string {
  // One pass over the query, no Map and no Buffer per field: announces are the tracker's hot path.
  const values: (string | undefined)[] = new Array<string | undefined>(FIELDS.length)
  let given = 0
  for (let start = 0; start <= query.length; ) {
    let end = query.indexOf('&', start)
    if (end < 0) end = query.length
    if (end > start) {
      const eq = query.indexOf('=', start)
      const hasValue = eq >= 0 && eq < end
      const rawName = query.slice(start, hasValue ? eq : end)
      // Names are decoded as values are, so `compac%74` cannot slip a second compact past us.
      const name = decodeLatin1(rawName)
      if (name === null) return `invalid announce: ${printable(rawName)} is not correctly percent-encoded`
      const value = decodeLatin1(hasValue ? query.slice(eq + 1, end) : '')
      if (value === null) return `invalid announce: ${printable(name)} is not correctly percent-encoded`
      const field = FIELD_INDEX.get(name)
      if (field !== undefined) {
        if (given & (1 << field)) return `invalid announce: ${name} is given more than once`
        given |= 1 << field
        values[field] = value
      }
    }
    start = end + 1
  }
  const infoHash = values[F.info_hash]
  if (infoHash === undefined) return 'invalid announce: info_hash is missing'
  if (infoHash.length !== 20) return `invalid announce: info_hash must be 20 bytes, got ${infoHash.length}`
  const peerId = values[F.peer_id]
  if (peerId === undefined) return 'invalid announce: peer_id is missing'
  if (peerId.length !== 20) return `invalid announce: peer_id must be 20 bytes, got ${peerId.length}`
  const port = values[F.port]
  if (port === undefined || !/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return 'invalid announce: port must be a number from 1 to 65535'
  const counts: Record<'left' | 'uploaded' | 'downloaded', number> = { left: -1, uploaded: 0, downloaded: 0 }
  for (const name of ['left', 'uploaded', 'downloaded'] as const) {
    const value = values[F[name]]
    if (value === undefined) continue
    if (!/^\d{1,20}$/.test(value)) return `invalid announce: ${name} must be a non-negative integer`
    counts[name] = Number(value)
  }
  if (values[F.left] === undefined) return 'invalid announce: left is missing'
  const compact = values[F.compact]
  if (compact !== undefined && compact !== '0' && compact !== '1') return 'invalid announce: compact must be 0 or 1'
  const numwant = values[F.numwant]
  if (numwant !== undefined && (!/^\d{1,10}$/.test(numwant) || Number(numwant) > MAX_NUMWANT)) return `invalid announce: numwant must be an integer from 0 to ${MAX_NUMWANT}`
  const event = values[F.event]
  const ours = HTTP_EVENT[event ?? '']
  if (!ours) return `invalid announce: unknown event "${printable(event ?? '')}"`
  return {
    infoHash: latin1Hex(infoHash),
    peerId: latin1Hex(peerId),
    port: Number(port),
    left: counts.left,
    uploaded: counts.uploaded,
    downloaded: counts.downloaded,
    compact: compact === '1' ? 1 : 0,
    numwant: numwant === undefined ? 0 : Number(numwant),
    event: ours,
  }
}

/** The announce fields we read, each allowed once; their index in parseAnnounce's values. */
const FIELDS = ['info_hash', 'peer_id', 'port', 'left', 'uploaded', 'downloaded', 'compact', 'numwant', 'event', 'ip', 'key', 'trackerid'] as const
const F = Object.fromEntries(FIELDS.map((name, i) => [name, i])) as Record<(typeof FIELDS)[number], number>
const FIELD_INDEX = new Map<string, number>(FIELDS.map((name, i) => [name, i]))

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** A binary string (one char per byte, as decodeLatin1 returns) as hex. */
function latin1Hex(bytes: string): string {
  let hex = ''
  for (let i = 0; i < bytes.length; i++) hex += HEX_BYTE[bytes.charCodeAt(i) & 0xff] as string
  return hex
}

/**
 * A query component percent-decoded to its bytes, one char per byte; null if malformed. Most
 * values (numbers, event names) need no decoding and come back as they are.
 */
function decodeLatin1(text: string): string | null {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x25 || c === 0x2b || c >= 0x80) return percentDecode(text)?.toString('latin1') ?? null
  }
  return text
}

/** HTTP's event values; absent, empty and "empty" are a regular update, "paused" (BEP 21) too. */
const HTTP_EVENT: Record<string, AnnounceEvent['event'] | undefined> = {
  '': 'update',
  empty: 'update',
  paused: 'update',
  started: 'started',
  completed: 'completed',
  stopped: 'stopped',
}

/** Client text echoed in a failure reason: one line, bounded, nothing a terminal would act on. */
function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?')
  return clean.length > 40 ? `${clean.slice(0, 40)}...` : clean
}

/** Percent-decoding to raw bytes: info_hash and peer_id are binary, not UTF-8. */
function percentDecode(value: string): Buffer | null {
  const out = Buffer.allocUnsafe(Buffer.byteLength(value, 'utf8'))
  let n = 0
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i)
    if (ch === 0x25) {
      const hi = hexDigit(value.charCodeAt(i + 1))
      const lo = hexDigit(value.charCodeAt(i + 2))
      if (hi < 0 || lo < 0) return null
      out[n++] = (hi << 4) | lo
      i += 2
    } else if (ch === 0x2b) {
      out[n++] = 0x20
    } else if (ch < 0x80) {
      out[n++] = ch
    } else {
      // A code point beyond ASCII: its UTF-8 bytes (a surrogate pair is one code point).
      const cp = value.codePointAt(i) ?? ch
      n += out.write(String.fromCodePoint(cp), n, 'utf8')
      if (cp > 0xffff) i++
    }
  }
  return out.subarray(0, n)
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  return -1
}

function failHttp(res: ServerResponse, status: number, reason: string): void {
  const body = Buffer.from(`d14:failure reason${Buffer.byteLength(reason)}:${reason}e`)
  res.statusCode = status
  res.setHeader('Content-Length', body.length)
  res.end(body)
}

export function clientPrefix(peerIdHex: string): string {
  // Once per announce: no Buffer or array per call.
  let prefix = ''
  for (let i = 0; i + 1 < Math.min(16, peerIdHex.length); i += 2) {
    const c = parseInt(peerIdHex.slice(i, i + 2), 16)
    prefix += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.'
  }
  return prefix
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
