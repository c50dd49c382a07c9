/**
 * A peer's requests are served as its connection takes the blocks, not all at once.
 *
 * webtorrent answers every request the moment it arrives: it reads the block and queues it on
 * the wire, and the wire keeps whatever the socket cannot take yet. So a peer that asks for more
 * than it reads made serve hold everything it asked for (68 MiB on one wire in 4 s; RSS 744 MiB
 * with five such peers), and each request could start a whole-piece read. Real clients keep a
 * bounded queue of requests and read what they ask for: in fleet rollouts the most held on one
 * wire was 7.4 MiB (qBittorrent, libtorrent's 500 blocks), 6.0 (Transmission), 1.8 (rTorrent),
 * 0.5 (aria2).
 *
 * Here a request goes to webtorrent only while the wire holds less than `highWater` bytes: what
 * the socket has not taken yet, blocks waiting for their read, and blocks waiting for their turn
 * in the upload steering. Past that it waits, in the order it came, until the socket has taken
 * enough. A peer that never reads then costs `highWater` and its queue of requests, and keeps its
 * wire: it may be a slow disk or a paused client, not an attacker. Many wires share `totalBytes`:
 * a request is served while its wire holds less than an equal share of it, when that is less than
 * `highWater` (a block at least). Forty peers that asked for 2,000 blocks each and read nothing
 * made serve hold 1.14 GB; now 140 MB, and a thousand such wires would hold about 128 MiB
 * between them, not 4 GiB. A fleet of a hundred servers still gets 1.3 MiB each, seconds of data
 * at a LAN's rates. (A wire that filled a larger share before the others came keeps it until its
 * peer reads.) Only the wires with requests waiting are looked at again, every few ms.
 *
 * A wire may have at most `maxRequests` requests outstanding (libtorrent's
 * max_allowed_in_request_queue): past that a request is refused (REJECT with the fast extension,
 * otherwise dropped), as libtorrent does, and dropped while the wire is full, since a REJECT
 * would be held too.
 *
 * A metadata request (ut_metadata, for magnet links) is answered only while the wire holds less
 * than its share, and dropped otherwise: each answer is 16 KiB for 31 bytes asked, and 50,000
 * requests from a peer that read nothing took serve's RSS from 84 to 922 MiB. A magnet client
 * asks for the few pieces of the metadata and reads them, so it never meets the limit.
 */

/** A request from the peer, as bittorrent-protocol keeps it (`peerRequests`). */
interface PeerRequest {
  readonly length: number
}

/** The parts of a bittorrent-protocol wire this drives. */
export interface BackpressuredWire {
  readonly hasFast: boolean
  readonly destroyed: boolean
  /** Requests handed to webtorrent and not answered yet (their blocks are being read). */
  readonly peerRequests: readonly PeerRequest[]
  /** streamx's state of the wire's outgoing side: `buffered` is what the socket has not taken yet. */
  readonly _readableState?: { buffered?: number }
  /** bittorrent-protocol's handler of an incoming REQUEST; replaced by one that may wait. */
  _onRequest(index: number, offset: number, length: number): void
  reject(index: number, offset: number, length: number): void
  /** webtorrent's metadata extension on this wire, when the release has one. */
  readonly ut_metadata?: { _onRequest(piece: number): void }
  on(event: 'cancel', listener: (index: number, offset: number, length: number) => void): unknown
  once(event: 'close', listener: () => void): unknown
}

export interface RequestBackpressureOptions<W> {
  /** Bytes of blocks answered but not yet written to the wire (the upload steering's queue). */
  queuedBytes?: (wire: W) => number
  highWater?: number
  /** Bytes all wires together may hold; each wire's high-water mark is at most its share. */
  totalBytes?: number
  maxRequests?: number
  /** How often a wire with waiting requests is looked at again. */
  pollMs?: number
}

/**
 * Four times what aria2 and rTorrent hold, half of qBittorrent's most: at 100 Mbit/s a third of a
 * second of data besides the kernel's socket buffer, so the link never waits on it.
 */
export const UNSENT_HIGH_WATER = 4 * 1024 * 1024
/** What every wire together may hold: the high-water mark for 32 wires. */
export const UNSENT_TOTAL = 128 * 1024 * 1024
/** A wire's share never goes below one block, or a crowd of wires would stop every transfer. */
const MIN_SHARE = 16 * 1024
/** libtorrent's default max_allowed_in_request_queue; qBittorrent asks for 500 at most. */
export const MAX_PEER_REQUESTS = 2000
const POLL_MS = 5

type Waiting = [index: number, offset: number, length: number]

interface Held {
  serve: (index: number, offset: number, length: number) => void
  waiting: Waiting[]
}

export class RequestBackpressure<W extends BackpressuredWire> {
  private readonly wires = new Map<W, Held>()
  /** The wires with requests waiting: the only ones the poll looks at. */
  private readonly backlogged = new Set<W>()
  private readonly highWater: number
  private readonly totalBytes: number
  private readonly maxRequests: number
  private timer: NodeJS.Timeout | null = null
  private refusedCount = 0

  constructor(private readonly options: RequestBackpressureOptions<W> = {}) {
    this.highWater = options.highWater ?? UNSENT_HIGH_WATER
    this.totalBytes = options.totalBytes ?? UNSENT_TOTAL
    this.maxRequests = options.maxRequests ?? MAX_PEER_REQUESTS
  }

  /** Requests refused or dropped so far: past `maxRequests`, or metadata asked for on a full wire. */
  get refused(): number {
    return this.refusedCount
  }

  /** Requests waiting on `wire` for its socket to take what it holds. */
  waitingOn(wire: W): number {
    return this.wires.get(wire)?.waiting.length ?? 0
  }

  /** Bytes `wire` holds for its peer: unsent, being read, or queued for their turn. */
  heldBy(wire: W): number {
    let held = (wire._readableState?.buffered ?? 0) + (this.options.queuedBytes?.(wire) ?? 0)
    for (const request of wire.peerRequests) held += request.length
    return held
  }

  /** Whether `wire` holds less than `share`: what it may be given now. */
  private hasRoom(wire: W, share = this.share): boolean {
    return this.heldBy(wire) < share
  }

  /** What one wire may hold now: the high-water mark, or its share of the total when many wires are up. */
  get share(): number {
    return Math.max(MIN_SHARE, Math.min(this.highWater, Math.floor(this.totalBytes / Math.max(1, this.wires.size))))
  }

  /** Must run before the peer's first request is parsed (webtorrent's 'wire' event is early enough). */
  attach(wire: W): void {
    const held: Held = { serve: wire._onRequest.bind(wire), waiting: [] }
    this.wires.set(wire, held)
    wire._onRequest = (index, offset, length) => {
      if (wire.peerRequests.length + held.waiting.length >= this.maxRequests) {
        this.refusedCount++
        if (wire.hasFast && this.hasRoom(wire)) wire.reject(index, offset, length)
        return
      }
      if (held.waiting.length === 0 && this.hasRoom(wire)) return held.serve(index, offset, length)
      held.waiting.push([index, offset, length])
      this.backlogged.add(wire)
      this.startPolling()
    }
    const metadata = wire.ut_metadata
    if (metadata) {
      const answer = metadata._onRequest.bind(metadata)
      metadata._onRequest = (piece) => {
        if (this.hasRoom(wire)) return answer(piece)
        this.refusedCount++
      }
    }
    wire.on('cancel', (index, offset, length) => {
      const at = held.waiting.findIndex(([i, o, l]) => i === index && o === offset && l === length)
      if (at >= 0) held.waiting.splice(at, 1)
    })
    wire.once('close', () => {
      this.wires.delete(wire)
      this.backlogged.delete(wire)
    })
  }

  close(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.wires.clear()
    this.backlogged.clear()
  }

  /** Hands waiting requests to webtorrent while each wire has room; stops polling when none wait. */
  release(): void {
    const share = this.share
    for (const wire of this.backlogged) {
      const held = this.wires.get(wire)
      if (held && !wire.destroyed) {
        while (held.waiting.length > 0 && this.hasRoom(wire, share)) {
          const [index, offset, length] = held.waiting.shift() as Waiting
          // As if it came now: bittorrent-protocol refuses it if we have choked the peer since.
          held.serve(index, offset, length)
        }
        if (held.waiting.length > 0) continue
      }
      this.backlogged.delete(wire)
    }
    if (this.backlogged.size === 0 && this.timer) {
      clearInterval(this.timer)
      this.timer = null
    }
  }

  private startPolling(): void {
    if (this.timer) return
    this.timer = setInterval(() => this.release(), this.options.pollMs ?? POLL_MS)
    this.timer.unref()
  }
}
