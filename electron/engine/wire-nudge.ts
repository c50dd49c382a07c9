/**
 * A repeated HAVE on the wires we have gone quiet on, to servers that still lack pieces.
 *
 * aria2 handles a connection only when bytes arrive on it or on its once-a-second tick, and only
 * then sends the HAVEs (or the HAVE ALL) it has queued for that peer. Once a server takes its last
 * pieces from other servers, our wire to it is quiet, so its progress and its completion reached
 * the fleet view and super-seeding up to a second late (4 × aria2: all four seen 1.0 s after
 * their own finish). A HAVE for a piece the server already holds tells it nothing new and makes
 * it answer at once. Not a keep-alive: aria2 drops a peer that sends two keep-alives (or two
 * choke/unchoke changes) within 5 s as flooding (`DefaultBtInteractive::detectMessageFlooding`).
 */

/** The part of a bittorrent-protocol wire this reads and writes. */
export interface NudgedWire {
  /** Bytes of pieces we sent on this wire so far. */
  readonly uploaded: number
  have(index: number): void
}

/** Every 200 ms: aria2's tick is 1 s, so its news arrives within a fifth of that. */
export const NUDGE_EVERY_MS = 200

export class WireNudge<W extends NudgedWire> {
  private readonly uploadedAtLastRound = new WeakMap<W, number>()

  /**
   * `heldPiece`: a piece the wire's server holds, to announce again; null when it has nothing
   * to tell us (it holds every piece, or none yet).
   */
  constructor(private readonly heldPiece: (wire: W) => number | null) {}

  /**
   * One round over a release's wires: a HAVE to each that carried no piece from us since the
   * previous round and whose server holds some pieces but not all. A wire seen for the first time
   * only starts being watched. Returns how many were nudged.
   *
   * A server that still says "interested" is nudged too: it stays interested in the pieces we
   * offered it while it takes them from other servers, and skipping it left aria2's last HAVEs
   * to its 1 s tick (4 × aria2: one server seen complete 1.06 s after its own hook fired).
   */
  round(wires: Iterable<W>): number {
    let nudged = 0
    for (const wire of wires) {
      const before = this.uploadedAtLastRound.get(wire)
      this.uploadedAtLastRound.set(wire, wire.uploaded)
      if (before !== wire.uploaded) continue
      const piece = this.heldPiece(wire)
      if (piece === null) continue
      wire.have(piece)
      nudged++
    }
    return nudged
  }
}
