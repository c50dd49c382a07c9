/**
 * Whom the web seed serves. The seeder's view of each server (interest, wire age) is a plain
 * object here; `serve-aria2.test.ts` runs the gate with a real aria2c (refused while it takes the
 * release over BitTorrent) and the fleet benchmark with real Transmission, qBittorrent and aria2.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WebSeedGate, type BitTorrentStanding } from '../../electron/engine/web-seed-gate.js'

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

test('the share counts responses still being sent: four requests at once cannot pass it together', async () => {
  const sent = new Map<string, number>()
  const share = 4 * 128 * 1024 + 1000
  const gate = new WebSeedGate({
    standing: () => ({ interested: false, wireAgeMs: 5_000 }),
    sentOf: (h) => sent.get(h) ?? 0,
    withinShare: (_h, bytes) => bytes <= share,
  })
  const piece = 128 * 1024
  const verdicts = await Promise.all([1, 2, 3, 4, 5].map(() => gate.decide(HASH, '10.0.0.8', () => false, piece)))
  assert.deepEqual(verdicts, ['serve', 'serve', 'serve', 'serve', 'refuse'], 'the fifth would pass the share while four are in flight')
  // Two responses end: one sent in full (the request log counts it), one cut short halfway.
  sent.set(HASH, piece + piece / 2)
  gate.ended(HASH, piece)
  gate.ended(HASH, piece)
  assert.equal(await gate.decide(HASH, '10.0.0.8', () => false, piece), 'refuse', 'sent 1.5 pieces + 2 in flight + this one pass the share')
  assert.equal(await gate.decide(HASH, '10.0.0.8', () => false, piece / 4), 'serve', 'a smaller range still fits')
  assert.equal(gate.verdict('b'.repeat(40), '10.0.0.8', piece), 'serve', 'counted per release')
})
