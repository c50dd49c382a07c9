/**
 * The seeder: the only module that imports webtorrent. It seeds each release in place from the
 * publisher's files through a read-only chunk store (no copy, no re-hash), with every discovery
 * mechanism that could leak a private release (DHT, LSD, PEX, UPnP, NAT-PMP) switched off.
 *
 * It never dials the peers the tracker hands back (`seedOutgoingConnections: false`), which is how
 * it avoids connecting to itself; instead the engine calls `dial()` for each server the in-process
 * tracker sees announce, over TCP at once. That skips qBittorrent's uTP-first delay and reaches
 * Transmission 3.00, which never dials loopback peers.
 */
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import WebTorrent from 'webtorrent'
import type { PeerInfo, SwarmStats, Transport } from '../../shared/contract.js'
import { availabilityCells } from '../../shared/availability.js'
import { SwarmdropError } from '../../shared/errors.js'
import { hostPort, isLoopback, normalizeIp } from './ip-address.js'
import type { BitTorrentStanding } from './web-seed-gate.js'
import type { ByteSpan } from './web-seed.js'
import { listenError } from './listen-error.js'
import { FileHandlePool, PieceCache, ReadOnlyChunkStore, type StoredFile } from './chunk-store.js'
import type { WireSignal } from './fleet.js'
import { WireHoldings } from './wire-holdings.js'
import { UploadSteering, type SteeredWire } from './upload-steering.js'
import { RequestBackpressure, type BackpressuredWire } from './request-backpressure.js'
import { limitMessages, messageLimit, type ParsedWire } from './peer-message-limit.js'
import { peerClient } from './peer-client.js'
import { SuperSeeding, type SuperSeedWire } from './super-seeding.js'
import { NUDGE_EVERY_MS, WireNudge } from './wire-nudge.js'
import { RECHOKE_EVERY_MS, rechokeAria2 } from './aria2-rechoke.js'
import { SilentWires, type HeardEvent } from './silent-wires.js'
import { PRODUCT } from './product.js'
import { useFastMseKeyExchange } from './mse-key-exchange.js'
import { ConnectionCap, DEFAULT_CONNECTIONS_PER_ADDRESS, type ConnectionSource } from './connection-caps.js'

export interface SeederOptions {
  /** TCP (and uTP when enabled) listen port; 0 picks a free one. */
  peerPort: number
  utp: boolean
  /** Bytes per second; 0 = unlimited. */
  uploadLimit: number
  /** Bound on open file descriptors across all releases. */
  maxOpenFiles?: number
  /** BEP 16 super-seeding of each release until every piece has reached a server (default on). */
  superSeed?: boolean
  /**
   * Pace the servers far ahead so the publisher's upload goes to those behind (upload-steering.ts;
   * default on; SWARMDROP_STEER=0 turns it off, for the fleet bench's comparison).
   */
  steerUpload?: boolean
  /** Open incoming connections allowed per address (settings' peerConnectionsPerAddress). */
  connectionsPerAddress?: number
}

export interface SeedInput {
  infoHash: string
  /** A complete .torrent, announce URLs included (they carry the LAN address). */
  torrent: Buffer
  pieceLength: number
  /** The release's files in torrent order, read in place. */
  files: StoredFile[]
  /** Where webtorrent believes the files live; only used for its own bookkeeping. */
  path: string
  /** The info dictionary's piece digests: every piece read from disk is checked before it is sent. */
  pieceHashes?: Buffer
}

/** The parts of webtorrent's objects this adapter reads. */
interface WtBitField {
  get(index: number): boolean
}
/** A bittorrent-protocol wire: what super-seeding drives, and what the adapter reads. */
interface WtWire extends SuperSeedWire, SteeredWire, BackpressuredWire, ParsedWire {
  readonly peerRequests: readonly { length: number }[]
  remoteAddress?: string
  remotePort?: number
  peerId?: string
  type?: string
  /** Bytes we sent over this wire. */
  uploaded: number
  peerPieces: WtBitField
  /** The peer said INTERESTED (and not since NOT INTERESTED). */
  peerInterested: boolean
  /** We are choking the peer. */
  amChoking: boolean
  on(event: 'have', listener: (index: number) => void): unknown
  on(event: 'bitfield' | 'have-all' | 'have-none' | 'interested', listener: () => void): unknown
  on(event: HeardEvent, listener: () => void): unknown
  on(event: 'cancel', listener: (index: number, offset: number, length: number) => void): unknown
  uploadSpeed(): number
  downloadSpeed(): number
  unchoke(): void
  interested(): void
  uninterested(): void
  destroyed: boolean
  destroy(): void
  /** Sends one block (a PIECE message); wrapped to see which piece each block belongs to. */
  piece(index: number, offset: number, buffer: Uint8Array): void
}
interface WtTorrent extends EventEmitter {
  infoHash: string
  /** The decoded info dictionary: only read to start, until the torrent is ready. */
  info?: unknown
  ready: boolean
  wires: WtWire[]
  pieces: unknown[]
  uploaded: number
  uploadSpeed: number
  downloadSpeed: number
  addPeer(addr: string): boolean
  /** webtorrent's peers by id ("ip:port" for the ones we dial); `conn` is set once it dials, `wire` once it connects. */
  _peers: Map<string, DialledPeer>
  /** Called by webtorrent's connection pool once an incoming peer's handshake names this torrent. */
  _addIncomingPeer(peer: { destroyed: boolean }): void
  destroy(opts: { destroyStore: boolean }, cb: (err?: Error | null) => void): void
}
/** A webtorrent peer we dialled: its socket, and its wire's peer id once the handshake came back. */
interface DialledPeer {
  conn?: (EventEmitter & { destroy?: () => void }) | null
  wire?: { peerId: string | null } | null
  retries?: number
}
/**
 * webtorrent 3.0.21's connection pool registers an incoming peer only after an await
 * (conn-pool.js: `await client.get(infoHash)`, then `if (!peer.swarm) torrent._addIncomingPeer(peer)`).
 * A peer destroyed by the time that line runs (destroy() clears peer.swarm, and removes the peer
 * from the torrent only when it had one) is registered all the same, and nothing removes it
 * afterwards: its destroy() has already run. The soak bench's heap snapshots found 696 such peers
 * (destroyed, each with its listeners and a timer) after 8 minutes of churning aria2c
 * downloaders; over 30 minutes the live JS heap grew from 18.7 to 25.6 MiB with them.
 */
export function refuseDeadIncomingPeers(torrent: Pick<WtTorrent, '_addIncomingPeer'>): void {
  const add = torrent._addIncomingPeer.bind(torrent)
  torrent._addIncomingPeer = (peer) => {
    if (!peer.destroyed) add(peer)
  }
}

interface WtClient extends EventEmitter {
  peerId: string
  torrentPort: number
  torrents: WtTorrent[]
  listening: boolean
  /** The peer port's listeners (uTP only when on); null once destroyed. */
  _connPool: { tcpServer: ConnectionSource; utpServer?: ConnectionSource } | null
  add(torrentId: Uint8Array, opts: Record<string, unknown>, ontorrent: (t: WtTorrent) => void): WtTorrent
  throttleUpload(rate: number): void
  destroy(cb: (err?: Error | null) => void): void
}
type WebTorrentCtor = new (opts: Record<string, unknown>) => WtClient

interface Seeding {
  torrent: WtTorrent
  pieceCount: number
  superSeeding: SuperSeeding | null
  steering: UploadSteering<WtWire> | null
  /** Bytes of web-seed responses sent whole: with the torrent's own counter, what the release has cost. */
  webSeedBytes: number
  /**
   * Servers (normalised IPs) that have said "interested" on a wire of this release at least once.
   * It counts while the server keeps a wire up, also when it loses interest for a while, as it does
   * under super-seeding between two offers: the web seed refuses it all that time. Its last wire
   * closing forgets it.
   */
  interestedOnce: Set<string>
}

export interface SeederEvents {
  /** A release's torrent failed (e.g. a file vanished while seeding). */
  error: [infoHash: string, error: Error]
  /**
   * A wire closed, with its last progress: a client that disconnects the moment it has every piece
   * (rTorrent does) would otherwise finish between two samples and never be seen complete.
   */
  wireClosed: [infoHash: string, signal: WireSignal]
  /**
   * A wire's peer now has every piece, as it happens: the fleet view would otherwise see the
   * completion at its next once-a-second sample.
   */
  wireComplete: [infoHash: string, signal: WireSignal]
  /** Every piece of a release has reached a server: from now on we send only what servers cannot get from one another. */
  superSeedDone: [infoHash: string]
  /** An incoming connection was closed at once: its address already had `limit` open. */
  connectionRefused: [ip: string, limit: number]
}

/** webtorrent's upload slots per release: it unchokes this many interested wires at each rechoke. */
const UNLIMITED_UPLOAD_SLOTS = Number.MAX_SAFE_INTEGER

/** Peer id prefix "-SD0100-" (Azureus style): servers' clients list us by name and version. */
function swarmdropPeerId(): string {
  const v = PRODUCT.version.split('.').map((n) => Math.min(9, Number(n) || 0))
  const prefix = `-SD${v[0] ?? 0}${v[1] ?? 0}${v[2] ?? 0}0-`
  return Buffer.concat([Buffer.from(prefix, 'latin1'), randomBytes(12)]).toString('hex')
}

export class Seeder extends EventEmitter<SeederEvents> {
  private readonly client: WtClient
  private readonly pool: FileHandlePool
  /** One memory budget for the pieces of every release, as the pool is one bound on open files. */
  private readonly pieceCache = new PieceCache()
  private readonly seeding = new Map<string, Seeding>()
  private readonly superSeed: boolean
  private readonly holdings = new WeakMap<WtWire, WireHoldings>()
  /** Quiet wires to servers that still lack pieces get a repeated HAVE, so aria2 sends its news at once. */
  private readonly nudge = new WireNudge<WtWire>((wire) => this.holdings.get(wire)?.heldPiece ?? null)
  private readonly nudgeTimer: NodeJS.Timeout
  private readonly rechokeTimer: NodeJS.Timeout
  /** The wire's server still lacks pieces (one reading of its holdings for every rule that asks). */
  private readonly stillFetching = (wire: WtWire): boolean => (this.holdings.get(wire)?.progress ?? 0) < 1
  /** Wires a server still fetching has gone silent on, for dropSilent. */
  private readonly silentWires = new SilentWires<WtWire>()
  /** Every release's wires share one budget of unsent bytes; blocks queued by a release's steering count as held. */
  private readonly steeringOf = new WeakMap<WtWire, UploadSteering<WtWire>>()
  private readonly backpressure = new RequestBackpressure<WtWire>({ queuedBytes: (wire) => this.steeringOf.get(wire)?.queuedBytes(wire) ?? 0 })
  /** Incoming connections per address allowed on the peer port (see connection-caps.ts). */
  private perAddress: number
  /** Settles when a server's wire may be unchoked; null: at once. */
  private unchokeHold: ((infoHash: string, ip: string) => Promise<void> | null) | null = null

  private constructor(
    client: WtClient,
    pool: FileHandlePool,
    superSeed: boolean,
    private readonly steerUpload: boolean,
    connectionsPerAddress: number,
  ) {
    super()
    this.perAddress = connectionsPerAddress
    // webtorrent keeps a wire for every incoming connection it is given: TCP and uTP share one count.
    const cap = new ConnectionCap(() => this.perAddress, (ip, limit) => this.emit('connectionRefused', ip, limit))
    if (client._connPool) {
      cap.gate(client._connPool.tcpServer)
      if (client._connPool.utpServer) cap.gate(client._connPool.utpServer)
    }
    this.client = client
    this.pool = pool
    this.superSeed = superSeed
    this.nudgeTimer = setInterval(() => {
      for (const s of this.seeding.values()) this.nudge.round(s.torrent.wires)
    }, NUDGE_EVERY_MS)
    this.nudgeTimer.unref()
    this.rechokeTimer = setInterval(() => {
      for (const s of this.seeding.values()) rechokeAria2(s.torrent.wires, this.stillFetching)
    }, RECHOKE_EVERY_MS)
    this.rechokeTimer.unref()
  }

  /** Starts listening on the peer port; PORT_IN_USE when it is taken. */
  static async start(options: SeederOptions): Promise<Seeder> {
    // Before any wire exists: the key exchange of encrypted wires off OpenSSL's 15 ms DH objects.
    await useFastMseKeyExchange()
    const Ctor = WebTorrent as unknown as WebTorrentCtor
    const client = new Ctor({
      peerId: swarmdropPeerId(),
      torrentPort: options.peerPort,
      dht: false,
      lsd: false,
      utPex: false,
      natUpnp: false,
      natPmp: false,
      utp: options.utp,
      webSeeds: false,
      seedOutgoingConnections: false,
      uploadLimit: options.uploadLimit > 0 ? options.uploadLimit : -1,
    })
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        client.removeListener('listening', onListening)
        reject(listenError(err, { label: 'The peer port', proto: 'TCP', host: '0.0.0.0', port: options.peerPort, flag: '--peer-port' }))
      }
      const onListening = (): void => {
        client.removeListener('error', onError)
        resolve()
      }
      client.once('error', onError)
      client.once('listening', onListening)
    })
    const seeder = new Seeder(client, new FileHandlePool(options.maxOpenFiles ?? 128), options.superSeed ?? true, options.steerUpload ?? process.env.SWARMDROP_STEER !== '0', options.connectionsPerAddress ?? DEFAULT_CONNECTIONS_PER_ADDRESS)
    // After start-up, client errors are per-torrent problems reported through 'error' per release.
    client.on('error', () => undefined)
    return seeder
  }

  /** Applies to the next incoming connection; those open stay. */
  set connectionsPerAddress(limit: number) {
    this.perAddress = limit
  }

  get peerId(): string {
    return this.client.peerId
  }

  get port(): number {
    return this.client.torrentPort
  }

  isSeeding(infoHash: string): boolean {
    return this.seeding.has(infoHash)
  }

  /** Resolves once the release is ready to upload (all pieces marked present, no re-hash). */
  async seed(input: SeedInput): Promise<void> {
    if (this.seeding.has(input.infoHash)) return
    // A source that changed on disk stops the release at once: servers must never get bad pieces.
    const store = new ReadOnlyChunkStore(input.pieceLength, input.files, this.pool, {
      pieceHashes: input.pieceHashes,
      onSourceChanged: (err) => {
        if (!this.seeding.has(input.infoHash)) return
        void this.remove(input.infoHash).finally(() => this.emit('error', input.infoHash, err))
      },
    }, this.pieceCache)
    const torrent = await new Promise<WtTorrent>((resolve, reject) => {
      const t = this.client.add(
        new Uint8Array(input.torrent),
        {
          path: input.path,
          preloadedStore: store,
          // Our store keeps its own piece cache; webtorrent's would hold 20 more whole pieces
          // per release on top (160 MiB for a release in 8 MiB pieces).
          storeCacheSlots: 0,
          skipVerify: true,
          // Every server unchoked, however many: webtorrent's default of 10 upload slots choked
          // the rest at each 10 s rechoke, and a choked server cannot fetch the pieces
          // super-seeding offered it alone (16 × aria2: five servers got 1.2 MiB from us in all,
          // two finished 5 s after the rest). A fleet of one's own servers has no free rider.
          uploads: UNLIMITED_UPLOAD_SLOTS,
          // Whatever webtorrent counted as downloaded, a seeder has nothing left.
          getAnnounceOpts: () => ({ left: 0 }),
        },
        (ready) => {
          t.removeListener('error', onError)
          // Every path segment of every file is a Uint8Array in it, ~0.7 KB a file, and
          // webtorrent keeps its own File objects and the raw metadata besides.
          delete ready.info
          refuseDeadIncomingPeers(ready)
          resolve(ready)
        },
      )
      const onError = (err: Error): void => reject(new SwarmdropError('INTERNAL', `Cannot seed ${input.infoHash}: ${err.message}`, { cause: err }))
      t.once('error', onError)
    })
    torrent.on('error', (err: Error) => {
      // Their timers would keep the dead release's wires alive.
      const failed = this.seeding.get(input.infoHash)
      if (failed) stopTimers(failed)
      this.seeding.delete(input.infoHash)
      this.emit('error', input.infoHash, err)
    })
    const totalLength = input.files.reduce((sum, f) => sum + f.length, 0)
    const superSeeding = this.superSeed
      ? new SuperSeeding({
          pieceCount: torrent.pieces.length,
          pieceLength: input.pieceLength,
          length: totalLength,
          uploaded: () => torrent.uploaded + (this.seeding.get(input.infoHash)?.webSeedBytes ?? 0),
          onSpread: () => this.emit('superSeedDone', input.infoHash),
        })
      : null
    const steering = this.steerUpload
      ? new UploadSteering<WtWire>({
          held: (wire) => (this.holdings.get(wire)?.count ?? 0) * input.pieceLength,
          uploaded: (wire) => wire.uploaded,
          canShift: () => !superSeeding || superSeeding.spread || superSeeding.freshUnoffered,
        })
      : null
    const interestedOnce = new Set<string>()
    // 'wire' fires before webtorrent announces our pieces on it, which is when super-seeding must step in.
    const maxMessage = messageLimit(torrent.pieces.length)
    torrent.on('wire', (wire: WtWire) => {
      if (!limitMessages(wire, maxMessage)) return
      // One wire per server: aria2 dials the address the tracker gave it on its next tick even
      // when our dial to it is already up (we do not tell it our port), and a second wire would get
      // its own super-seeding offers. The older wire stays: it may be mid-transfer.
      if (wire.peerId !== undefined && torrent.wires.some((w) => w !== wire && w.peerId === wire.peerId)) {
        wire.destroy()
        return
      }
      // The wire's holdings first: super-seeding acts on what they record. Every wire has them
      // (they signal its completion), with super-seeding or without.
      const holdings = this.watchHoldings(input.infoHash, wire, torrent.pieces.length, input.pieceLength, totalLength)
      superSeeding?.attach(wire, holdings)
      steering?.attach(wire)
      if (steering) this.steeringOf.set(wire, steering)
      this.backpressure.attach(wire)
      this.silentWires.watch(wire)
      this.wireOpenedAt.set(wire, Date.now())
      const ip = normalizeIp(wire.remoteAddress ?? '')
      wire.on('interested', () => interestedOnce.add(ip))
      // webtorrent unchokes a wire on its "interested" (before the listener above runs): the
      // server's web-seed requests still waiting for a verdict are answered first (see
      // WebSeedGate.answerWaiting for why).
      const unchoke = wire.unchoke.bind(wire)
      wire.unchoke = () => {
        if (wire.peerInterested) interestedOnce.add(ip)
        const answered = this.unchokeHold?.(input.infoHash, ip) ?? null
        if (!answered) return unchoke()
        void answered.then(() => {
          if (!wire.destroyed) unchoke()
        })
      }
      wire.once('close', () => {
        // A server that comes back (Transmission restarted, say) starts afresh: until it says
        // "interested" again, the web seed may serve it.
        if (!torrent.wires.some((w) => w !== wire && normalizeIp(w.remoteAddress ?? '') === ip)) interestedOnce.delete(ip)
        const livedMs = Date.now() - (this.wireOpenedAt.get(wire) ?? Date.now())
        this.emit('wireClosed', input.infoHash, { ...this.signalOf(wire, torrent.pieces.length), closed: true, livedMs })
      })
    })
    this.seeding.set(input.infoHash, { torrent, pieceCount: torrent.pieces.length, superSeeding, steering, webSeedBytes: 0, interestedOnce })
  }

  /** Stops seeding (a "stopped" announce goes out); the files are never touched. */
  async remove(infoHash: string): Promise<void> {
    const s = this.seeding.get(infoHash)
    if (!s) return
    this.seeding.delete(infoHash)
    stopTimers(s)
    await new Promise<void>((resolve) => s.torrent.destroy({ destroyStore: false }, () => resolve()))
  }

  /**
   * Connects to a peer over TCP (or uTP when enabled) now, instead of waiting for it to dial us;
   * false when it is already connected. A server is one address on a LAN: a wire it opened to us
   * comes from a temporary port, never the one it announced, so matching on the port would dial
   * it a second time. Loopback is the exception (tests run several clients on one host), where
   * the announced port, or the peer id once known, tells them apart.
   */
  dial(infoHash: string, ip: string, port: number, peerId?: string): boolean {
    const s = this.seeding.get(infoHash)
    if (!s || !s.torrent.ready) return false
    const host = normalizeIp(ip)
    const sameHost = !isLoopback(host)
    const connected = s.torrent.wires.some((w) => {
      if (peerId !== undefined && w.peerId === peerId) return true
      const wireHost = normalizeIp(w.remoteAddress ?? '')
      return wireHost === host && (sameHost || w.remotePort === port)
    })
    if (connected) return false
    const addr = hostPort(host, port)
    if (!s.torrent.addPeer(addr)) return false
    const peer = s.torrent._peers.get(addr)
    forgoRetriesIfRefused(peer)
    closeIfNoHandshake(peer)
    return true
  }

  /**
   * Settles when our dial to ip:port (from `dial`) has connected, failed or closed; null when no
   * dial to it is on its way.
   */
  connecting(infoHash: string, ip: string, port: number): Promise<void> | null {
    const s = this.seeding.get(infoHash)
    if (!s) return null
    const host = normalizeIp(ip)
    const conn = s.torrent._peers.get(hostPort(host, port))?.conn
    if (!conn || (conn as EventEmitter & { connecting?: boolean }).connecting !== true) return null
    return new Promise((resolve) => {
      const done = (): void => {
        conn.off('connect', done)
        conn.off('error', done)
        conn.off('close', done)
        resolve()
      }
      conn.once('connect', done)
      conn.once('error', done)
      conn.once('close', done)
    })
  }

  setUploadLimit(bytesPerSecond: number): void {
    this.client.throttleUpload(bytesPerSecond > 0 ? bytesPerSecond : -1)
  }

  stats(infoHash: string): SwarmStats | null {
    const s = this.seeding.get(infoHash)
    if (!s) return null
    const { torrent, pieceCount } = s
    const counts = new Array<number>(pieceCount).fill(0)
    for (const wire of torrent.wires) {
      // Its holdings, where it has them: they also count what it took from us without a HAVE back.
      const holdings = this.holdings.get(wire)
      for (let i = 0; i < pieceCount; i++) if (holdings ? holdings.has(i) : wire.peerPieces.get(i)) counts[i] = (counts[i] ?? 0) + 1
    }
    // We hold a full copy; libtorrent's distributed copies = min availability + fraction above it.
    const withUs = counts.map((c) => c + 1)
    const min = withUs.length > 0 ? Math.min(...withUs) : 0
    const above = withUs.filter((c) => c > min).length
    const distributedCopies = pieceCount > 0 ? min + above / pieceCount : 0
    return {
      infoHash,
      peers: torrent.wires.length,
      uploadRate: torrent.uploadSpeed,
      downloadRate: torrent.downloadSpeed,
      uploaded: torrent.uploaded,
      distributedCopies,
      availability: availabilityCells(counts),
    }
  }

  peers(infoHash: string): PeerInfo[] {
    const s = this.seeding.get(infoHash)
    if (!s) return []
    const out: PeerInfo[] = []
    for (const wire of s.torrent.wires) {
      const ip = normalizeIp(wire.remoteAddress ?? '')
      const port = wire.remotePort ?? 0
      const { client, version } = peerClient(wire.peerId)
      out.push({
        id: `${ip}:${port}`,
        infoHash,
        ip,
        port,
        hostname: null,
        client,
        clientVersion: version,
        progress: this.progressOf(wire, s.pieceCount),
        downloadRate: wire.downloadSpeed(),
        uploadRate: wire.uploadSpeed(),
        transport: transportOf(wire.type),
      })
    }
    return out
  }

  /** `hold` says when a server's wire may be unchoked: the web seed's gate answers its waiting requests first. */
  holdUnchokes(hold: (infoHash: string, ip: string) => Promise<void> | null): void {
    this.unchokeHold = hold
  }

  /** What the web seed's gate needs: has `ip` said "interested" on a wire still up, and how old is its oldest wire. */
  standingOf(infoHash: string, ip: string): BitTorrentStanding {
    const s = this.seeding.get(infoHash)
    const who = normalizeIp(ip)
    const oldest = s ? this.oldestWireOf(s, who) : null
    const opened = oldest ? (this.wireOpenedAt.get(oldest) ?? Date.now()) : null
    return { interested: oldest !== null && (s?.interestedOnce.has(who) ?? false), wireAgeMs: opened === null ? null : Date.now() - opened }
  }

  /**
   * Bytes of a web-seed response to `ip` that BitTorrent has already sent or is sending to some
   * server (see super-seeding.ts): all of it once every piece is out, or without super-seeding.
   */
  webSeedOverlap(infoHash: string, ip: string, span: ByteSpan): number {
    const [superSeeding, wire] = this.superSeedingFor(infoHash, ip)
    return superSeeding && wire ? superSeeding.overlapOf(wire, span.offset, span.length) : span.length
  }

  /** A web-seed response to `ip` is being served: its fresh pieces are that server's first copy. */
  webSeedServing(infoHash: string, ip: string, span: ByteSpan): void {
    const [superSeeding, wire] = this.superSeedingFor(infoHash, ip)
    if (superSeeding && wire) superSeeding.claimSpan(wire, span.offset, span.length)
  }

  /**
   * That response ended, sent whole or cut short. Sent whole, its pieces are the server's, with or
   * without super-seeding: the fleet view shows them before the client announces them.
   */
  webSeedServed(infoHash: string, ip: string, span: ByteSpan, complete: boolean): void {
    const s = this.seeding.get(infoHash)
    if (s && complete) s.webSeedBytes += span.length
    const wire = s ? this.oldestWireOf(s, normalizeIp(ip)) : null
    if (!s || !wire) return
    if (s.superSeeding) s.superSeeding.spanDone(wire, span.offset, span.length, complete)
    else if (complete) this.holdings.get(wire)?.sentSpan(span.offset, span.length)
  }

  private superSeedingFor(infoHash: string, ip: string): [SuperSeeding | null, WtWire | null] {
    const s = this.seeding.get(infoHash)
    if (!s?.superSeeding) return [null, null]
    return [s.superSeeding, this.oldestWireOf(s, normalizeIp(ip))]
  }

  /** A server's oldest open wire of a release: the one that stays when it dials a second. */
  private oldestWireOf(s: Seeding, who: string): WtWire | null {
    let oldest: WtWire | null = null
    let oldestAt = Infinity
    for (const w of s.torrent.wires) {
      if (normalizeIp(w.remoteAddress ?? '') !== who) continue
      const opened = this.wireOpenedAt.get(w) ?? Infinity
      if (oldest === null || opened < oldestAt) {
        oldest = w
        oldestAt = opened
      }
    }
    return oldest
  }

  /**
   * Drops the wires of a release on which a server still fetching it has said nothing for a while
   * (see silent-wires.ts), when `canDial` says the server can be dialled back: its listen port is
   * known. Each drop is a 'wireClosed'. Returns how many were dropped.
   */
  dropSilent(infoHash: string, canDial: (ip: string) => boolean): number {
    const s = this.seeding.get(infoHash)
    if (!s) return 0
    const silent = this.silentWires.silent(s.torrent.wires, (wire) => this.stillFetching(wire) && canDial(normalizeIp(wire.remoteAddress ?? '')))
    for (const wire of silent) wire.destroy()
    return silent.length
  }

  /** Each wire's progress and what we sent it, for the fleet view. */
  wireSignals(infoHash: string): WireSignal[] {
    const s = this.seeding.get(infoHash)
    if (!s) return []
    return s.torrent.wires.map((wire) => this.signalOf(wire, s.pieceCount))
  }

  /** What each server holds, from its announcements and the pieces we sent it; signals completion at once. */
  private watchHoldings(infoHash: string, wire: WtWire, pieceCount: number, pieceLength: number, totalLength: number): WireHoldings {
    const holdings = new WireHoldings(wire, pieceCount, pieceLength, totalLength, () => this.emit('wireComplete', infoHash, this.signalOf(wire, pieceCount)))
    this.holdings.set(wire, holdings)
    const piece = wire.piece.bind(wire)
    wire.piece = (index, offset, buffer) => {
      piece(index, offset, buffer)
      holdings.sent(index, buffer.length)
    }
    return holdings
  }

  private readonly wireIds = new WeakMap<WtWire, number>()
  private readonly wireOpenedAt = new WeakMap<WtWire, number>()
  private nextWireId = 1

  /** A wire's share of pieces held, from its holdings (every wire of a seeded release has them). */
  private progressOf(wire: WtWire, pieceCount: number): number {
    const holdings = this.holdings.get(wire)
    if (holdings) return holdings.progress
    let have = 0
    for (let i = 0; i < pieceCount; i++) if (wire.peerPieces.get(i)) have++
    return pieceCount > 0 ? have / pieceCount : 0
  }

  private signalOf(wire: WtWire, pieceCount: number): WireSignal {
    const progress = this.progressOf(wire, pieceCount)
    let id = this.wireIds.get(wire)
    if (id === undefined) {
      id = this.nextWireId++
      this.wireIds.set(wire, id)
    }
    return { ip: normalizeIp(wire.remoteAddress ?? ''), peerId: wire.peerId ?? null, progress, rate: wire.uploadSpeed(), uploaded: wire.uploaded ?? 0, wire: id, choked: wire.amChoking }
  }

  async close(): Promise<void> {
    clearInterval(this.nudgeTimer)
    clearInterval(this.rechokeTimer)
    this.backpressure.close()
    for (const s of this.seeding.values()) stopTimers(s)
    this.seeding.clear()
    await new Promise<void>((resolve) => this.client.destroy(() => resolve()))
    await this.pool.close()
  }
}

/** Stops a release's own timers (super-seeding's stall checks, the steering's rounds). */
function stopTimers(s: Seeding): void {
  s.superSeeding?.close()
  s.steering?.close()
}

function transportOf(type: string | undefined): Transport {
  if (type?.startsWith('utp')) return 'utp'
  if (type === 'webSeed') return 'webseed'
  return 'tcp'
}

/** webtorrent's RECONNECT_WAIT (1 s, 5 s, 15 s): a peer with this many retries is not dialled again. */
const WEBTORRENT_RETRIES = 3

/**
 * A dial that fails before it connects (refused: nothing listens there now) is not retried by
 * webtorrent. We dial a server again when it next announces (once per dial window); webtorrent's
 * own three retries on top cost a connect each, for every unreachable server, and made dials a
 * tenth of the tracker's CPU under load. A wire that connected and later closed keeps them.
 */
function forgoRetriesIfRefused(peer: DialledPeer | undefined): void {
  const conn = peer?.conn
  if (!peer || !conn) return
  let connected = false
  conn.once('connect', () => (connected = true))
  // webtorrent's own 'error' listener runs first and destroys the peer; its 'close' listener,
  // which schedules the retry, reads `retries` after this.
  conn.once('error', () => {
    if (!connected) peer.retries = WEBTORRENT_RETRIES
  })
}

/**
 * A LAN server answers a handshake within milliseconds. rTorrent, finishing a download, took our
 * TCP connection and then said nothing until webtorrent's handshake timeout, 25 s later (mixed
 * N = 8, traced): meanwhile the server could not be dialled again, so its completion went unseen.
 */
export const DIAL_HANDSHAKE_MS = 3_000

/** Closes our dial if it connects but no handshake comes back within DIAL_HANDSHAKE_MS, so it can be dialled afresh. */
function closeIfNoHandshake(peer: DialledPeer | undefined): void {
  const conn = peer?.conn
  if (!peer || !conn) return
  conn.once('connect', () => {
    const timer = setTimeout(() => {
      if (peer.conn === conn && !peer.wire?.peerId) conn.destroy?.()
    }, DIAL_HANDSHAKE_MS)
    timer.unref()
    conn.once('close', () => clearTimeout(timer))
  })
}
