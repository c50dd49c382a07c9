/**
 * Decides whom the web seed serves. It is for servers BitTorrent does not feed: one whose peer
 * port is blocked, or Transmission 3.00 in its first 10 s (it says "interested" only on its 10 s
 * pulse). aria2 and qBittorrent use a web seed and BitTorrent at once, and ask the web seed
 * before their first wire to us is up: served, they fetch the same pieces the publisher also
 * offers to others over BitTorrent (a mixed fleet of four sent 1.3-1.4 copies). So a request from a
 * server with no wire yet waits until BitTorrent shows which kind it is:
 * - it says "interested" on a wire (now or earlier, while the wire is up): refused, 503;
 * - it has had a wire for `quietMs` without saying "interested", though we offer it pieces at
 *   once: served (Transmission). What it takes that no server has yet is the publisher's one copy
 *   of those pieces (super-seeding.ts), and the other servers get them from it; what overlaps
 *   pieces BitTorrent has sent or is sending is spent twice, and that stays within a share of the
 *   release (`withinShare`). The overlap counts from the moment a response is served, not when it
 *   ends: Transmission asks four pieces at a time, and counting at the end let a mixed fleet go
 *   past its share;
 * - no wire after `noWireMs` from its first request: served (BitTorrent does not reach it).
 */

import type { ByteSpan } from './web-seed.js'

/** What the seeder knows of one server for one release. */
export interface BitTorrentStanding {
  /** It has said "interested" on a wire of the release that is still up. */
  interested: boolean
  /** How long its oldest open wire of the release has been up; null = no wire. */
  wireAgeMs: number | null
}

export type WebSeedVerdict = 'serve' | 'refuse' | 'wait'

/** Bytes of the release a response carries (web-seed.ts); null when it carries none. */
type Span = ByteSpan | null

export interface WebSeedGateOptions {
  standing: (infoHash: string, ip: string) => BitTorrentStanding
  /** False once `bytes` of overlap (served so far plus this request) would pass the release's share. */
  withinShare?: (infoHash: string, bytes: number) => boolean
  /** Bytes of `span` that BitTorrent has already sent or is sending to some server; all when absent. */
  overlap?: (infoHash: string, ip: string, span: ByteSpan) => number
  /** A response of `span` to `ip` is being served. */
  serving?: (infoHash: string, ip: string, span: ByteSpan) => void
  /** That response ended: sent whole (`complete`) or cut short. */
  served?: (infoHash: string, ip: string, span: ByteSpan, complete: boolean) => void
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
/**
 * How long a server's wire stays choked after its waiting web-seed requests are answered: their
 * answer must be read before our unchoke, and both take well under a millisecond on a LAN.
 */
const ANSWER_LEAD_MS = 25

export class WebSeedGate {
  private readonly quietMs: number
  private readonly noWireMs: number
  private readonly now: () => number
  /** When each server (infoHash + ip) first asked the web seed. */
  private readonly firstAsked = new Map<string, number>()
  /** Per release, overlap bytes of the responses served to servers BitTorrent also reaches. */
  private readonly overlapServed = new Map<string, number>()
  /** Per server (infoHash + ip), the requests waiting for a verdict, each by what wakes it. */
  private readonly waiting = new Map<string, Set<() => void>>()

  constructor(private readonly options: WebSeedGateOptions) {
    this.quietMs = options.quietMs ?? DEFAULT_QUIET_MS
    this.noWireMs = options.noWireMs ?? DEFAULT_NO_WIRE_MS
    this.now = options.now ?? Date.now
  }

  /** `span`: what this request would be sent. */
  verdict(infoHash: string, ip: string, span: Span = null): WebSeedVerdict {
    return this.judge(infoHash, ip, span).verdict
  }

  /**
   * Waits for a verdict other than 'wait'; 'gone' when `gone()` turns true first (the client left).
   * The caller reports a served response's end (`ended`).
   */
  async decide(infoHash: string, ip: string, gone: () => boolean, span: Span = null): Promise<'serve' | 'refuse' | 'gone'> {
    for (;;) {
      if (gone()) return 'gone'
      const { verdict, overlap } = this.judge(infoHash, ip, span)
      if (verdict === 'serve') {
        if (overlap > 0) this.overlapServed.set(infoHash, (this.overlapServed.get(infoHash) ?? 0) + overlap)
        if (span) this.options.serving?.(infoHash, ip, span)
      }
      if (verdict !== 'wait') return verdict
      await this.pause(`${infoHash} ${ip}`)
    }
  }

  /**
   * Judges `ip`'s waiting requests now (its wire has just said "interested", say) and settles once
   * their answers have had time to reach it; null when none waits. The seeder unchokes the wire
   * after that: libtorrent (qBittorrent) picks the blocks to ask a peer for when that peer
   * unchokes it, not on a HAVE from a peer it is already interested in, and unchoked while its
   * web-seed request (16 MiB) still held those blocks, it asked us for nothing until its 5 s
   * end-game tick: in three of four 4 × qBittorrent runs one server did, and finished 3 s late.
   */
  answerWaiting(infoHash: string, ip: string): Promise<void> | null {
    const wakes = this.waiting.get(`${infoHash} ${ip}`)
    if (!wakes) return null
    for (const wake of [...wakes]) wake()
    return new Promise((resolve) => setTimeout(resolve, ANSWER_LEAD_MS))
  }

  /** Until the next poll, or until `answerWaiting` wakes the request. */
  private pause(key: string): Promise<void> {
    return new Promise((resolve) => {
      const wakes = this.waiting.get(key) ?? new Set<() => void>()
      this.waiting.set(key, wakes)
      const wake = (): void => {
        clearTimeout(timer)
        wakes.delete(wake)
        if (wakes.size === 0) this.waiting.delete(key)
        resolve()
      }
      const timer = setTimeout(wake, POLL_MS)
      wakes.add(wake)
    })
  }

  /** A served response ended: sent whole (`complete`), or cut short. */
  ended(infoHash: string, ip: string, span: Span, complete: boolean): void {
    if (span) this.options.served?.(infoHash, ip, span, complete)
  }

  /** The verdict, and for 'serve' the bytes it spends twice (0 for a server BitTorrent does not reach). */
  private judge(infoHash: string, ip: string, span: Span): { verdict: WebSeedVerdict; overlap: number } {
    const now = this.now()
    const key = `${infoHash} ${ip}`
    let first = this.firstAsked.get(key)
    if (first === undefined || now - first > FORGET_MS) {
      this.forgetOld(now)
      first = now
      this.firstAsked.set(key, first)
    }
    const s = this.options.standing(infoHash, ip)
    if (s.interested) return { verdict: 'refuse', overlap: 0 }
    if (s.wireAgeMs === null) return { verdict: now - first >= this.noWireMs ? 'serve' : 'wait', overlap: 0 }
    // The wait is bounded even for a wire that keeps reconnecting (its age restarting each time).
    if (s.wireAgeMs < this.quietMs && now - first < this.noWireMs + this.quietMs) return { verdict: 'wait', overlap: 0 }
    // BitTorrent reaches it: what the web seed would send twice stays within the share.
    const overlap = span ? (this.options.overlap?.(infoHash, ip, span) ?? span.length) : 0
    const committed = (this.overlapServed.get(infoHash) ?? 0) + overlap
    const within = this.options.withinShare?.(infoHash, committed) ?? true
    return within ? { verdict: 'serve', overlap } : { verdict: 'refuse', overlap: 0 }
  }

  private forgetOld(now: number): void {
    for (const [key, at] of this.firstAsked) if (now - at > FORGET_MS) this.firstAsked.delete(key)
  }
}
