/**
 * Whom the web seed serves. The seeder's view of each server (interest, wire age) is a plain
 * object here; `serve-aria2.test.ts` runs the gate with a real aria2c (refused while it takes the
 * release over BitTorrent) and the fleet benchmark with real Transmission, qBittorrent and aria2.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WebSeedGate, type BitTorrentStanding } from '../../electron/engine/web-seed-gate.js'
import type { ByteSpan } from '../../electron/engine/web-seed.js'

const HASH = 'a'.repeat(40)

function gateWith(standing: Map<string, BitTorrentStanding>): { gate: WebSeedGate; clock: { now: number } } {
  const clock = { now: 1_000_000 }
  const gate = new WebSeedGate({
    standing: (_infoHash, ip) => standing.get(ip) ?? { interested: false, wireAgeMs: null },
    quietMs: 1_000,
    noWireMs: 5_000,
    now: () => clock.now,
  })
  return { gate, clock }
}

test('a server that says "interested" on a wire is refused at once: it takes the release over BitTorrent', () => {
  const { gate } = gateWith(new Map([['10.0.0.2', { interested: true, wireAgeMs: 50 }]]))
  assert.equal(gate.verdict(HASH, '10.0.0.2'), 'refuse')
})

test('a server with a young wire waits; once the wire has been quiet for quietMs it is served (Transmission before its pulse)', () => {
  const standing = new Map([['10.0.0.3', { interested: false, wireAgeMs: 200 }]])
  const { gate } = gateWith(standing)
  assert.equal(gate.verdict(HASH, '10.0.0.3'), 'wait')
  standing.set('10.0.0.3', { interested: false, wireAgeMs: 1_000 })
  assert.equal(gate.verdict(HASH, '10.0.0.3'), 'serve')
  standing.set('10.0.0.3', { interested: true, wireAgeMs: 11_000 })
  assert.equal(gate.verdict(HASH, '10.0.0.3'), 'refuse', 'refused once it says interested (its pulse came)')
})

test('a server with no wire waits for BitTorrent, then is served after noWireMs from its first request (firewalled)', () => {
  const { gate, clock } = gateWith(new Map())
  assert.equal(gate.verdict(HASH, '10.0.0.4'), 'wait')
  clock.now += 4_900
  assert.equal(gate.verdict(HASH, '10.0.0.4'), 'wait')
  clock.now += 100
  assert.equal(gate.verdict(HASH, '10.0.0.4'), 'serve')
  assert.equal(gate.verdict('b'.repeat(40), '10.0.0.4'), 'wait', 'counted per release')
})

test('a wire that keeps reconnecting (its age restarting) cannot hold a request past noWireMs + quietMs', () => {
  const standing = new Map([['10.0.0.5', { interested: false, wireAgeMs: 10 }]])
  const { gate, clock } = gateWith(standing)
  assert.equal(gate.verdict(HASH, '10.0.0.5'), 'wait')
  clock.now += 5_999
  assert.equal(gate.verdict(HASH, '10.0.0.5'), 'wait')
  clock.now += 1
  assert.equal(gate.verdict(HASH, '10.0.0.5'), 'serve')
})

test('past that bound, a server BitTorrent reaches is still held to the share: only a server with no wire is served without one', () => {
  const standing = new Map([
    ['10.0.0.5', { interested: false, wireAgeMs: 10 }],
    ['10.0.0.6', { interested: false, wireAgeMs: null }],
  ])
  const clock = { now: 1_000_000 }
  const gate = new WebSeedGate({ standing: (_h, ip) => standing.get(ip) ?? { interested: false, wireAgeMs: null }, withinShare: () => false, quietMs: 1_000, noWireMs: 5_000, now: () => clock.now })
  const span = { offset: 0, length: 1000 }
  assert.equal(gate.verdict(HASH, '10.0.0.5', span), 'wait')
  assert.equal(gate.verdict(HASH, '10.0.0.6', span), 'wait')
  clock.now += 6_000
  assert.equal(gate.verdict(HASH, '10.0.0.5', span), 'refuse')
  assert.equal(gate.verdict(HASH, '10.0.0.6', span), 'serve')
})

test('aria2 asks before its wire is up, then says interested: held, then refused, never served', async () => {
  const standing = new Map<string, BitTorrentStanding>()
  const gate = new WebSeedGate({ standing: (_h, ip) => standing.get(ip) ?? { interested: false, wireAgeMs: null }, quietMs: 1_000, noWireMs: 5_000 })
  const decided = gate.decide(HASH, '10.0.0.6', () => false)
  setTimeout(() => standing.set('10.0.0.6', { interested: false, wireAgeMs: 0 }), 150)
  setTimeout(() => standing.set('10.0.0.6', { interested: true, wireAgeMs: 100 }), 300)
  assert.equal(await decided, 'refuse')
})

test('a held request whose client leaves ends as gone', async () => {
  const { gate } = gateWith(new Map())
  let left = false
  setTimeout(() => (left = true), 150)
  assert.equal(await gate.decide(HASH, '10.0.0.7', () => left), 'gone')
})

test('the share counts overlap from the moment a response is served: four requests at once cannot pass it together', async () => {
  const share = 4 * 128 * 1024 + 1000
  const gate = new WebSeedGate({
    standing: () => ({ interested: false, wireAgeMs: 5_000 }),
    withinShare: (_h, bytes) => bytes <= share,
  })
  const piece = 128 * 1024
  const span = (n: number): ByteSpan => ({ offset: n * piece, length: piece })
  const verdicts = await Promise.all([0, 1, 2, 3, 4].map((n) => gate.decide(HASH, '10.0.0.8', () => false, span(n))))
  assert.deepEqual(verdicts, ['serve', 'serve', 'serve', 'serve', 'refuse'], 'the fifth would pass the share while four are in flight')
  // Responses that end, whole or cut short, do not give their overlap back: it may have been sent.
  gate.ended(HASH, '10.0.0.8', span(0), true)
  gate.ended(HASH, '10.0.0.8', span(1), false)
  assert.equal(await gate.decide(HASH, '10.0.0.8', () => false, span(5)), 'refuse')
  assert.equal(await gate.decide(HASH, '10.0.0.8', () => false, { offset: 0, length: 500 }), 'serve', 'a smaller range still fits')
  assert.equal(gate.verdict('b'.repeat(40), '10.0.0.8', span(0)), 'serve', 'counted per release')
})

test('pieces no server has yet are not overlap: Transmission takes them over the web seed past the share, and each is claimed and reported', async () => {
  const events: string[] = []
  /** Stand-in for the seeder's super-seeding: the first 2 pieces are out over BitTorrent, the rest fresh. */
  const out = 2
  const piece = 1000
  const gate = new WebSeedGate({
    standing: () => ({ interested: false, wireAgeMs: 5_000 }),
    withinShare: (_h, bytes) => bytes <= piece,
    overlap: (_h, _ip, s) => (s.offset < out * piece ? Math.min(s.length, out * piece - s.offset) : 0),
    serving: (_h, ip, s) => void events.push(`serving ${ip} ${s.offset}`),
    served: (_h, ip, s, complete) => void events.push(`served ${ip} ${s.offset} ${complete ? 'whole' : 'cut'}`),
  })
  const span = (n: number): ByteSpan => ({ offset: n * piece, length: piece })
  const fresh = await Promise.all([2, 3, 4, 5, 6, 7].map((n) => gate.decide(HASH, '10.0.0.9', () => false, span(n))))
  assert.deepEqual(fresh, Array(6).fill('serve'), 'six fresh pieces: six times the share, none of it overlap')
  assert.equal(await gate.decide(HASH, '10.0.0.9', () => false, span(0)), 'serve', 'one piece of overlap fits the share')
  assert.equal(await gate.decide(HASH, '10.0.0.9', () => false, span(1)), 'refuse', 'a second does not')
  assert.equal(await gate.decide(HASH, '10.0.0.9', () => false, span(8)), 'serve', 'fresh pieces still go out past it')
  gate.ended(HASH, '10.0.0.9', span(2), true)
  gate.ended(HASH, '10.0.0.9', span(3), false)
  assert.deepEqual(events.filter((e) => e.startsWith('serving')), [2, 3, 4, 5, 6, 7, 0, 8].map((n) => `serving 10.0.0.9 ${n * piece}`))
  assert.deepEqual(events.filter((e) => e.startsWith('served')), ['served 10.0.0.9 2000 whole', 'served 10.0.0.9 3000 cut'])
})

test('answerWaiting judges a server\'s waiting requests at once (no poll wait) and settles only after they are answered; null when none waits', async () => {
  const standing = new Map([['10.0.0.10', { interested: false, wireAgeMs: 100 }]])
  const { gate } = gateWith(standing)
  assert.equal(gate.answerWaiting(HASH, '10.0.0.10'), null, 'nothing waits yet: the wire may be unchoked at once')
  const order: string[] = []
  const asked = gate.decide(HASH, '10.0.0.10', () => false).then((v) => void order.push(`answered ${v}`))
  const second = gate.decide(HASH, '10.0.0.10', () => false).then((v) => void order.push(`answered ${v}`))
  await new Promise((r) => setImmediate(r))
  assert.equal(order.length, 0, 'young wire, not interested yet: both wait')
  assert.equal(gate.answerWaiting('b'.repeat(40), '10.0.0.10'), null, 'per release')
  assert.equal(gate.answerWaiting(HASH, '10.0.0.11'), null, 'per server')
  // Its wire says "interested": the seeder asks before unchoking it.
  standing.set('10.0.0.10', { interested: true, wireAgeMs: 120 })
  const ready = gate.answerWaiting(HASH, '10.0.0.10')
  assert.ok(ready, 'two requests wait')
  await ready.then(() => void order.push('unchoke'))
  await Promise.all([asked, second])
  // Had they waited for their next poll (100 ms), the unchoke (25 ms) would have come first.
  assert.deepEqual(order, ['answered refuse', 'answered refuse', 'unchoke'], 'both judged on the wake and answered before the unchoke')
  assert.equal(gate.answerWaiting(HASH, '10.0.0.10'), null, 'none waits any more')
})
