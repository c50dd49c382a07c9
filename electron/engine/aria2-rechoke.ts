/**
 * An INTERESTED and then a NOT INTERESTED, every 2 s, to each aria2 server still downloading,
 * so that aria2 runs its choke round again on the rates of the moment.
 *
 * Besides its 10 s timer, aria2 runs a choke round when a peer it chokes says "interested" and
 * when a peer it unchokes says "not interested" (`BtInterestedMessage`, `BtNotInterestedMessage`).
 * In a fleet of eight, each aria2 ran its first rounds in its first two seconds, on a second of
 * rates or less, and that choice held until +12 s. A server its peers dropped at the +12 s round
 * then took about 2 MB/s for 8 s, and that rollout took 28.2 s. With a round every 2 s the
 * choice follows the rates, and the optimistic unchoke (every third round) rotates every few
 * seconds instead of every 30.
 *
 * The pair leaves us where we were: not interested, so the unchoke it may give us lasts until
 * its next message and costs no slot. Interest messages are not counted by aria2's flooding check
 * (`detectMessageFlooding` counts keep-alives and choke changes). Other clients are left alone:
 * their choke rounds do not run on these messages.
 */
import { peerClient } from './peer-client.js'

export const RECHOKE_EVERY_MS = 2000

/** The part of a bittorrent-protocol wire this drives. */
export interface RechokedWire {
  readonly peerId?: string
  readonly destroyed: boolean
  interested(): void
  uninterested(): void
}

/** One round over a release's wires; `downloading` says whether the wire's server still lacks pieces. Returns how many were sent the pair. */
export function rechokeAria2<W extends RechokedWire>(wires: Iterable<W>, downloading: (wire: W) => boolean): number {
  let sent = 0
  for (const wire of wires) {
    if (wire.destroyed || peerClient(wire.peerId).client !== 'aria2' || !downloading(wire)) continue
    wire.interested()
    wire.uninterested()
    sent++
  }
  return sent
}
