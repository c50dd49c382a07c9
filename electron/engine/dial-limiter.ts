/**
 * At most one outgoing dial per peer (release + address) per window. The engine dials each server
 * that announces with pieces still to fetch; without a limit, a client announcing in a tight loop,
 * or a fleet re-announcing, costs a TCP connect (and, for a peer that cannot be reached, a refused
 * connection and its error) on every announce. A dial that did not go out (already connected, or
 * the release not ready yet) does not count, so the next announce may still try.
 *
 * Entries are kept in dial order and dropped once their window has passed, or beyond `max`, so a
 * churning fleet cannot grow the table without bound.
 */

/** Shorter than the default 30 s announce interval: each regular announce may dial again. */
export const DIAL_WINDOW_MS = 20_000
const MAX_REMEMBERED = 100_000

export class DialLimiter {
  private readonly last = new Map<string, number>()

  constructor(
    private readonly windowMs: number = DIAL_WINDOW_MS,
    private readonly max: number = MAX_REMEMBERED,
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls `dial` unless this peer was dialled within the window; `dial` returns whether it went out. */
  attempt(infoHash: string, ip: string, port: number, dial: () => boolean): boolean {
    const key = `${infoHash} ${ip} ${port}`
    const at = this.now()
    const previous = this.last.get(key)
    if (previous !== undefined && at - previous < this.windowMs) return false
    if (!dial()) return false
    this.last.delete(key)
    this.last.set(key, at)
    for (const [k, when] of this.last) {
      if (at - when < this.windowMs && this.last.size <= this.max) break
      this.last.delete(k)
    }
    return true
  }

  get size(): number {
    return this.last.size
  }
}
