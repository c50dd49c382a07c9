/**
 * Decides whom the web seed serves. It is for servers BitTorrent does not feed: one whose peer
 * port is blocked, or Transmission 3.00 in its first 10 s (it says "interested" only on its 10 s
 * pulse). aria2 and qBittorrent use a web seed and BitTorrent at once, and ask the web seed
 * before their first wire to us is up: served, they fetch the same pieces the publisher also
 * offers to others over BitTorrent (a mixed fleet of four sent 1.3-1.4 copies). So a request from a
 * server with no wire yet waits until BitTorrent shows which kind it is:
 * - it says "interested" on a wire (now or earlier, while the wire is up): refused, 503;
 * - it has had a wire for `quietMs` without saying "interested", though we offer it pieces at
 *   once: served (Transmission), while what the web seed has sent, is sending and is asked now
 *   stays within its share of the release (`withinShare`), since Transmission takes pieces we
 *   also offer others over BitTorrent. Bytes count from the moment a request is served, not
 *   when its response ends: Transmission asks four pieces at a time, and counting at the end let
 *   a mixed fleet go past its share;
 * - no wire after `noWireMs` from its first request: served (BitTorrent does not reach it).
 */

/** What the seeder knows of one server for one release. */
export interface BitTorrentStanding {
  /** It has said "interested" on a wire of the release that is still up. */
  interested: boolean
  /** How long its oldest open wire of the release has been up; null = no wire. */
  wireAgeMs: number | null
}

export type WebSeedVerdict = 'serve' | 'refuse' | 'wait'

export interface WebSeedGateOptions {
  standing: (infoHash: string, ip: string) => BitTorrentStanding
  /**
   * False once `bytes` (sent and being sent by the web seed, plus this request) would pass the
   * web seed's share of the release for servers BitTorrent also reaches.
   */
  withinShare?: (infoHash: string, bytes: number) => boolean
  /** Bytes the web seed has finished sending of a release (its request log). */
  sentOf?: (infoHash: string) => number
  quietMs?: number
  noWireMs?: number
  now?: () => number
}

/** A client's first request may come before its announce; ours answers its announce with a dial at once. */
const DEFAULT_NO_WIRE_MS = 5_000
/** A client that wants our offers says so within a round trip; aria2 within its 1 s event tick. */
const DEFAULT_QUIET_MS = 1_200
/** First requests are remembered this long: a server that comes back later starts afresh. */
const FORGET_MS = 10 * 60_000
const POLL_MS = 100

export class WebSeedGate {
  private readonly quietMs: number
  private readonly noWireMs: number
  private readonly now: () => number
  /** When each server (infoHash + ip) first asked the web seed. */
  private readonly firstAsked = new Map<string, number>()
  /** Per release, bytes of responses served and not yet ended. */
  private readonly inFlight = new Map<string, number>()

  constructor(private readonly options: WebSeedGateOptions) {
    this.quietMs = options.quietMs ?? DEFAULT_QUIET_MS
    this.noWireMs = options.noWireMs ?? DEFAULT_NO_WIRE_MS
    this.now = options.now ?? Date.now
  }

  /** `bytes`: what this request would be sent (its range). */
  verdict(infoHash: string, ip: string, bytes = 0): WebSeedVerdict {
    const now = this.now()
    const key = `${infoHash} ${ip}`
    let first = this.firstAsked.get(key)
    if (first === undefined || now - first > FORGET_MS) {
      this.forgetOld(now)
      first = now
      this.firstAsked.set(key, first)
    }
    const s = this.options.standing(infoHash, ip)
    if (s.interested) return 'refuse'
    // Bounded even for a wire that keeps reconnecting (its age restarting each time).
    if (now - first >= this.noWireMs + this.quietMs) return 'serve'
    if (s.wireAgeMs !== null) {
      if (s.wireAgeMs < this.quietMs) return 'wait'
      const committed = (this.options.sentOf?.(infoHash) ?? 0) + (this.inFlight.get(infoHash) ?? 0) + bytes
      return (this.options.withinShare?.(infoHash, committed) ?? true) ? 'serve' : 'refuse'
    }
    return now - first >= this.noWireMs ? 'serve' : 'wait'
  }

  /**
   * Waits for a verdict other than 'wait'; 'gone' when `gone()` turns true first (the client left).
   * A 'serve' counts `bytes` as in flight until the caller reports the response ended (`ended`).
   */
  async decide(infoHash: string, ip: string, gone: () => boolean, bytes = 0): Promise<'serve' | 'refuse' | 'gone'> {
    for (;;) {
      if (gone()) return 'gone'
      const v = this.verdict(infoHash, ip, bytes)
      if (v === 'serve') this.inFlight.set(infoHash, (this.inFlight.get(infoHash) ?? 0) + bytes)
      if (v !== 'wait') return v
      await new Promise((r) => setTimeout(r, POLL_MS))
    }
  }

  /** A served response of `bytes` ended (sent, or cut short): its bytes are now in `sentOf`, or were never sent. */
  ended(infoHash: string, bytes: number): void {
    const left = (this.inFlight.get(infoHash) ?? 0) - bytes
    if (left > 0) this.inFlight.set(infoHash, left)
    else this.inFlight.delete(infoHash)
  }

  private forgetOld(now: number): void {
    for (const [key, at] of this.firstAsked) if (now - at > FORGET_MS) this.firstAsked.delete(key)
  }
}
