/**
 * Wires on which a server still fetching a release has said nothing for a while: the seeder
 * drops them, and the engine's probe dials the server again (Engine.dialUnfinished), so a fresh
 * connection shows its bitfield.
 *
 * rTorrent 0.9.8 writes the HAVEs it has queued for a peer only when it writes to that peer
 * anyway (a request, a choke change, its keep-alive). Once the publisher's copy is out, rTorrent
 * fetches its last pieces from the other servers and asks nothing of us, so the fleet view heard
 * no news of it for 11-14 s before it finished (mixed N = 8, traced); had it kept that wire open
 * once done, its completion would not have been seen at all. A repeated HAVE does not wake it as
 * it wakes aria2 (see wire-nudge.ts): rTorrent ignores a HAVE for a piece it knows we have.
 *
 * The limit is above every gap a working client leaves: Transmission 3.00 says nothing between
 * its handshake and its first 10 s pulse, and batches its HAVEs every 10 s after it.
 */

/** Silence, in ms, after which a wire to an unfinished server is dropped. */
export const SILENT_AFTER_MS = 12_000

/** Every message a bittorrent-protocol wire reports as an event (see bittorrent-protocol's index.js). */
export const HEARD = ['keep-alive', 'choke', 'unchoke', 'interested', 'uninterested', 'have', 'bitfield', 'have-all', 'have-none', 'request', 'piece', 'cancel', 'reject', 'suggest', 'allowed-fast', 'port', 'extended'] as const

export type HeardEvent = (typeof HEARD)[number]

/** The part of a bittorrent-protocol wire this reads. */
export interface ListenedWire {
  /** Bytes of pieces we sent on this wire so far. */
  readonly uploaded: number
  on(event: HeardEvent, listener: () => void): unknown
}

interface Heard {
  at: number
  uploaded: number
}

export class SilentWires<W extends ListenedWire> {
  private readonly heard = new WeakMap<W, Heard>()

  constructor(
    private readonly silentAfterMs: number = SILENT_AFTER_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts listening to a new wire; it counts as heard now. */
  watch(wire: W): void {
    const heard: Heard = { at: this.now(), uploaded: wire.uploaded }
    this.heard.set(wire, heard)
    for (const event of HEARD) wire.on(event, () => (heard.at = this.now()))
  }

  /**
   * The watched wires silent for the limit, with nothing sent by us either in that time, whose
   * server `unfinished` says still lacks pieces.
   */
  silent(wires: Iterable<W>, unfinished: (wire: W) => boolean): W[] {
    const now = this.now()
    const out: W[] = []
    for (const wire of wires) {
      const heard = this.heard.get(wire)
      if (!heard) continue
      if (wire.uploaded !== heard.uploaded) {
        heard.uploaded = wire.uploaded
        heard.at = now
        continue
      }
      if (now - heard.at >= this.silentAfterMs && unfinished(wire)) out.push(wire)
    }
    return out
  }
}
