/**
 * Which pieces a server holds, as seen on our wire to it: what it announced (bitfield, HAVE,
 * HAVE ALL), every piece we sent it in full on this wire, and all we announced to it once it
 * says it is no longer interested. Clients skip the HAVE to a peer that they
 * believe has the piece already (aria2, and rTorrent to any peer it takes for a seed), and under
 * super-seeding we advertise to each server exactly the pieces it then fetches from us: counting
 * HAVEs alone, an aria2 that finished showed 97 % on our wire until it hung up.
 */

/** The wire events read here (a bittorrent-protocol wire). */
export interface HoldingsWire {
  readonly peerPieces: { get(index: number): boolean }
  on(event: 'have', listener: (index: number) => void): unknown
  on(event: 'bitfield' | 'have-all' | 'interested' | 'uninterested', listener: () => void): unknown
}

export class WireHoldings {
  private readonly held: Uint8Array
  private readonly sentBytes = new Map<number, number>()
  private count = 0
  private completeFired = false

  constructor(
    private readonly wire: HoldingsWire,
    private readonly pieceCount: number,
    private readonly pieceLength: number,
    private readonly totalLength: number,
    /** Called once, when the server holds every piece. */
    private readonly onComplete: () => void,
    /** The pieces we have announced on this wire (super-seeding shows a few); null: all of them. */
    private readonly announced: (() => Iterable<number>) | null = null,
  ) {
    this.held = new Uint8Array(pieceCount)
    wire.on('bitfield', () => this.fromBitfield())
    wire.on('have-all', () => this.fromBitfield())
    wire.on('have', (index) => this.hold(index))
    // NOT INTERESTED after INTERESTED says "you have nothing I lack": it holds all we announced
    // (the pieces it got from others that we also had, whose HAVE it kept from us). One sent at
    // the start, before it read our announcement, says nothing, so it needs the interest first.
    let wasInterested = false
    wire.on('interested', () => (wasInterested = true))
    wire.on('uninterested', () => {
      if (!wasInterested) return
      if (this.announced) for (const i of this.announced()) this.hold(i)
      else for (let i = 0; i < this.pieceCount; i++) this.hold(i)
    })
    this.fromBitfield()
  }

  /** Share of the release's pieces the server holds, 0..1. */
  get progress(): number {
    return this.pieceCount > 0 ? this.count / this.pieceCount : 0
  }

  private fromBitfield(): void {
    for (let i = 0; i < this.pieceCount; i++) if (this.wire.peerPieces.get(i)) this.hold(i)
  }

  /** A block of `index` went out on this wire (the caller sees every PIECE message we send). */
  sent(index: number, length: number): void {
    if (!(index >= 0 && index < this.pieceCount) || this.held[index]) return
    const bytes = (this.sentBytes.get(index) ?? 0) + length
    // A client asks for each block once per wire, so the piece's length in blocks is the piece.
    if (bytes >= this.lengthOf(index)) this.hold(index)
    else this.sentBytes.set(index, bytes)
  }

  private lengthOf(index: number): number {
    return index === this.pieceCount - 1 ? this.totalLength - index * this.pieceLength : this.pieceLength
  }

  private hold(index: number): void {
    if (!(index >= 0 && index < this.pieceCount) || this.held[index]) return
    this.held[index] = 1
    this.sentBytes.delete(index)
    this.count++
    if (this.count === this.pieceCount && !this.completeFired) {
      this.completeFired = true
      this.onComplete()
    }
  }
}
