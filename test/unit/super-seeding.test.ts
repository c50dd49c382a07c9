/**
 * The super-seeding policy on scripted wires (stand-ins for bittorrent-protocol wires that record
 * what the seeder sends and replay what a server would announce). Real clients run against it in
 * the integration tests (fleet-netns, fleet-view, serve-*); this pins the rules themselves.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { SuperSeeding, type SuperSeedWire } from '../../electron/engine/super-seeding.js'
import type { WireHoldings } from '../../electron/engine/wire-holdings.js'

/** A scripted wire: `sent` is what the seeder told it; `announce()` plays a server's HAVE. */
class ScriptedWire extends EventEmitter implements SuperSeedWire {
  readonly sent: string[] = []
  readonly have = (index: number): void => void this.sent.push(`have ${index}`)
  private readonly pieces = new Set<number>()
  readonly peerPieces = { get: (i: number): boolean => this.pieces.has(i) }
  constructor(readonly hasFast: boolean) {
    super()
  }
  haveNone(): void {
    this.sent.push('have-none')
  }
  haveAll(): void {
    this.sent.push('have-all')
  }
  bitfield(field: Uint8Array | { buffer: Uint8Array }): void {
    const bytes = field instanceof Uint8Array ? field : field.buffer
    this.sent.push(`bitfield ${[...bytes].map((b) => b.toString(2).padStart(8, '0')).join('')}`)
  }
  offered(): number[] {
    return this.sent.filter((m) => m.startsWith('have ')).map((m) => Number(m.slice(5)))
  }
  /** Pieces the server holds before it says so (a bitfield or have-all follows). */
  hold(indices: number[]): void {
    for (const i of indices) this.pieces.add(i)
  }
  /** Its HAVE for `index`, which it got from another server (or says it did). */
  announce(index: number): void {
    this.pieces.add(index)
    this.emit('have', index)
  }
  /** It fetched `index` from us: our last block of it goes out (the seeder counts it then), then its HAVE. */
  take(index: number): void {
    assert.ok(this.holdings, 'attach() it first')
    this.holdings.sent(index, WHOLE_PIECE)
    this.announce(index)
  }
  holdings: WireHoldings | undefined
}

/** More bytes than any piece here. */
const WHOLE_PIECE = 64 * 1024 * 1024

/** `ss.attach(w)`, remembering the wire's holdings for its announcements. */
function attach(ss: SuperSeeding, w: ScriptedWire): WireHoldings {
  const holdings = ss.attach(w)
  w.holdings = holdings
  return holdings
}

const PIECE = 256 * 1024

/** Super-seeding with two servers (fast extension), each then told we have everything, as webtorrent does right after a wire opens. */
function twoServers(options: ConstructorParameters<typeof SuperSeeding>[0]): { ss: SuperSeeding; a: ScriptedWire; b: ScriptedWire; held: Map<ScriptedWire, WireHoldings> } {
  const ss = new SuperSeeding(options)
  const a = new ScriptedWire(true)
  const b = new ScriptedWire(true)
  const held = new Map([
    [a, attach(ss, a)],
    [b, attach(ss, b)],
  ])
  a.haveAll()
  b.haveAll()
  return { ss, a, b, held }
}

test('each server is offered its own pieces, a few at a time, instead of the whole release', () => {
  const { ss, a, b } = twoServers({ pieceCount: 40, pieceLength: PIECE, bytesInFlight: 4 * PIECE })
  assert.equal(a.sent[0], 'have-none')
  assert.deepEqual(a.offered(), [0, 1, 2, 3])
  assert.deepEqual(b.offered(), [4, 5, 6, 7], 'no piece offered to two servers while others are left')
  // A finished piece is replaced at once (lenient super-seeding), by the next unoffered one.
  a.take(1)
  assert.deepEqual(a.offered(), [0, 1, 2, 3, 8])
  assert.equal(ss.piecesSeen, 1)
  assert.equal(ss.spread, false)
})

test('freshUnoffered: whether a piece no server has is still offered to nobody, until the last ones are all on offer', () => {
  const { ss, a, b, held } = twoServers({ pieceCount: 6, pieceLength: PIECE, bytesInFlight: 2 * PIECE })
  assert.deepEqual([a.offered(), b.offered()], [
    [0, 1],
    [2, 3],
  ])
  assert.equal(ss.freshUnoffered, true, '4 and 5 are offered to nobody')
  held.get(a)?.sent(0, PIECE)
  assert.deepEqual(a.offered(), [0, 1, 4])
  assert.equal(ss.freshUnoffered, true)
  held.get(b)?.sent(2, PIECE)
  assert.deepEqual(b.offered(), [2, 3, 5])
  assert.equal(ss.freshUnoffered, false, 'every piece no server has is on offer to someone')
  ss.close()
})

test('a wire without the fast extension gets an empty bitfield of the right length first', () => {
  const ss = new SuperSeeding({ pieceCount: 10, pieceLength: PIECE, bytesInFlight: 2 * PIECE })
  const w = new ScriptedWire(false)
  attach(ss, w)
  w.bitfield(new Uint8Array([0xff, 0xc0]))
  assert.deepEqual(w.sent, ['bitfield 0000000000000000', 'have 0', 'have 1'])
})

test('the end game: an idle server gets a piece another is still fetching; a busy one gets no duplicate', () => {
  const { a, b } = twoServers({ pieceCount: 4, pieceLength: PIECE, bytesInFlight: 2 * PIECE })
  assert.deepEqual(a.offered(), [0, 1])
  assert.deepEqual(b.offered(), [2, 3])
  a.announce(0)
  assert.deepEqual(a.offered(), [0, 1], 'a still fetches 1: nothing doubled for it')
  a.announce(1)
  // a is idle and every unseen piece is with b: it gets one of them.
  assert.equal(a.offered().length, 3)
  assert.ok([2, 3].includes(a.offered()[2] as number))
})

test('once every piece has reached a server, the publisher gives only what no connected server holds, and helps a stalled server', () => {
  let spread = 0
  let now = 1_000
  // A budget of 3 copies: help is what this test is about (the budget has tests of its own below).
  const ss = new SuperSeeding({ pieceCount: 6, pieceLength: PIECE, bytesInFlight: 2 * PIECE, stallMs: 3000, helpCopies: 3, now: () => now, onSpread: () => spread++ })
  const a = new ScriptedWire(true)
  const b = new ScriptedWire(false)
  attach(ss, a)
  attach(ss, b)
  a.haveAll()
  b.bitfield(new Uint8Array([0xfc]))
  for (const i of [0, 1]) a.take(i)
  for (const i of [2, 3]) b.take(i)
  a.take(4)
  assert.equal(ss.spread, false)
  a.take(5)
  assert.equal(ss.spread, true)
  assert.equal(spread, 1)
  const told = (w: ScriptedWire): number => w.offered().length
  const before = [told(a), told(b)]
  // Every piece is held by a connected server: nothing more from us while they progress.
  now += 1000
  ss.checkStalls()
  assert.deepEqual([told(a), told(b)], before, 'no offers while every piece is held by a connected server')

  // A newcomer gets nothing it could fetch from the others...
  const late = new ScriptedWire(true)
  attach(ss, late)
  late.haveAll()
  assert.deepEqual(late.sent, ['have-none'])
  // ...until it stalls: then the rarest pieces it lacks, a share at a time.
  now += 3000
  ss.checkStalls()
  assert.equal(late.offered().length, 2)
  // Fed as in the first phase while its new pieces come from us...
  late.take(late.offered()[0] as number)
  assert.equal(late.offered().length, 3, 'a stalled server is kept supplied')
  // ...until it gets a share (2 pieces here) from other servers: then they serve it again.
  const fromOthers = [0, 1, 2, 3, 4, 5].filter((i) => !late.offered().includes(i)).slice(0, 2)
  for (const i of fromOthers) late.announce(i)
  const offersNow = late.offered().length
  late.take(late.offered()[1] as number)
  assert.equal(late.offered().length, offersNow, 'no more help once others serve it')

  // b leaves: the pieces only it held (2, 3) are ours alone to give, and a gets them at once.
  b.emit('close')
  assert.deepEqual(a.offered().filter((i) => [2, 3].includes(i)).length > 0, true, a.sent.join(', '))
  ss.close()
})

test('a server that closes gives its offers back', () => {
  const ss = new SuperSeeding({ pieceCount: 4, pieceLength: PIECE, bytesInFlight: 2 * PIECE })
  const a = new ScriptedWire(true)
  attach(ss, a)
  a.haveAll()
  assert.deepEqual(a.offered(), [0, 1])
  a.emit('close')
  const b = new ScriptedWire(true)
  attach(ss, b)
  b.haveAll()
  assert.deepEqual(b.offered(), [2, 3])
  const c = new ScriptedWire(true)
  attach(ss, c)
  c.haveAll()
  assert.deepEqual(c.offered(), [0, 1], 'the closed wire\'s pieces are free again')
  ss.close()
})

/** A peer that says it holds `pieces` (all of them: a HAVE ALL) before any server has had one from us; then we announce ours. */
function claimer(ss: SuperSeeding, pieces: number[], pieceCount: number): ScriptedWire {
  const w = new ScriptedWire(true)
  attach(ss, w)
  w.hold(pieces)
  w.emit(pieces.length === pieceCount ? 'have-all' : 'bitfield')
  w.haveAll()
  return w
}

test('a peer claiming every piece before any server has one is doubted: the first phase goes on, and the real servers get their fresh pieces', () => {
  const ss = new SuperSeeding({ pieceCount: 8, pieceLength: PIECE, bytesInFlight: 2 * PIECE })
  const liar = claimer(ss, [0, 1, 2, 3, 4, 5, 6, 7], 8)
  assert.equal(ss.spread, false, 'its word alone does not end the first phase')
  assert.equal(ss.piecesSeen, 0)
  assert.deepEqual(liar.offered(), [], 'it is not offered what it claims')
  const a = new ScriptedWire(true)
  const b = new ScriptedWire(true)
  attach(ss, a)
  attach(ss, b)
  a.haveAll()
  b.haveAll()
  assert.deepEqual(a.offered(), [0, 1])
  assert.deepEqual(b.offered(), [2, 3], 'disjoint fresh pieces, as with no claimer')
  // a passes piece 0 on to b: news of a piece we sent a, not evidence for the claimer.
  a.take(a.offered()[0] as number)
  b.announce(a.offered()[0] as number)
  assert.equal(ss.piecesSeen, 1)
  ss.close()
})

test('a claimer is believed once another server announces, as news, a piece we never sent and only it claims; a claim of a piece already seen counts at once', () => {
  const ss = new SuperSeeding({ pieceCount: 8, pieceLength: PIECE, bytesInFlight: 2 * PIECE })
  // A server restarted with half the release, and one with nothing.
  const restarted = claimer(ss, [4, 5, 6, 7], 8)
  assert.deepEqual(restarted.offered(), [0, 1], 'offered what it lacks')
  const fresh = new ScriptedWire(true)
  attach(ss, fresh)
  fresh.haveAll()
  assert.deepEqual(fresh.offered(), [2, 3])
  assert.equal(ss.piecesSeen, 0)
  // It took piece 6 from the restarted one (we never sent it): the restarted one serves.
  fresh.announce(6)
  assert.equal(ss.piecesSeen, 4, 'its four claims, 6 among them')
  // From now on its news is taken as is, as is what we send it.
  restarted.hold([2])
  restarted.emit('have', 2)
  assert.equal(ss.piecesSeen, 5)
  restarted.announce(0)
  assert.equal(ss.piecesSeen, 6)
  ss.close()
})

test('news that two claimers could have given, or a bitfield, believes nobody; their claims count as each piece reaches a server through us', () => {
  const ss = new SuperSeeding({ pieceCount: 8, pieceLength: PIECE, bytesInFlight: 2 * PIECE })
  const liar = claimer(ss, [0, 1, 2, 3, 4, 5, 6, 7], 8)
  const seed = claimer(ss, [0, 1, 2, 3], 8)
  assert.deepEqual(liar.offered(), [])
  const u = new ScriptedWire(true)
  const held = attach(ss, u)
  u.haveAll()
  const [first] = u.offered()
  assert.ok(first !== undefined && first !== 2)
  // Piece 2 is claimed by both: it may have come from either.
  u.announce(2)
  assert.equal(ss.piecesSeen, 0)
  // A server arriving with piece 5 in its bitfield (only the liar claims 5) proves nothing: it
  // may have had it from us before a restart.
  claimer(ss, [5], 8)
  assert.equal(ss.piecesSeen, 0)
  // We send u a piece in full: seen, and every claim of it now counts.
  held.sent(first, PIECE)
  assert.equal(ss.piecesSeen, 1)
  u.emit('close')
  liar.emit('close')
  seed.emit('close')
  ss.close()
})

test('a piece sent in full counts as the server\'s at once: the next offer does not wait for a HAVE that comes late or never', () => {
  const { ss, a, held } = twoServers({ pieceCount: 20, pieceLength: PIECE, bytesInFlight: 2 * PIECE })
  assert.deepEqual(a.offered(), [0, 1])
  // Transmission 3.00 holds its HAVE back for up to 10 s; our last block of piece 0 has gone out.
  held.get(a)?.sent(0, PIECE)
  assert.deepEqual(a.offered(), [0, 1, 4], 'the next unseen piece, without waiting for the HAVE')
  assert.equal(ss.piecesSeen, 1)
  // The HAVE that follows changes nothing: the piece is already counted.
  a.announce(0)
  assert.deepEqual(a.offered(), [0, 1, 4])
  assert.equal(ss.piecesSeen, 1)
  // A delivery on a wire that has closed is ignored.
  const gone = new ScriptedWire(true)
  const goneHeld = attach(ss, gone)
  gone.haveAll()
  gone.emit('close')
  goneHeld.sent(2, PIECE)
  assert.equal(ss.piecesSeen, 1)
})

test('a server that takes pieces from us fast gets a wider window than one fed a share', () => {
  let now = 0
  const { a: fast, b: slow, held } = twoServers({ pieceCount: 400, pieceLength: PIECE, bytesInFlight: 4 * PIECE, now: () => now })
  assert.equal(fast.offered().length, 4)
  const inFlight = (w: ScriptedWire): number => w.offered().filter((i) => !w.peerPieces.get(i)).length
  const deliverOldest = (w: ScriptedWire): void => {
    const next = w.offered().find((i) => !w.peerPieces.get(i)) as number
    w.hold([next])
    held.get(w)?.sent(next, PIECE)
  }
  // `fast` takes 20 pieces in one second, `slow` 2: a client that asks for a new offer only on its
  // next request round needs more in flight than the default to keep the link busy.
  for (let i = 0; i < 20; i++) {
    now += 50
    deliverOldest(fast)
    if (i % 10 === 0) deliverOldest(slow)
  }
  assert.equal(inFlight(fast), 20, 'as many in flight as it took in the last 2 s')
  assert.equal(inFlight(slow), 4, 'the default for a server fed a share')
  // After two quiet seconds only what it takes from now on counts: its window shrinks back, and
  // the pieces already in flight drain before anything new is offered.
  now += 2500
  const offeredBefore = fast.offered().length
  for (let i = 0; i < 5; i++) deliverOldest(fast)
  assert.equal(fast.offered().length, offeredBefore, 'no new offers while more than its window is in flight')
  assert.equal(inFlight(fast), 15)
})

test('pieces a server takes over the web seed are its first copy: claimed while served, held once whole, freed if cut short', () => {
  // t: Transmission before its pulse (offered pieces on its wire, never asks); a: a server that fetches.
  const { ss, a: t, b: a } = twoServers({ pieceCount: 12, pieceLength: PIECE, length: 11 * PIECE + 100, bytesInFlight: 2 * PIECE })
  a.emit('interested')
  assert.deepEqual(t.offered(), [0, 1])
  assert.deepEqual(a.offered(), [2, 3])
  // Overlap: a's pieces are spent twice if t takes them; t's own offers and unseen pieces are not.
  assert.equal(ss.overlapOf(t, 0, 2 * PIECE), 0, 'offered to t itself')
  assert.equal(ss.overlapOf(t, 2 * PIECE, 2 * PIECE), 2 * PIECE, 'being fetched by a')
  assert.equal(ss.overlapOf(t, 3 * PIECE + 10, PIECE), PIECE - 10, 'counted by the byte')
  assert.equal(ss.overlapOf(t, 11 * PIECE, 100), 0, 'the short last piece')
  assert.equal(ss.overlapOf(new ScriptedWire(true), 0, PIECE), PIECE, 'an unknown wire: all of it')

  // t's web seed serves pieces 6 and 7, one response each: nobody else is offered them meanwhile.
  ss.claimSpan(t, 6 * PIECE, PIECE)
  ss.claimSpan(t, 7 * PIECE, PIECE)
  for (const i of [2, 3, 4, 5]) a.take(i)
  // Its window has widened to the four it took in the last 2 s.
  assert.deepEqual(a.offered(), [2, 3, 4, 5, 8, 9, 10, 11])
  assert.equal(ss.overlapOf(a, 6 * PIECE, PIECE), PIECE, 'claimed by t')

  // Piece 6 arrives in two halves (as two responses would): held only when whole.
  ss.spanDone(t, 6 * PIECE, PIECE / 2, true)
  assert.equal(ss.piecesSeen, 4)
  ss.spanDone(t, 6 * PIECE + PIECE / 2, PIECE / 2, true)
  assert.equal(ss.piecesSeen, 5, '2-5 from a; 6 from the web seed')
  // Piece 7's response is cut short: it is free again, and a is offered it.
  ss.spanDone(t, 7 * PIECE, PIECE, false)
  for (const i of [8, 9, 10, 11]) a.take(i)
  assert.ok(a.offered().includes(7), a.sent.join(', '))
  assert.ok(!a.offered().includes(6), 't holds 6: it is not ours to give again')
})

test('a server that leaves with claims gives them back', () => {
  const ss = new SuperSeeding({ pieceCount: 8, pieceLength: PIECE, bytesInFlight: 2 * PIECE })
  const t = new ScriptedWire(true)
  const a = new ScriptedWire(true)
  attach(ss, t)
  t.haveAll()
  ss.claimSpan(t, 2 * PIECE, 4 * PIECE)
  attach(ss, a)
  a.haveAll()
  assert.deepEqual(a.offered(), [6, 7], 'only pieces offered to nobody and claimed by nobody')
  t.emit('close')
  for (const i of [6, 7, 0, 1]) a.announce(i)
  assert.deepEqual(a.offered(), [6, 7, 0, 1, 2, 3])
})

test('a server that sends its HAVEs in batches (Transmission 3.00, every 10 s) is not taken for stalled between two batches', () => {
  let now = 0
  // Budget enough for both to be helped: when help starts is what this is about.
  const ss = new SuperSeeding({ pieceCount: 32, pieceLength: PIECE, bytesInFlight: 2 * PIECE, stallMs: 3000, helpCopies: 2, now: () => now })
  const a = new ScriptedWire(true)
  const t = new ScriptedWire(true)
  const q = new ScriptedWire(true)
  for (const w of [a, t, q]) {
    attach(ss, w)
    w.haveAll()
  }
  // t takes 20 pieces from us over 10 s and says nothing, then sends 20 HAVEs at once; a takes
  // and announces piece by piece.
  for (let i = 0; i < 20; i++) {
    now = i * 500
    t.holdings?.sent(i, PIECE)
  }
  now = 10_000
  for (let i = 0; i < 20; i++) t.announce(i)
  for (let i = 20; i < 32; i++) a.take(i)
  assert.equal(ss.spread, true)
  // Both take what they were offered; from now on the others hold everything they lack.
  for (const w of [t, q]) for (const i of w.offered()) w.announce(i)
  const offers = (w: ScriptedWire): number => w.offered().length
  const [tBefore, qBefore] = [offers(t), offers(q)]
  now += 4_000
  ss.checkStalls()
  assert.ok(offers(q) > qBefore, 'q, silent for 4 s, is helped')
  assert.equal(offers(t), tBefore, 't is within its own batch period')
  now += 8_000
  ss.checkStalls()
  assert.ok(offers(t) > tBefore, 'silent past its batch period and a margin: t is helped too')
  ss.close()
})

test('an offer to a server that has never said "interested" is not taken: another server may have that piece over the web seed', () => {
  // t1, t2: Transmissions before their pulse; each is offered pieces it does not fetch.
  const { ss, a: t1, b: t2 } = twoServers({ pieceCount: 8, pieceLength: PIECE, bytesInFlight: 2 * PIECE })
  assert.deepEqual(t1.offered(), [0, 1])
  assert.equal(ss.overlapOf(t2, 0, PIECE), 0, 'offered to t1, which fetches nothing')
  ss.claimSpan(t2, 0, PIECE)
  assert.equal(ss.overlapOf(t1, 0, PIECE), PIECE, 't2 has it now: t1 would take it twice')
  assert.equal(ss.overlapOf(new ScriptedWire(true), 0, PIECE), PIECE)
  t1.emit('interested')
  assert.equal(ss.overlapOf(t2, PIECE, PIECE), PIECE, 'once t1 fetches, its offers are taken')
  const t3 = new ScriptedWire(true)
  attach(ss, t3)
  t3.haveAll()
  assert.equal(ss.overlapOf(t3, 0, PIECE), PIECE, 'claimed by t2 over the web seed')
})

/**
 * Two servers (8 pieces) that each take half whole from us (one copy) and the other half from
 * each other: every piece has spread, and the help budget is what decides from here.
 */
function spreadOverTwo(options: Omit<ConstructorParameters<typeof SuperSeeding>[0], 'pieceCount' | 'pieceLength' | 'bytesInFlight' | 'stallMs'>): { ss: SuperSeeding; a: ScriptedWire; b: ScriptedWire } {
  const { ss, a, b, held } = twoServers({ pieceCount: 8, pieceLength: PIECE, bytesInFlight: 2 * PIECE, stallMs: 3000, ...options })
  for (const i of [0, 1, 2, 3]) held.get(a)?.sent(i, PIECE)
  for (const i of [4, 5, 6, 7]) held.get(b)?.sent(i, PIECE)
  for (const i of [4, 5, 6, 7]) a.announce(i)
  for (const i of [0, 1, 2, 3]) b.announce(i)
  return { ss, a, b }
}

test('help for a stalled server stops at the copy budget, save a share for one stuck 30 s; a piece no connected server holds is still given', () => {
  let now = 1_000
  // One copy spent spreading the 8 pieces; the budget is 1.25 copies = 10 pieces.
  const { ss, a, b } = spreadOverTwo({ helpCopies: 1.25, now: () => now })
  assert.equal(ss.spread, true)
  const late = new ScriptedWire(true)
  const lateHeld = attach(ss, late)
  late.haveAll()
  now += 3000
  ss.checkStalls()
  assert.equal(late.offered().length, 2, 'stalled: helped, up to the budget (8 sent + 2 offered)')
  for (const i of late.offered()) lateHeld.sent(i, PIECE)
  now += 3000
  ss.checkStalls()
  assert.equal(late.offered().length, 2, 'budget spent: no more help, though it is stalled again')
  // Stuck for 30 s, though: a share at a time, so the budget never leaves it without a source.
  now += 27_000
  ss.checkStalls()
  assert.equal(late.offered().length, 4, 'stuck 30 s: a share past the budget')
  for (const i of late.offered().slice(2)) lateHeld.sent(i, PIECE)
  now += 3000
  ss.checkStalls()
  assert.equal(late.offered().length, 4, 'it took that share: nothing more until it is stuck again')
  // Both leave: what the newcomer lacks is now ours alone to give, budget or not.
  const lacking = [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => !lateHeld.has(i))
  a.emit('close')
  b.emit('close')
  const given = late.offered().slice(4)
  assert.equal(given.length, 2, 'a share of what it lacks')
  assert.ok(given.every((i) => lacking.includes(i)), `${given.join(', ')} among ${lacking.join(', ')}`)
  ss.close()
})

test('the budget is judged by what the release has cost when the seeder says so: blocks sent twice in a client\'s end game count too', () => {
  let now = 1_000
  let uploaded = 0
  const { ss } = spreadOverTwo({ helpCopies: 1.25, uploaded: () => uploaded, now: () => now })
  // Eight pieces went out whole, but the counter says 1.3 copies left us.
  uploaded = 1.3 * 8 * PIECE
  const late = new ScriptedWire(true)
  attach(ss, late)
  late.haveAll()
  now += 3000
  ss.checkStalls()
  assert.deepEqual(late.offered(), [], 'over budget by the counter: no help')
  uploaded = 8 * PIECE
  now += 1000
  ss.checkStalls()
  assert.equal(late.offered().length, 2, 'under it: helped')
  ss.close()
})

test('a server that passes nothing on stops getting fresh pieces at its cap of pieces only it holds, and gets them again as others take its pieces; with no other taker it is not held back', () => {
  const ss = new SuperSeeding({ pieceCount: 100, pieceLength: PIECE, bytesInFlight: 2 * PIECE, soleBytes: 4 * PIECE })
  const [a, b, c] = [new ScriptedWire(true), new ScriptedWire(true), new ScriptedWire(true)]
  for (const w of [a, b, c]) {
    attach(ss, w)
    w.haveAll()
    w.emit('interested')
  }
  assert.deepEqual([a.offered(), b.offered(), c.offered()], [[0, 1], [2, 3], [4, 5]])
  // a takes what it is offered and passes none of it on (rTorrent choking every peer).
  a.take(0)
  a.take(1)
  assert.deepEqual(a.offered(), [0, 1, 6, 7], 'two held alone and two on offer: at its cap of four')
  a.take(6)
  assert.deepEqual(a.offered(), [0, 1, 6, 7], 'three held alone: no fresh piece while b and c can take them')
  b.take(2)
  assert.deepEqual(b.offered(), [2, 3, 8], 'b, which has passed on nothing yet either, is under its cap')
  // b takes piece 0 from a: a holds one piece fewer alone and is offered one again.
  b.announce(0)
  assert.deepEqual(a.offered(), [0, 1, 6, 7, 9])
  // Once b and c are at their caps too, nobody else could take fresh pieces: a is not held back.
  for (const i of [3, 8]) b.take(i)
  for (const i of [4, 5]) c.take(i)
  assert.ok(b.offered().length > 3 && c.offered().length > 2)
  const before = a.offered().length
  for (const i of [...b.offered(), ...c.offered()]) (b.offered().includes(i) ? b : c).take(i)
  a.take(7)
  assert.ok(a.offered().length > before, `a offered more (${a.offered().join(',')}) once b and c are at their caps`)
})

test('past the budget, a stalled server that lacks no more than a window is helped at once, not after 30 s', () => {
  let now = 1_000
  // One copy spent spreading the 8 pieces; the budget is 1 copy, spent.
  const { ss } = spreadOverTwo({ helpCopies: 1, now: () => now })
  const late = new ScriptedWire(true)
  const lateHeld = attach(ss, late)
  late.hold([0, 1, 2, 3, 4])
  late.haveAll()
  late.emit('bitfield')
  assert.equal(lateHeld.count, 5)
  now += 3000
  ss.checkStalls()
  assert.equal(late.offered().length, 0, 'three pieces missing, more than a window of two: the budget holds')
  late.announce(5)
  now += 3000
  ss.checkStalls()
  assert.deepEqual(late.offered().sort(), [6, 7], 'two missing, a window: helped although the budget is spent')
  ss.close()
})

test('near its end, a server that fetches from us is offered the rarest pieces it lacks while the budget allows, stalled or not', () => {
  // One copy spreads the 16 pieces. A window is two pieces, so the tail is four. The budget is
  // 19 pieces: the 16 sent, and at the spread b still has two on offer (2 and 3, which a took).
  const ss = new SuperSeeding({ pieceCount: 16, pieceLength: PIECE, bytesInFlight: 2 * PIECE, stallMs: 3000, helpCopies: 19 / 16, now: () => 1_000 })
  const [a, b, c] = [new ScriptedWire(true), new ScriptedWire(true), new ScriptedWire(true)]
  const held = new Map([a, b, c].map((w) => [w, attach(ss, w)] as const))
  for (const w of [a, b, c]) w.haveAll()
  a.emit('interested')
  b.emit('interested')
  for (let i = 0; i < 8; i++) held.get(a)?.sent(i, PIECE)
  for (let i = 8; i < 16; i++) held.get(b)?.sent(i, PIECE)
  assert.equal(ss.spread, true)
  assert.deepEqual(b.offered().slice(-2), [2, 3])
  const newOffers = (w: ScriptedWire, from: number): number[] => w.offered().slice(from)
  const [aAt, cAt] = [a.offered().length, c.offered().length]
  for (let i = 0; i < 14; i++) c.announce(i)
  assert.deepEqual(newOffers(c, cAt), [], 'c lacks two pieces but has never asked us for anything')
  for (const i of [8, 9, 10]) a.announce(i)
  assert.deepEqual(newOffers(a, aAt), [], 'five pieces missing, more than the tail: its peers serve it')
  a.announce(11)
  assert.deepEqual(newOffers(a, aAt), [14], 'four missing: of the two only b holds, one, which spends the budget')
  ss.close()
})

test('without a tail (tailBytes 0) a server near its end that is not stalled gets nothing more from us', () => {
  const ss = new SuperSeeding({ pieceCount: 16, pieceLength: PIECE, bytesInFlight: 2 * PIECE, stallMs: 3000, helpCopies: 2, tailBytes: 0, now: () => 1_000 })
  const [a, b] = [new ScriptedWire(true), new ScriptedWire(true)]
  const held = new Map([a, b].map((w) => [w, attach(ss, w)] as const))
  for (const w of [a, b]) w.haveAll()
  a.emit('interested')
  for (let i = 0; i < 8; i++) held.get(a)?.sent(i, PIECE)
  for (let i = 8; i < 16; i++) held.get(b)?.sent(i, PIECE)
  const at = a.offered().length
  for (let i = 8; i < 15; i++) a.announce(i)
  assert.deepEqual(a.offered().slice(at), [])
  ss.close()
})
