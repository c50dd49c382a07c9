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
  on(event: 'bitfield' | 'have-all' | 'have-none', listener: () => void): unknown
}

/**
 * Calls `fn` with each piece that [offset, offset + length) of the release touches, and how many
 * of its bytes: a web-seed response is a byte range, what servers hold is pieces.
 */
export function forEachPieceIn(offset: number, length: number, pieceLength: number, totalLength: number, fn: (index: number, bytes: number) => void): void {
  const end = Math.min(totalLength, offset + length)
  for (let at = Math.max(0, offset); at < end; ) {
    const index = Math.floor(at / pieceLength)
    const next = Math.min(end, (index + 1) * pieceLength)
    fn(index, next - at)
    at = next
  }
}

/**
 * How the server came to hold a piece: we sent it in full ('sent'); it got it while connected to
 * us ('news': a HAVE, or a piece new in a later bitfield, which aria2 sends instead of a long
 * batch of HAVEs); or it had it when it connected ('known': its first bitfield or HAVE ALL).
 * Only 'sent' is something we know; the others are the peer's word.
 */
export type HeldBy = 'sent' | 'news' | 'known'

export type HeldListener = (index: number, by: HeldBy) => void

export class WireHoldings {
  private readonly held: Uint8Array
  private readonly sentBytes = new Map<number, number>()
  private heldCount = 0
  private lastHeld = -1
  private completeFired = false
  /** Its first announcement (bitfield, HAVE ALL or HAVE NONE) has come: what follows is news. */
  private announced = false
  private readonly listeners: HeldListener[] = []

  constructor(
    private readonly wire: HoldingsWire,
    private readonly pieceCount: number,
    private readonly pieceLength: number,
    private readonly totalLength: number,
    /** Called once, when the server holds every piece. */
    private readonly onComplete: () => void = () => {},
  ) {
    this.held = new Uint8Array(pieceCount)
    wire.on('bitfield', () => this.fromBitfield())
    wire.on('have-all', () => this.fromBitfield())
    wire.on('have-none', () => (this.announced = true))
    wire.on('have', (index) => this.hold(index, 'news'))
    // Its announcement may have come before this was made.
    this.fromBitfield(false)
  }

  /** Share of the release's pieces the server holds, 0..1. */
  get progress(): number {
    return this.pieceCount > 0 ? this.heldCount / this.pieceCount : 0
  }

  /** Pieces the server holds. */
  get count(): number {
    return this.heldCount
  }

  has(index: number): boolean {
    return this.held[index] === 1
  }

  /** The piece it most recently came to hold, while it holds some but not all; else null. */
  get heldPiece(): number | null {
    return this.heldCount > 0 && this.heldCount < this.pieceCount ? this.lastHeld : null
  }

  /** Called for each piece as the server comes to hold it (once per piece). */
  onHeld(listener: HeldListener): void {
    this.listeners.push(listener)
  }

  private fromBitfield(event = true): void {
    const by = this.announced ? 'news' : 'known'
    let any = false
    for (let i = 0; i < this.pieceCount; i++) {
      if (!this.wire.peerPieces.get(i)) continue
      any = true
      this.hold(i, by)
    }
    if (event || any) this.announced = true
  }

  /**
   * `length` bytes of `index` went out to this server: a block on this wire (the caller sees every
   * PIECE message we send), or part of a web-seed response.
   */
  sent(index: number, length: number): void {
    if (!(index >= 0 && index < this.pieceCount) || this.held[index]) return
    const bytes = (this.sentBytes.get(index) ?? 0) + length
    // A client asks for each block once, so the piece's length in blocks is the piece.
    if (bytes >= this.lengthOf(index)) this.hold(index, 'sent')
    else this.sentBytes.set(index, bytes)
  }

  /** Bytes [offset, offset + length) of the release went out to this server in one web-seed response. */
  sentSpan(offset: number, length: number): void {
    forEachPieceIn(offset, length, this.pieceLength, this.totalLength, (index, bytes) => this.sent(index, bytes))
  }

  private lengthOf(index: number): number {
    return index === this.pieceCount - 1 ? this.totalLength - index * this.pieceLength : this.pieceLength
  }

  private hold(index: number, by: HeldBy): void {
    if (!(index >= 0 && index < this.pieceCount) || this.held[index]) return
    this.held[index] = 1
    this.lastHeld = index
    this.sentBytes.delete(index)
    this.heldCount++
    for (const listener of this.listeners) listener(index, by)
    if (this.heldCount === this.pieceCount && !this.completeFired) {
      this.completeFired = true
      this.onComplete()
    }
  }
}
