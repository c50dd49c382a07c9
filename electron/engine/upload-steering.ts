/**
 * The publisher's upload goes first to the servers furthest behind.
 *
 * TCP shares the publisher's link equally among the servers fetching from it, whatever their
 * progress. A server its peers do not pick (aria2 unchokes 3 peers plus one optimistic, every
 * 10 s) then runs at half its link for seconds while the others run at theirs, and finishes last
 * by that much. Super-seeding decides which pieces each server gets from us; this decides how
 * fast: the servers more than `leadBytes` ahead of the one furthest behind are paced so that
 * together they take what the link carries less what the servers behind took, less a headroom
 * for those to grow into. A server behind that cannot take more leaves the link idle by at most
 * that headroom, and the leaders get it back on the next round.
 *
 * Pacing is of our own writes (a block waits in a queue of its wire until its turn), so it needs
 * nothing from the kernel and holds on any platform. A cancelled request leaves the queue.
 *
 * Nobody is paced while the servers behind could take nothing more (`canShift`): with
 * super-seeding, once the last fresh pieces are all on offer, each server can fetch from us only
 * what it was offered, and a paced leader only delays the publisher's one copy. In 8 x aria2 the
 * link carried 89-92 % in those last 6 s before the spread with pacing, 93-95 % without.
 */

/** The part of a bittorrent-protocol wire this drives. */
export interface SteeredWire {
  /** Sends one block (a PIECE message); replaced by a paced one. */
  piece(index: number, offset: number, buffer: Uint8Array): void
  /** Requests the peer sent us that are not answered yet. */
  readonly peerRequests: readonly unknown[]
  readonly destroyed: boolean
  on(event: 'cancel', listener: (index: number, offset: number, length: number) => void): unknown
  once(event: 'close', listener: () => void): unknown
}

export interface UploadSteeringOptions<W> {
  /** Bytes the wire's server holds. */
  held(wire: W): number
  /** Bytes sent so far on the wire (bittorrent-protocol's `uploaded`). */
  uploaded(wire: W): number
  /** A server this far ahead of the one furthest behind is paced. */
  leadBytes?: number
  /**
   * Whether the servers behind could take more from us now (default: always). When they cannot,
   * pacing the leaders only leaves the link idle: with super-seeding, from the moment the last
   * fresh pieces are all on offer until every piece has reached a server.
   */
  canShift?: () => boolean
  roundMs?: number
  now?: () => number
}

/** What one round knows of a wire that fetches from us. */
export interface SteeringInput {
  held: number
  /** Bytes per second we sent it over the last round. */
  rate: number
}

/** Two pieces of a typical release: under that, a server is as far along as the one behind. */
const DEFAULT_LEAD_BYTES = 8 * 1024 * 1024
const DEFAULT_ROUND_MS = 500
/** Rounds the link estimate looks back over (the fastest second among them). */
const LINK_MEMORY_ROUNDS = 10
/** A paced wire may send this much at once: a block and its neighbour. */
const BURST_BYTES = 32 * 1024
const PACE_TICK_MS = 5

/**
 * Each wire's pace in bytes per second for the next round (0: not paced), from what each wire
 * holds and took last round and what the link carries (`link`, bytes per second).
 */
export function leaderPaces(inputs: readonly SteeringInput[], link: number, leadBytes: number): number[] {
  if (inputs.length < 2 || link <= 0) return inputs.map(() => 0)
  const least = Math.min(...inputs.map((i) => i.held))
  const behind = inputs.filter((i) => i.held - least <= leadBytes)
  const leaders = inputs.length - behind.length
  if (leaders === 0) return inputs.map(() => 0)
  const behindRate = behind.reduce((sum, i) => sum + i.rate, 0)
  // Room for the servers behind to take more than last round, a half share each.
  const headroom = (behind.length * link) / (2 * inputs.length)
  // Never below a quarter of the link: the leaders pass what they get on to the others.
  const forLeaders = Math.max(link / 4, link - behindRate - headroom)
  const pace = forLeaders / leaders
  return inputs.map((i) => (i.held - least > leadBytes ? pace : 0))
}

interface Block {
  index: number
  offset: number
  buffer: Uint8Array
}

interface Steered {
  send: (index: number, offset: number, buffer: Uint8Array) => void
  queue: Block[]
  /** Bytes per second; 0: not paced. */
  pace: number
  tokens: number
  uploadedAtRound: number
}

export class UploadSteering<W extends SteeredWire> {
  private readonly wires = new Map<W, Steered>()
  private readonly leadBytes: number
  private readonly now: () => number
  private readonly recentRates: number[] = []
  private lastRound: number
  private lastTick: number
  private readonly round: NodeJS.Timeout
  private ticker: NodeJS.Timeout | null = null

  constructor(private readonly options: UploadSteeringOptions<W>) {
    this.leadBytes = options.leadBytes ?? DEFAULT_LEAD_BYTES
    this.now = options.now ?? ((): number => Date.now())
    this.lastRound = this.lastTick = this.now()
    this.round = setInterval(() => this.steer(), options.roundMs ?? DEFAULT_ROUND_MS)
    this.round.unref()
  }

  attach(wire: W): void {
    const steered: Steered = { send: wire.piece.bind(wire), queue: [], pace: 0, tokens: BURST_BYTES, uploadedAtRound: this.options.uploaded(wire) }
    this.wires.set(wire, steered)
    wire.piece = (index, offset, buffer) => {
      if (steered.pace === 0 && steered.queue.length === 0) return steered.send(index, offset, buffer)
      steered.queue.push({ index, offset, buffer })
      this.startTicker()
    }
    wire.on('cancel', (index, offset, length) => {
      const at = steered.queue.findIndex((b) => b.index === index && b.offset === offset && b.buffer.length === length)
      if (at >= 0) steered.queue.splice(at, 1)
    })
    wire.once('close', () => this.wires.delete(wire))
  }

  /** Bytes of blocks waiting on `wire` for their turn. */
  queuedBytes(wire: W): number {
    let bytes = 0
    for (const block of this.wires.get(wire)?.queue ?? []) bytes += block.buffer.length
    return bytes
  }

  /** Each wire's current pace, bytes per second (0: not paced). */
  paceOf(wire: W): number {
    return this.wires.get(wire)?.pace ?? 0
  }

  close(): void {
    clearInterval(this.round)
    if (this.ticker) clearInterval(this.ticker)
    this.ticker = null
    // Whatever waits goes out now: the wires outlive the steering when a release is removed.
    for (const steered of this.wires.values()) this.flush(steered, Infinity)
    this.wires.clear()
  }

  /** One round: what the link carried, and each fetching wire's pace for the next round. */
  steer(): void {
    const now = this.now()
    const seconds = Math.max(1e-3, (now - this.lastRound) / 1000)
    this.lastRound = now
    const fetching: [W, Steered, SteeringInput][] = []
    let total = 0
    for (const [wire, steered] of this.wires) {
      const uploaded = this.options.uploaded(wire)
      const rate = (uploaded - steered.uploadedAtRound) / seconds
      steered.uploadedAtRound = uploaded
      total += rate
      if (wire.destroyed || (wire.peerRequests.length === 0 && steered.queue.length === 0 && rate === 0)) steered.pace = 0
      else fetching.push([wire, steered, { held: this.options.held(wire), rate }])
    }
    this.recentRates.push(total)
    if (this.recentRates.length > LINK_MEMORY_ROUNDS) this.recentRates.shift()
    const inputs = fetching.map(([, , input]) => input)
    const paces = (this.options.canShift?.() ?? true) ? leaderPaces(inputs, this.link(), this.leadBytes) : inputs.map(() => 0)
    fetching.forEach(([, steered], i) => {
      steered.pace = paces[i] ?? 0
    })
    for (const steered of this.wires.values()) if (steered.pace === 0) this.flush(steered, Infinity)
  }

  /**
   * What the link carries, bytes per second: the fastest second of the last few. A single round
   * is not enough: a burst that fills the socket buffers reads as a faster link than there is.
   */
  private link(): number {
    let best = 0
    for (let i = 1; i < this.recentRates.length; i++) best = Math.max(best, ((this.recentRates[i] ?? 0) + (this.recentRates[i - 1] ?? 0)) / 2)
    return best
  }

  private startTicker(): void {
    if (this.ticker) return
    this.lastTick = this.now()
    this.ticker = setInterval(() => this.tick(), PACE_TICK_MS)
    this.ticker.unref()
  }

  private tick(): void {
    const now = this.now()
    const seconds = (now - this.lastTick) / 1000
    this.lastTick = now
    let waiting = false
    for (const steered of this.wires.values()) {
      // An unpaced wire never has a queue here: steer() flushes it when its pace goes to 0.
      if (steered.queue.length === 0) continue
      steered.tokens = Math.min(BURST_BYTES, steered.tokens + steered.pace * seconds)
      this.flush(steered, steered.tokens)
      waiting ||= steered.queue.length > 0
    }
    if (!waiting && this.ticker) {
      clearInterval(this.ticker)
      this.ticker = null
    }
  }

  /** Sends queued blocks while `budget` lasts (a block may overdraw it; the next tick repays). */
  private flush(steered: Steered, budget: number): void {
    let left = budget
    while (steered.queue.length > 0 && left > 0) {
      const block = steered.queue.shift() as Block
      left -= block.buffer.length
      steered.send(block.index, block.offset, block.buffer)
    }
    if (Number.isFinite(budget)) steered.tokens = left
  }
}
