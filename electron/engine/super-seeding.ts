/**
 * Super-seeding (BEP 16) for a publisher whose upload is the scarce link: until every piece has
 * reached at least one server, each server is shown only a few pieces that no other server has
 * or is fetching, so the publisher sends each piece out once and the servers trade the rest among
 * themselves. A plain seeder answers whoever asks first, and its upload goes to pieces some
 * server already holds (rTorrent alone used to take nearly a whole copy).
 *
 * This is libtorrent's lenient variant (`superseed_piece` / `get_piece_to_super_seed`), not the
 * strict one of the BEP: a server is offered its next piece as soon as it has the last one, not
 * only after a second server has it. Strict BEP 16 stalls when servers do not upload to one
 * another quickly, and a LAN fleet of mixed clients does not always. "Has it" is its HAVE, or our
 * sending the piece's last block (`delivered`), whichever comes first: Transmission 3.00 batches
 * its HAVEs for up to 10 s (low priority, sent early only with a request or choke), so waiting for
 * them held a lone Transmission to a third of the link (62 s for 200 MiB against 17.3 s), and aria2
 * skips the HAVE to a peer that announced the piece itself.
 *
 * Once every piece has reached a server, the publisher becomes the source of last resort rather
 * than one more full seed: a server is offered only pieces that no connected server holds (its
 * holder left, as rTorrent does the moment it is done), or, once it has announced no new piece
 * for a few seconds, the rarest pieces it lacks, a share at a time, until it shows that other
 * servers serve it again, and only while the rollout has cost less than 1.08 copies (past that,
 * a share at a time to a server stuck for 30 s). A server within two windows of done that fetches
 * from us is given the rarest pieces it lacks too, stalled or not, within the same budget: at the
 * end the publisher's link is otherwise idle while each server waits on one or two peers for its
 * last pieces. Revealing everything instead made every client
 * fetch from the publisher as from any seed: 1.3-2.0 copies for fleets of qBittorrent, most of a
 * second copy for a late Transmission.
 *
 * A server BitTorrent does not feed yet (Transmission 3.00 says "interested" only on its 10 s
 * pulse) may take pieces over the web seed instead. A piece no server has or is being offered
 * that it takes that way is the publisher's one copy of it, as if sent on its wire: claimed when
 * the response is served, held once the whole piece has gone out (`claimSpan`, `spanDone`).
 * The others then get it from that server, as they would any piece.
 *
 * A server's word is not taken for a piece no server has had from us. A peer that announces every
 * piece (a HAVE ALL) and serves none would otherwise end the first phase at once: the publisher
 * then fed the real servers only as stall help, and 4 aria2c on loopback took 24.7-28.8 s for a
 * 64 MiB release at 4 MiB/s instead of 18.0-18.3 s. So a piece a server claims that has not
 * reached any server through us (`seen`) is doubted: it counts nowhere here, save that the server
 * is not offered it. Its claims count once another server announces, as news (not in the bitfield
 * it connected with), a piece we never sent it and that only that claimer holds: it got it from
 * the claimer, which therefore serves. A server restarted with its data is believed that way within
 * seconds of its first upload; two colluding peers on two addresses are not caught.
 *
 * It works on any wire with bittorrent-protocol's surface: `attach()` runs when the wire is
 * created, before the seeder sends its bitfield, and replaces the wire's `bitfield` and `haveAll`
 * with an empty announcement plus HAVEs for the offered pieces.
 */

import { forEachPieceIn, WireHoldings, type HeldBy, type HoldingsWire } from './wire-holdings.js'

/** The parts of a bittorrent-protocol wire this needs. */
export interface SuperSeedWire extends HoldingsWire {
  readonly hasFast: boolean
  have(index: number): void
  haveNone(): void
  haveAll(): void
  bitfield(bitfield: Uint8Array | { buffer: Uint8Array }): void
  on(event: 'have', listener: (index: number) => void): unknown
  on(event: 'bitfield' | 'have-all' | 'have-none' | 'interested', listener: () => void): unknown
  once(event: 'close', listener: () => void): unknown
}

export interface SuperSeedingOptions {
  pieceCount: number
  pieceLength: number
  /** Bytes in the release; pieceCount × pieceLength when absent. */
  length?: number
  /** Bytes of offered, not yet announced pieces per server: enough to keep its requests flowing. */
  bytesInFlight?: number
  /** A server that announces no new piece for this long is helped with the rarest pieces it lacks. */
  stallMs?: number
  /**
   * Help for stalled servers stops once what the release has cost, plus the pieces on offer,
   * reaches this many copies of it (pieces no connected server holds are given regardless).
   */
  helpCopies?: number
  /**
   * Bytes of the release sent so far, every way (BitTorrent, web seed). Without it, the pieces
   * sent whole stand in, which misses blocks a client's end game asked of several peers.
   */
  uploaded?: () => number
  /**
   * Bytes a server may hold that no other connected server holds, pieces on offer to it
   * included, before it is offered no more pieces no server has (while another server can take
   * them). Default: four times `bytesInFlight`.
   */
  soleBytes?: number
  /**
   * After every piece has reached a server, a server missing at most this many bytes is offered
   * the rarest pieces it lacks while the help budget allows, stalled or not. Default: two times
   * `bytesInFlight`; 0 turns it off.
   */
  tailBytes?: number
  /** Called once, when every piece has reached a server. */
  onSpread?: () => void
  now?: () => number
}

/**
 * Per server. A client asks only for what it was offered and announces a piece only once it has
 * checked it, so this must cover its whole pipeline: with 2 MiB a lone qBittorrent on loopback
 * took 2.9 s for 64 MiB, with 8 MiB 1.4 s, as without super-seeding (aria2 was the same with both).
 */
const DEFAULT_BYTES_IN_FLIGHT = 8 * 1024 * 1024
const MIN_PIECES_IN_FLIGHT = 2
/** How far back a server's pieces from us count towards its window (see `windowOf`). */
const WINDOW_MS = 2000
/** Long enough for a client's own piece exchange to show; short against a rollout. */
const DEFAULT_STALL_MS = 3000
/**
 * A batch of HAVEs: at least BURST_HAVES within BURST_WINDOW_MS after BATCH_GAP_MS without one.
 * A server fed piece by piece (by us at 90 pieces/s, say) does not send that many at once.
 */
const BATCH_GAP_MS = 2000
const BURST_WINDOW_MS = 50
const BURST_HAVES = 16
/** A batching server is stalled once it stays silent this much longer than its batches. */
const BATCH_MARGIN_MS = 1500
/**
 * The issue's ceiling is 1.2 copies per rollout. Helping stalled servers is where a mixed fleet
 * went past it (1.22 and 1.24 copies in one run: aria2 and rTorrent, choked by their peers, took
 * 91 and 77 MiB of 200 from us). The rest of the margin is for what help does not decide: pieces
 * whose only holder left, the web seed's share, blocks a client's end game asks of us and of a peer.
 * That rest came to 0.08-0.10 copies in mixed fleets (rTorrent's pieces sent again when it leaves):
 * at 1.12 mixed N = 4 sent 1.20 and 1.22 copies in two runs of four, at 1.08 at most 1.15 in six
 * (N = 4 and 8), with no time lost that the runs' noise shows. The budget alone does not bound
 * that re-send (one later run at 1.08 sent 1.22): rTorrent's setup line that keeps it unchoking
 * after it finishes does (`RTORRENT_UNCHOKE_EVERY_PEER`).
 */
const DEFAULT_HELP_COPIES = 1.08
/**
 * Past the budget, a server that has taken nothing new for this long is still helped, a share at
 * a time: its peers do not serve it (every client here revisits its choices within 30 s), and the
 * budget must not leave it stuck for good. Long against a rollout's minute, short against the fleet
 * view's 5 min to call it stalled.
 */
const LONG_STALL_MS = 30_000
/**
 * The end of a rollout, in windows (see `tailBytes`). Once the publisher's one copy is out its
 * link sits idle, while each server waits for its last pieces from the one or two peers that hold
 * them: 4 x aria2 downloaded at 99 % of the link until the publisher's copy was out at +18.3 s,
 * then at 19-66 % until done at +19.2 s.
 */
const TAIL_WINDOWS = 2

/**
 * How many in-flight windows of pieces only it holds a server may have, its offers included (see
 * `soleBytes`). A server that passes pieces on holds about one window alone: what is on offer to
 * it, and what it took in the last second or so. rTorrent in a mixed fleet of four sometimes
 * passed on almost nothing (0.4-1 MB/s up) while it kept taking fresh pieces from us; when it
 * finished it closed its wire to us (two seeds) and stopped uploading, and the 37-54 MB only it
 * held went out from us a second time: 1.31 copies in one run. Two windows cut that to 13 MB but
 * also caught aria2 servers that pass pieces on (4 x aria2 a second slower: 20.2 s median in six
 * runs, 19.2 s in eight without); four bound it without that cost (18.7-19.7 s).
 */
const SOLE_WINDOWS = 4

interface Tracked {
  wire: SuperSeedWire
  /** Pieces it holds that no other connected server holds (see `soleHolder`). */
  sole: number
  /** Pieces offered to this wire (HAVE sent) that it has not announced yet. */
  offered: Set<number>
  /** Every piece this wire has been told about. */
  revealed: Set<number>
  /** What it holds, from its announcements and the pieces we sent it in full (the seeder's record of the wire). */
  holdings: WireHoldings
  lastProgressAt: number
  started: boolean
  /** When each of its recent pieces from us went out (oldest first), for its window. */
  deliveries: number[]
  /** Fed by us since it stalled, until it shows that others serve it again. */
  helping: boolean
  /** While helping: pieces it announced that we did not offer, i.e. got from other servers. */
  fromOthers: number
  /** When it last sent a HAVE (or its wire started), and the burst of HAVEs that began then. */
  lastHaveAt: number
  burstAt: number
  burstGapMs: number
  burstHaves: number
  /** The longest silence it has shown before a batch of HAVEs: how long it keeps news to itself. */
  batchMs: number
  /** Pieces it is taking over the web seed as their first copy (counted in `inFlight`). */
  claimed: Set<number>
  /** It has said "interested" on this wire: what we offer it, it fetches. */
  interested: boolean
  /** Pieces it claims that no server had from us, while its claims are not believed (see the top). */
  doubted: Set<number>
  /** Another server took a piece from it: its claims are believed. */
  believed: boolean
}

export class SuperSeeding {
  private readonly pieceCount: number
  private readonly pieceLength: number
  private readonly length: number
  private readonly perWire: number
  private readonly soleCap: number
  private readonly stallMs: number
  private readonly helpBytes: number
  private readonly tailPieces: number
  private readonly now: () => number
  /** Pieces sent whole to some server, on its wire or over the web seed, repeats included. */
  private delivered = 0
  /** Pieces any server has ever announced: the first phase ends when all have. */
  private readonly seen: Uint8Array
  private seenCount = 0
  /** Per piece: connected servers that hold it. */
  private readonly available: Uint16Array
  /** Per piece: servers offered it and not yet done with it. */
  private readonly inFlight: Uint16Array
  /** Per piece held by exactly one connected server: that server. */
  private readonly soleHolder: (Tracked | undefined)[]
  private readonly wires = new Map<SuperSeedWire, Tracked>()
  /** Doubted claims of all wires together: when none, a newly seen piece needs no look at the others. */
  private doubtedCount = 0
  private cursor = 0
  private timer: NodeJS.Timeout | null = null

  constructor(private readonly options: SuperSeedingOptions) {
    this.pieceCount = options.pieceCount
    this.pieceLength = options.pieceLength
    this.length = options.length ?? options.pieceCount * options.pieceLength
    this.perWire = Math.max(MIN_PIECES_IN_FLIGHT, Math.ceil((options.bytesInFlight ?? DEFAULT_BYTES_IN_FLIGHT) / options.pieceLength))
    this.soleCap = Math.max(this.perWire + 1, Math.ceil((options.soleBytes ?? SOLE_WINDOWS * this.perWire * options.pieceLength) / options.pieceLength))
    this.stallMs = options.stallMs ?? DEFAULT_STALL_MS
    this.helpBytes = (options.helpCopies ?? DEFAULT_HELP_COPIES) * this.length
    this.tailPieces = Math.floor((options.tailBytes ?? TAIL_WINDOWS * this.perWire * options.pieceLength) / options.pieceLength)
    this.now = options.now ?? Date.now
    this.seen = new Uint8Array(options.pieceCount)
    this.available = new Uint16Array(options.pieceCount)
    this.inFlight = new Uint16Array(options.pieceCount)
    this.soleHolder = new Array<Tracked | undefined>(options.pieceCount)
  }

  /** True once every piece has reached a server: the publisher is now the source of last resort. */
  get spread(): boolean {
    return this.seenCount === this.pieceCount
  }

  /**
   * Whether a piece that no server has is still offered to nobody: one more server could be given
   * a fresh piece now. From the moment the last ones are all on offer until the spread, a server
   * can take from us only what it was offered already.
   */
  get freshUnoffered(): boolean {
    for (let n = 0; n < this.pieceCount; n++) {
      const i = (this.cursor + n) % this.pieceCount
      if (this.seen[i] === 0 && (this.inFlight[i] ?? 0) === 0) return true
    }
    return false
  }

  /** Pieces that have reached at least one server. */
  get piecesSeen(): number {
    return this.seenCount
  }

  /**
   * Must run before the seeder announces its pieces on this wire (webtorrent's 'wire' event).
   * `holdings` must have been made for the wire before this (its listeners run first); without
   * it, one is made here. Returns the wire's holdings.
   */
  attach(wire: SuperSeedWire, holdings = new WireHoldings(wire, this.pieceCount, this.pieceLength, this.length)): WireHoldings {
    const t: Tracked = { wire, sole: 0, holdings, offered: new Set(), revealed: new Set(), lastProgressAt: this.now(), deliveries: [], started: false, helping: false, fromOthers: 0, lastHaveAt: this.now(), burstAt: 0, burstGapMs: 0, burstHaves: 0, batchMs: 0, claimed: new Set(), interested: false, doubted: new Set(), believed: false }
    this.wires.set(wire, t)
    holdings.onHeld((index, by) => {
      if (!this.wires.has(wire)) return
      if (by === 'sent') this.delivered++
      if (by === 'sent' && t.offered.has(index)) t.deliveries.push(this.now())
      if (this.isDoubted(t, index, by)) this.doubt(t, index)
      else this.hold(t, index)
      // An announcement is followed by this class's own listener below; our last block is not.
      if (by === 'sent') this.afterChange(t)
    })
    const haveNone = wire.haveNone.bind(wire)
    const bitfield = wire.bitfield.bind(wire)
    const start = (): void => {
      if (t.started) return
      t.started = true
      t.lastProgressAt = this.now()
      t.lastHaveAt = t.lastProgressAt
      if (wire.hasFast) haveNone()
      else bitfield(new Uint8Array(Math.ceil(this.pieceCount / 8)))
      this.topUp(t)
    }
    // The seeder's own announcement (have-all with the fast extension, else a full bitfield)
    // becomes "nothing yet", followed by a few HAVEs.
    wire.haveAll = start
    wire.bitfield = start
    // The holdings have taken the announcement in by now: offer what follows from it.
    wire.on('have', () => {
      this.noteHave(t)
      this.afterChange(t)
    })
    wire.on('interested', () => (t.interested = true))
    wire.on('bitfield', () => this.afterChange(t))
    wire.on('have-all', () => this.afterChange(t))
    wire.once('close', () => {
      this.wires.delete(wire)
      for (const i of t.offered) this.release(i)
      t.offered.clear()
      for (const i of t.claimed) this.release(i)
      t.claimed.clear()
      for (let i = 0; i < this.pieceCount; i++) if (holdings.has(i) && !t.doubted.has(i)) this.dropHolder(t, i)
      this.doubtedCount -= t.doubted.size
      t.doubted.clear()
      // Pieces only it held are now ours alone to give.
      for (const other of this.wires.values()) if (other.started) this.topUp(other)
    })
    return holdings
  }

  /** Stops the stall checks; the wires are the seeder's to close. */
  close(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** Helps every server that has announced nothing new for the stall time. */
  checkStalls(): void {
    for (const t of this.wires.values()) if (t.started) this.topUp(t)
  }

  /**
   * Bytes of [offset, offset + length) that serving `wire`'s server over the web seed would send
   * a second time: pieces some server already has or is being offered. An unknown wire: all.
   */
  overlapOf(wire: SuperSeedWire, offset: number, length: number): number {
    const t = this.wires.get(wire)
    if (!t) return length
    let overlap = 0
    this.eachPiece(offset, length, (index, bytes) => {
      if (!this.isFreshFor(t, index)) overlap += bytes
    })
    return overlap
  }

  /** The web seed is serving `wire`'s server [offset, offset + length): its fresh pieces are that server's to have. */
  claimSpan(wire: SuperSeedWire, offset: number, length: number): void {
    const t = this.wires.get(wire)
    if (!t) return
    this.eachPiece(offset, length, (index) => {
      if (!this.isFreshFor(t, index) || t.claimed.has(index) || t.offered.has(index)) return
      t.claimed.add(index)
      this.inFlight[index] = (this.inFlight[index] ?? 0) + 1
    })
  }

  /**
   * The web seed's response to `wire`'s server ended: sent whole (`complete`), or cut short, when
   * what it claimed is free again for BitTorrent to give.
   */
  spanDone(wire: SuperSeedWire, offset: number, length: number, complete: boolean): void {
    const t = this.wires.get(wire)
    if (!t) return
    if (complete) t.holdings.sentSpan(offset, length)
    else
      this.eachPiece(offset, length, (index) => {
        if (t.claimed.delete(index)) this.release(index)
      })
  }

  /**
   * A piece no server holds, takes over the web seed or is fetching from us, save `t` itself. An
   * offer to a server that has never said "interested" is not being fetched: four Transmissions
   * before their pulse each saw the pieces offered to the other three as taken, spent the web
   * seed's share on them within 6 s, and their web seeds gave up after five refusals.
   */
  private isFreshFor(t: Tracked, index: number): boolean {
    if (this.seen[index] === 1 || t.holdings.has(index)) return false
    const own = (t.offered.has(index) ? 1 : 0) + (t.claimed.has(index) ? 1 : 0)
    if ((this.inFlight[index] ?? 0) - own === 0) return true
    for (const other of this.wires.values()) {
      if (other !== t && (other.claimed.has(index) || (other.interested && other.offered.has(index)))) return false
    }
    return true
  }

  private eachPiece(offset: number, length: number, fn: (index: number, bytes: number) => void): void {
    forEachPieceIn(offset, length, this.pieceLength, this.length, fn)
  }

  /**
   * Learns whether a server batches its HAVEs: Transmission 3.00 sends them at low priority, a
   * batch every 10 s, so it shows no progress for 10 s at a time while it downloads at full speed.
   * Taken for stalled after 3 s, it was fed from us as a stalled server is, piece after piece that
   * other servers held: a tenth of a copy in a mixed fleet of eight.
   */
  private noteHave(t: Tracked): void {
    const now = this.now()
    if (now - t.lastHaveAt >= BATCH_GAP_MS) {
      t.burstAt = now
      t.burstGapMs = now - t.lastHaveAt
      t.burstHaves = 1
    } else if (now - t.burstAt <= BURST_WINDOW_MS && ++t.burstHaves === BURST_HAVES) {
      t.batchMs = Math.max(t.batchMs, t.burstGapMs)
    }
    t.lastHaveAt = now
  }

  /**
   * Whether `t`'s word that it holds `index` is not taken (see the top): a piece no server has had
   * from us, from a server not yet believed. News of such a piece that only one other server
   * claims makes that one believed first, and then it is not doubted.
   */
  private isDoubted(t: Tracked, index: number, by: HeldBy): boolean {
    if (by === 'sent' || t.believed || this.seen[index] === 1) return false
    if (by !== 'news') return true
    let source: Tracked | null = null
    for (const other of this.wires.values()) {
      if (other === t || !other.doubted.has(index)) continue
      if (source) return true
      source = other
    }
    if (!source) return true
    this.believe(source)
    return false
  }

  /** `t` claims `index`: it is not offered it, and nothing else here counts it. */
  private doubt(t: Tracked, index: number): void {
    if (t.offered.delete(index)) this.release(index)
    if (t.claimed.delete(index)) this.release(index)
    t.revealed.add(index)
    t.doubted.add(index)
    this.doubtedCount++
  }

  /** Another server took a piece from `t`: what it claims, it holds. */
  private believe(t: Tracked): void {
    t.believed = true
    const claims = [...t.doubted]
    this.doubtedCount -= t.doubted.size
    t.doubted.clear()
    for (const index of claims) this.hold(t, index)
    this.afterChange(t)
  }

  /** `t`'s server has come to hold `index` (its holdings say so once per piece). */
  private hold(t: Tracked, index: number): void {
    const offered = t.offered.delete(index)
    if (offered) this.release(index)
    const claimed = t.claimed.delete(index)
    if (claimed) this.release(index)
    t.revealed.add(index)
    if (t.helping && !(offered || claimed) && ++t.fromOthers >= this.perWire) t.helping = false
    t.lastProgressAt = this.now()
    this.addHolder(t, index)
    if (this.seen[index] === 0) {
      this.seen[index] = 1
      this.seenCount++
      // A claim of a piece that has now reached a server is taken, as one made after it would be.
      if (this.doubtedCount > 0) {
        for (const other of this.wires.values()) {
          if (other === t || !other.doubted.delete(index)) continue
          this.doubtedCount--
          this.addHolder(other, index)
        }
      }
      if (this.seenCount === this.pieceCount) this.onSpread()
    }
  }

  private onSpread(): void {
    this.timer = setInterval(() => this.checkStalls(), Math.max(250, Math.floor(this.stallMs / 3)))
    this.timer.unref()
    this.options.onSpread?.()
  }

  /** `t` now holds `index` too. */
  private addHolder(t: Tracked, index: number): void {
    const before = this.available[index] ?? 0
    this.available[index] = before + 1
    if (before === 0) {
      this.soleHolder[index] = t
      t.sole++
    } else if (before === 1) {
      const alone = this.soleHolder[index]
      this.soleHolder[index] = undefined
      if (alone && alone !== t) this.loseSole(alone)
    }
  }

  /** `t`'s wire closed while it held `index`. */
  private dropHolder(t: Tracked, index: number): void {
    const after = (this.available[index] ?? 1) - 1
    this.available[index] = after
    if (this.soleHolder[index] === t) this.soleHolder[index] = undefined
    if (after !== 1) return
    for (const other of this.wires.values()) {
      if (other !== t && other.holdings.has(index)) {
        this.soleHolder[index] = other
        other.sole++
        return
      }
    }
  }

  /** Another server now holds one of `t`'s pieces too: it may be under its cap again. */
  private loseSole(t: Tracked): void {
    t.sole--
    if (!this.spread) this.afterChange(t)
  }

  /**
   * Whether `t` may be offered pieces no server has: under its cap of pieces only it holds, or no
   * other server that fetches from us is (then the publisher's upload would sit idle).
   */
  private mayTakeFresh(t: Tracked): boolean {
    if (this.underSoleCap(t)) return true
    for (const other of this.wires.values()) {
      if (other !== t && other.started && other.interested && other.holdings.count < this.pieceCount && this.underSoleCap(other)) return false
    }
    return true
  }

  private underSoleCap(t: Tracked): boolean {
    return t.sole + t.offered.size < this.soleCap
  }

  private release(index: number): void {
    if ((this.inFlight[index] ?? 0) > 0) this.inFlight[index] = (this.inFlight[index] ?? 1) - 1
  }

  private afterChange(t: Tracked): void {
    if (t.started) this.topUp(t)
  }

  /** Offers `t` pieces until it has its share in flight, by the rules of the phase. */
  private topUp(t: Tracked): void {
    if (t.holdings.count === this.pieceCount) return
    if (this.spread && !t.helping && this.mayHelp(t) && this.now() - t.lastProgressAt >= Math.max(this.stallMs, t.batchMs + BATCH_MARGIN_MS)) {
      // Its peers do not serve it (rTorrent is often choked by servers it does not upload to):
      // keep it supplied, as in the first phase, until it gets a share of pieces elsewhere.
      t.helping = true
      t.fromOthers = 0
    }
    // Near its end a server fetching from us gets our idle upload too, within the budget only
    // (a helped one already has it: mayHelp covers the budget and more).
    const tail = this.spread && t.interested && this.pieceCount - t.holdings.count <= this.tailPieces
    const window = this.windowOf(t)
    const wasUnderCap = this.underSoleCap(t)
    while (t.offered.size < window) {
      if (!this.spread && !this.mayTakeFresh(t)) break
      const next = this.spread ? this.pickLastResort(t, (t.helping && this.mayHelp(t)) || (tail && this.withinBudget())) : this.pickUnseen(t, t.offered.size === 0)
      if (next === null) break
      t.offered.add(next)
      t.revealed.add(next)
      this.inFlight[next] = (this.inFlight[next] ?? 0) + 1
      t.wire.have(next)
    }
    // It has just reached its cap: servers held back by theirs may now be the only ones left to take fresh pieces.
    if (!this.spread && wasUnderCap && !this.underSoleCap(t)) {
      for (const other of this.wires.values()) if (other !== t && other.started && !this.underSoleCap(other)) this.topUp(other)
    }
  }

  /** Within the help budget (what the release has cost plus the pieces on offer, against `helpCopies`), or `t` has been stuck for long. */
  private mayHelp(t: Tracked): boolean {
    if (this.now() - t.lastProgressAt >= LONG_STALL_MS) return true
    // Its last window costs a window at most: an rTorrent stuck at 97 % past the budget waited
    // for the 30 s share (its own 30 s tick parks the seeds it could fetch from), 49.9 s for a
    // mixed fleet of eight that otherwise takes about 30.
    if (this.pieceCount - t.holdings.count <= this.perWire) return true
    return this.withinBudget()
  }

  /** What the release has cost, plus the pieces on offer, is under `helpCopies`. */
  private withinBudget(): boolean {
    let offered = 0
    for (const w of this.wires.values()) offered += w.offered.size
    const spent = this.options.uploaded ? this.options.uploaded() : this.delivered * this.pieceLength
    return spent + offered * this.pieceLength < this.helpBytes
  }

  /**
   * Pieces `t` may have offered at once: the default, or what we sent it in the last
   * WINDOW_MS if more. A client asks for a newly offered piece only on its next request round
   * (Transmission 3.00 every 0.5 s), so a server taking the whole link needs more than 8 MiB in
   * flight: a lone Transmission took 200 MiB at 67 Mbit/s with 8 MiB, at the link's 97 with 32. A
   * fleet's servers each get a share of our upload and keep the default.
   */
  private windowOf(t: Tracked): number {
    const since = this.now() - WINDOW_MS
    while (t.deliveries.length > 0 && (t.deliveries[0] ?? 0) < since) t.deliveries.shift()
    return Math.max(this.perWire, t.deliveries.length)
  }

  /**
   * While pieces remain that no server has: one never seen at a server and offered to nobody,
   * scanning on from where the last pick stopped (so servers get disjoint runs). Failing that, and
   * only for a wire with nothing else to fetch (`idle`), the unseen piece with the fewest offers:
   * the end game, when a slower server holds the last ones. A busy wire gets no duplicate, since
   * each one is publisher upload spent twice.
   */
  private pickUnseen(t: Tracked, idle: boolean): number | null {
    let fallback: number | null = null
    let fallbackLoad = Infinity
    for (let n = 0; n < this.pieceCount; n++) {
      const i = (this.cursor + n) % this.pieceCount
      if (this.seen[i] === 1 || t.revealed.has(i) || t.holdings.has(i)) continue
      const load = this.inFlight[i] ?? 0
      if (load === 0) {
        this.cursor = (i + 1) % this.pieceCount
        return i
      }
      if (idle && load < fallbackLoad) {
        fallback = i
        fallbackLoad = load
      }
    }
    return fallback
  }

  /**
   * After every piece has reached a server: a piece `t` lacks that no connected server holds; or,
   * for a stalled server, the rarest piece it lacks (fewest holders, then fewest offers).
   */
  private pickLastResort(t: Tracked, stalled: boolean): number | null {
    let best: number | null = null
    let bestScore = Infinity
    for (let n = 0; n < this.pieceCount; n++) {
      const i = (this.cursor + n) % this.pieceCount
      if (t.revealed.has(i) || t.holdings.has(i)) continue
      const holders = this.available[i] ?? 0
      if (holders > 0 && !stalled) continue
      const score = holders * 65536 + (this.inFlight[i] ?? 0)
      if (score < bestScore) {
        best = i
        bestScore = score
        if (score === 0) break
      }
    }
    if (best !== null) this.cursor = (best + 1) % this.pieceCount
    return best
  }
}
