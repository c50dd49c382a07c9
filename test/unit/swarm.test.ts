import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Swarm, compactAddress, type SwarmAnnounce } from '../../electron/engine/swarm.js'

const HASH = 'ab'.repeat(20)

function id(n: number): string {
  return Buffer.from(`-TS0001-${String(n).padStart(12, '0')}`).toString('hex')
}

function peer(n: number, fields: Partial<SwarmAnnounce> = {}): SwarmAnnounce {
  return { ip: `10.0.${n >> 8}.${n & 255}`, port: 6881, peerId: id(n), left: 100, event: 'started', ...fields }
}

test('counts follow each peer: start, progress, complete, stop; a re-announce is the same peer', () => {
  const swarm = new Swarm(HASH, { maxPeers: 1000, ttlMs: 60_000 })
  swarm.announce(peer(1))
  swarm.announce(peer(2, { left: 0 }))
  assert.deepEqual([swarm.complete, swarm.incomplete, swarm.size], [1, 1, 2])
  swarm.announce(peer(1, { event: 'update', left: 50 }))
  assert.deepEqual([swarm.complete, swarm.incomplete, swarm.size], [1, 1, 2])
  swarm.announce(peer(1, { event: 'completed', left: 0 }))
  assert.deepEqual([swarm.complete, swarm.incomplete], [2, 0])
  // A client that rechecks its data and finds pieces missing is downloading again.
  swarm.announce(peer(2, { event: 'update', left: 10 }))
  assert.deepEqual([swarm.complete, swarm.incomplete], [1, 1])
  swarm.announce(peer(2, { event: 'stopped' }))
  swarm.announce(peer(3, { event: 'stopped' }))
  assert.deepEqual([swarm.complete, swarm.incomplete, swarm.size], [1, 0, 1])
  // An update from a peer never seen (say, after a restart) joins it.
  swarm.announce(peer(4, { event: 'update' }))
  assert.deepEqual(swarm.peers().map((p) => p.peerId), [id(1), id(4)])
})

test('a sample is distinct, random, bounded by numwant and never holds the asking peer', () => {
  const swarm = new Swarm(HASH, { maxPeers: 1000, ttlMs: 60_000 })
  for (let n = 0; n < 300; n++) swarm.announce(peer(n))
  const seen = new Set<string>()
  for (let round = 0; round < 40; round++) {
    const sample = swarm.sample(50, id(7))
    assert.equal(sample.length, 50)
    assert.equal(new Set(sample.map((p) => p.addr)).size, 50, 'no peer twice in one reply')
    assert.ok(!sample.some((p) => p.peerId === id(7)))
    for (const p of sample) seen.add(p.addr)
  }
  assert.ok(seen.size > 250, `samples spread over the swarm (${seen.size} of 300 seen)`)
  assert.equal(swarm.sample(1000, id(7)).length, 299, 'everyone but the asking peer')
  // Removal keeps the sampling array dense and consistent.
  for (let n = 0; n < 300; n += 2) swarm.announce(peer(n, { event: 'stopped' }))
  const rest = swarm.sample(1000, 'none')
  assert.deepEqual(rest.map((p) => p.peerId).sort(), Array.from({ length: 150 }, (_, i) => id(2 * i + 1)).sort())
})

test('full: the longest-silent peer makes room; silent past the TTL: gone', () => {
  let now = 0
  const swarm = new Swarm(HASH, { maxPeers: 3, ttlMs: 10_000 }, () => now)
  swarm.announce(peer(1))
  now = 1
  swarm.announce(peer(2, { left: 0 }))
  now = 2
  swarm.announce(peer(3))
  now = 3
  swarm.announce(peer(1, { event: 'update' }))
  now = 4
  swarm.announce(peer(4))
  assert.deepEqual(swarm.peers().map((p) => p.peerId), [id(3), id(1), id(4)], 'peer 2 was the longest silent')
  assert.deepEqual([swarm.complete, swarm.incomplete], [0, 3])
  now = 10_003
  assert.deepEqual(swarm.peers().map((p) => p.peerId), [id(1), id(4)], 'peer 3 last announced at 2')
  now = 20_000
  assert.deepEqual(swarm.peers(), [])
  assert.deepEqual([swarm.complete, swarm.incomplete], [0, 0])
})

test('compact forms: 6 bytes for IPv4, 18 for IPv6 (embedded IPv4 too), none for a scoped address', () => {
  assert.equal(compactAddress('192.168.1.20', 6881)?.toString('hex'), 'c0a801141ae1')
  assert.equal(compactAddress('::1', 80)?.toString('hex'), '00000000000000000000000000000001' + '0050')
  assert.equal(compactAddress('fd00:1:2::3', 1)?.toString('hex'), 'fd000001000200000000000000000003' + '0001')
  assert.equal(compactAddress('2001:db8::ffff:1.2.3.4', 2)?.toString('hex'), '20010db8000000000000ffff01020304' + '0002')
  assert.equal(compactAddress('1:2:3:4:5:6:7:8', 3)?.toString('hex'), '00010002000300040005000600070008' + '0003')
  assert.equal(compactAddress('fe80::1%eth0', 4), null)
  assert.equal(compactAddress('not an address', 5), null)
})

test('the flat compact table follows every join, leave, growth and peer id change, IPv4 and IPv6 alike', () => {
  const swarm = new Swarm(HASH, { maxPeers: 10_000, ttlMs: 60_000 })
  const v6 = (n: number) => `fd00::${n.toString(16)}`
  // 300 peers (past the table's first sizes), every third one IPv6, then half of them leave: each
  // leave moves the last slot's bytes into the hole.
  for (let n = 0; n < 300; n++) swarm.announce(peer(n, n % 3 === 0 ? { ip: v6(n) } : {}))
  for (let n = 0; n < 300; n += 2) swarm.announce(peer(n, n % 3 === 0 ? { ip: v6(n), event: 'stopped' } : { event: 'stopped' }))
  const slots = swarm.sampleSlots(1000, 'none')
  assert.equal(slots.length, 150)
  const byId = new Map(swarm.peers().map((p) => [p.peerId, p]))
  for (const p of byId.values()) {
    const out = Buffer.alloc(18)
    const end = swarm.copyCompact(p.slot, out, 0)
    assert.equal(swarm.compactLengthAt(p.slot), end)
    assert.equal(out.subarray(0, end).toString('hex'), compactAddress(p.ip, p.port)?.toString('hex'), `slot ${p.slot} holds ${p.ip}'s bytes`)
  }
  // A peer that restarts under a new peer id at the same address is excluded by its new id only.
  const first = [...byId.values()][0]
  assert.ok(first)
  swarm.announce({ ip: first.ip, port: first.port, peerId: id(9999), left: 1, event: 'update' })
  assert.ok(!swarm.sample(1000, id(9999)).some((p) => p.addr === first.addr))
  assert.ok(swarm.sample(1000, 'none').some((p) => p.addr === first.addr))
  assert.equal(swarm.sample(1000, id(9999)).length, 149)
})

test('sampling is uniform: over many replies every peer is picked about equally often', () => {
  const swarm = new Swarm(HASH, { maxPeers: 1000, ttlMs: 60_000 })
  for (let n = 0; n < 100; n++) swarm.announce(peer(n))
  const picks = new Map<string, number>()
  const rounds = 4000
  for (let round = 0; round < rounds; round++) for (const p of swarm.sample(10, 'none')) picks.set(p.addr, (picks.get(p.addr) ?? 0) + 1)
  // Each peer's expected count is 400. Pearson's chi-square over the 100 counts is about 90 for a
  // uniform sampler (99 degrees of freedom, a little less spread since a reply never repeats a
  // peer); 200 is beyond 7 standard deviations, while a sampler that favoured a tenth of the
  // swarm by a quarter would score about 280.
  const counts = [...picks.values()]
  assert.equal(counts.length, 100)
  const chiSquare = counts.reduce((sum, c) => sum + (c - 400) ** 2 / 400, 0)
  assert.ok(chiSquare < 200, `chi-square ${chiSquare.toFixed(1)} (counts ${Math.min(...counts)}..${Math.max(...counts)})`)
})
