/**
 * Super-seeding (BEP 16) for a publisher whose upload is the scarce link: until every piece has
 * reached at least one server, each server is shown only a few pieces that no other server has
 * or is fetching, so the publisher sends each piece out once and the servers trade the rest among
 * themselves. A plain seeder answers whoever asks first, and its upload goes to pieces some
 * server already holds (rTorrent alone used to take nearly a whole copy).
 *
 * This is libtorrent's lenient variant (`superseed_piece` / `get_piece_to_super_seed`), not the
 * strict one of the BEP: a server is offered its next piece as soon as it announces the last one
 * (HAVE), not only after a second server has it. Strict BEP 16 stalls when servers do not upload
 * to one another quickly, and a LAN fleet of mixed clients does not always.
 *
 * It works on any wire with bittorrent-protocol's surface: `attach()` runs when the wire is
 * created, before the seeder sends its bitfield, and replaces the wire's `bitfield` and `haveAll`
 * with an empty announcement plus HAVEs for the offered pieces. Once every piece has been seen at
 * a server, every wire is told the rest with HAVEs and new wires get the real bitfield.
 */

/** The parts of a bittorrent-protocol wire this needs. */
export interface SuperSeedWire {
  readonly hasFast: boolean
  readonly peerPieces: { get(index: number): boolean }
  have(index: number): void
  haveNone(): void
  haveAll(): void
  bitfield(bitfield: Uint8Array | { buffer: Uint8Array }): void
  on(event: 'have', listener: (index: number) => void): unknown
  on(event: 'bitfield' | 'have-all', listener: () => void): unknown
  once(event: 'close', listener: () => void): unknown
}

export interface SuperSeedingOptions {
  pieceCount: number
  pieceLength: number
  /** Bytes of offered, not yet announced pieces per server: enough to keep its requests flowing. */
  bytesInFlight?: number
  /** Called once, when every piece has reached a server and super-seeding has ended. */
  onDone?: () => void
}

/** About a second of a 100 Mbit/s link per server: enough pipelining, little duplication at the end. */
const DEFAULT_BYTES_IN_FLIGHT = 2 * 1024 * 1024
const MIN_PIECES_IN_FLIGHT = 2

interface Tracked {
  wire: SuperSeedWire
  /** Pieces offered to this wire (HAVE sent) that it has not announced yet. */
  offered: Set<number>
  /** Every piece this wire has been told about; after the end, the rest are sent. */
  revealed: Set<number>
  started: boolean
}

export class SuperSeeding {
  private readonly pieceCount: number
  private readonly perWire: number
  /** Pieces any server has ever announced: the end comes when all have. */
  private readonly seen: Uint8Array
  private seenCount = 0
  /** Per piece: servers offered it and not yet done with it. */
  private readonly inFlight: Uint16Array
  private readonly wires = new Set<Tracked>()
  private finished = false
  private cursor = 0

  constructor(private readonly options: SuperSeedingOptions) {
    this.pieceCount = options.pieceCount
    this.perWire = Math.max(MIN_PIECES_IN_FLIGHT, Math.ceil((options.bytesInFlight ?? DEFAULT_BYTES_IN_FLIGHT) / options.pieceLength))
    this.seen = new Uint8Array(options.pieceCount)
    this.inFlight = new Uint16Array(options.pieceCount)
  }

  /** True once every piece has reached a server (or there was nothing to do). */
  get done(): boolean {
    return this.finished
  }

  /** Pieces that have reached at least one server. */
  get piecesSeen(): number {
    return this.seenCount
  }

  /** Must run before the seeder announces its pieces on this wire (webtorrent's 'wire' event). */
  attach(wire: SuperSeedWire): void {
    if (this.finished) return
    const t: Tracked = { wire, offered: new Set(), revealed: new Set(), started: false }
    this.wires.add(t)
    const haveNone = wire.haveNone.bind(wire)
    const haveAll = wire.haveAll.bind(wire)
    const bitfield = wire.bitfield.bind(wire)
    const start = (announceAll: () => void): void => {
      if (t.started) return
      t.started = true
      // Ended between the wire's creation and now: the seeder's own announcement goes out as is.
      if (this.finished) return announceAll()
      if (wire.hasFast) haveNone()
      else bitfield(new Uint8Array(Math.ceil(this.pieceCount / 8)))
      this.topUp(t)
    }
    // The seeder's own announcement (have-all with the fast extension, else a full bitfield)
    // becomes "nothing yet", followed by a few HAVEs.
    wire.haveAll = () => start(haveAll)
    wire.bitfield = (field) => start(() => bitfield(field))
    wire.on('have', (index) => this.onHave(t, index))
    const learnAll = (): void => {
      for (let i = 0; i < this.pieceCount; i++) if (wire.peerPieces.get(i)) this.markSeen(i, t)
      this.afterChange(t)
    }
    wire.on('bitfield', learnAll)
    wire.on('have-all', learnAll)
    wire.once('close', () => {
      this.wires.delete(t)
      for (const i of t.offered) this.release(i)
      t.offered.clear()
    })
  }

  private onHave(t: Tracked, index: number): void {
    if (index < 0 || index >= this.pieceCount) return
    this.markSeen(index, t)
    this.afterChange(t)
  }

  private markSeen(index: number, from: Tracked): void {
    if (from.offered.delete(index)) this.release(index)
    from.revealed.add(index)
    if (this.seen[index] === 0) {
      this.seen[index] = 1
      this.seenCount++
    }
  }

  private release(index: number): void {
    if ((this.inFlight[index] ?? 0) > 0) this.inFlight[index] = (this.inFlight[index] ?? 1) - 1
  }

  private afterChange(t: Tracked): void {
    if (this.finished) return
    if (this.seenCount === this.pieceCount) return this.finish()
    if (t.started) this.topUp(t)
  }

  /** Offers `t` pieces until it has its share in flight: first pieces no server has or is fetching. */
  private topUp(t: Tracked): void {
    while (t.offered.size < this.perWire) {
      const next = this.pick(t, t.offered.size === 0)
      if (next === null) return
      t.offered.add(next)
      t.revealed.add(next)
      this.inFlight[next] = (this.inFlight[next] ?? 0) + 1
      t.wire.have(next)
    }
  }

  /**
   * The next piece for `t`: one never seen at a server and offered to nobody, scanning on from
   * where the last pick stopped (so servers get disjoint runs). Failing that, and only for a wire
   * with nothing else to fetch (`idle`), the unseen piece with the fewest offers: the end game,
   * when a slower server holds the last ones. A busy wire gets no duplicate, since each one is
   * publisher upload spent twice.
   */
  private pick(t: Tracked, idle: boolean): number | null {
    let fallback: number | null = null
    let fallbackLoad = Infinity
    for (let n = 0; n < this.pieceCount; n++) {
      const i = (this.cursor + n) % this.pieceCount
      if (this.seen[i] === 1 || t.revealed.has(i) || t.wire.peerPieces.get(i)) continue
      const load = this.inFlight[i] ?? 0
      if (load === 0) {
        this.cursor = (i + 1) % this.pieceCount
        return i
      }
      if (idle && load < fallbackLoad) {
        fallback = i
        fallbackLoad = load
      }
    }
    return fallback
  }

  private finish(): void {
    this.finished = true
    for (const t of this.wires) if (t.started) this.revealAll(t)
    this.wires.clear()
    this.options.onDone?.()
  }

  /** Tells a wire about every piece it has not heard of: it may now fetch anything from us. */
  private revealAll(t: Tracked): void {
    for (let i = 0; i < this.pieceCount; i++) if (!t.revealed.has(i) && !t.wire.peerPieces.get(i)) t.wire.have(i)
  }
}
