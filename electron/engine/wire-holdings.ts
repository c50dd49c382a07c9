/**
 * Which pieces a server holds, as seen on our wire to it: what it announced (bitfield, HAVE,
 * HAVE ALL) and every piece we sent it in full on this wire. Clients skip the HAVE to a peer that
 * announced the piece itself (aria2, and rTorrent to any peer it takes for a seed), and under
 * super-seeding we announce to each server the very pieces it then fetches from us. A piece it
 * took from another server after we offered it still shows only in its next bitfield or announce:
 * a client's NOT INTERESTED would say so, but libtorrent sends it while such pieces are still in
 * flight from others (4 × qBittorrent: 1.08 copies from us counting on it, 1.00 without).
 */

/** The wire events read here (a bittorrent-protocol wire). */
export interface HoldingsWire {
  readonly peerPieces: { get(index: number): boolean }
  on(event: 'have', listener: (index: number) => void): unknown
  on(event: 'bitfield' | 'have-all', listener: () => void): unknown
}

export class WireHoldings {
  private readonly held: Uint8Array
  private readonly sentBytes = new Map<number, number>()
  private count = 0
  private lastHeld = -1
  private completeFired = false

  constructor(
    private readonly wire: HoldingsWire,
    private readonly pieceCount: number,
    private readonly pieceLength: number,
    private readonly totalLength: number,
    /** Called once, when the server holds every piece. */
    private readonly onComplete: () => void,
    /** Called when a piece's last block went out on this wire (not for pieces it announced first). */
    private readonly onDelivered: (index: number) => void = () => {},
  ) {
    this.held = new Uint8Array(pieceCount)
    wire.on('bitfield', () => this.fromBitfield())
    wire.on('have-all', () => this.fromBitfield())
    wire.on('have', (index) => this.hold(index))
    this.fromBitfield()
  }

  /** Share of the release's pieces the server holds, 0..1. */
  get progress(): number {
    return this.pieceCount > 0 ? this.count / this.pieceCount : 0
  }

  /** The piece it most recently came to hold, while it holds some but not all; else null. */
  get heldPiece(): number | null {
    return this.count > 0 && this.count < this.pieceCount ? this.lastHeld : null
  }

  private fromBitfield(): void {
    for (let i = 0; i < this.pieceCount; i++) if (this.wire.peerPieces.get(i)) this.hold(i)
  }

  /** A block of `index` went out on this wire (the caller sees every PIECE message we send). */
  sent(index: number, length: number): void {
    if (!(index >= 0 && index < this.pieceCount) || this.held[index]) return
    const bytes = (this.sentBytes.get(index) ?? 0) + length
    // A client asks for each block once per wire, so the piece's length in blocks is the piece.
    if (bytes >= this.lengthOf(index)) {
      this.hold(index)
      this.onDelivered(index)
    } else this.sentBytes.set(index, bytes)
  }

  private lengthOf(index: number): number {
    return index === this.pieceCount - 1 ? this.totalLength - index * this.pieceLength : this.pieceLength
  }

  private hold(index: number): void {
    if (!(index >= 0 && index < this.pieceCount) || this.held[index]) return
    this.held[index] = 1
    this.lastHeld = index
    this.sentBytes.delete(index)
    this.count++
    if (this.count === this.pieceCount && !this.completeFired) {
      this.completeFired = true
      this.onComplete()
    }
  }
}
