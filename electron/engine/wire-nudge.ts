/**
 * Keep-alives on the wires we have gone quiet on, to servers that still lack pieces.
 *
 * aria2 handles a connection only when bytes arrive on it or on its once-a-second tick, and only
 * then sends the HAVEs (or the HAVE ALL) it has queued for that peer. Once a server takes its last
 * pieces from other servers, our wire to it is quiet, so its progress and its completion reached
 * the fleet view up to a second late (4 × aria2: all four seen 1.0 s after their own finish). A
 * keep-alive is 4 bytes and makes it answer at once.
 */

/** The part of a bittorrent-protocol wire this reads. */
export interface NudgedWire {
  /** Bytes of pieces we sent on this wire so far. */
  readonly uploaded: number
  keepAlive(): void
}

/** Every 200 ms: aria2's tick is 1 s, so its news arrives within a fifth of that. */
export const NUDGE_EVERY_MS = 200

export class WireNudge<W extends NudgedWire> {
  private readonly uploadedAtLastRound = new WeakMap<W, number>()

  /** `wantsNews`: the wire's server still lacks pieces (a complete one has nothing left to say). */
  constructor(private readonly wantsNews: (wire: W) => boolean) {}

  /**
   * One round over a release's wires: a keep-alive to each that carried no piece from us since the
   * previous round and whose server still lacks pieces. A wire seen for the first time only starts
   * being watched. Returns how many were nudged.
   */
  round(wires: Iterable<W>): number {
    let nudged = 0
    for (const wire of wires) {
      const before = this.uploadedAtLastRound.get(wire)
      this.uploadedAtLastRound.set(wire, wire.uploaded)
      if (before === wire.uploaded && this.wantsNews(wire)) {
        wire.keepAlive()
        nudged++
      }
    }
    return nudged
  }
}
