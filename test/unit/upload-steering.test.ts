/**
 * The publisher's upload steered to the servers furthest behind. The wires are plain objects
 * standing in for bittorrent-protocol wires (a piece() that records what went out, the pending
 * requests, 'cancel' and 'close'), and time is node:test's mock clock; the fleet benchmark
 * measures what steering changes with real aria2 servers.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { leaderPaces, UploadSteering, type SteeredWire } from '../../electron/engine/upload-steering.js'

const MiB = 2 ** 20
const BLOCK = 16 * 1024

class FakeWire extends EventEmitter implements SteeredWire {
  readonly sent: [number, number][] = []
  peerRequests: unknown[] = []
  destroyed = false
  uploaded = 0
  constructor(public held: number) {
    super()
  }
  piece(index: number, offset: number, buffer: Uint8Array): void {
    this.sent.push([index, offset])
    this.uploaded += buffer.length
  }
}

function steeringOf(ctx: TestContext, wires: FakeWire[], canShift?: () => boolean): UploadSteering<FakeWire> {
  ctx.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000 })
  const steering = new UploadSteering<FakeWire>({ held: (w) => w.held, uploaded: (w) => w.uploaded, canShift })
  for (const w of wires) steering.attach(w)
  ctx.after(() => steering.close())
  return steering
}

/** `bytes` of blocks sent on `wire` through its (possibly paced) piece(). */
function request(wire: FakeWire, bytes: number, firstIndex = 0): void {
  for (let at = 0; at < bytes; at += BLOCK) wire.piece(firstIndex + Math.floor(at / (256 * 1024)), at % (256 * 1024), new Uint8Array(BLOCK))
}

/**
 * A server 100 MiB along and one at `behindHeld`, both fetching, after two rounds of a 12 MB/s
 * link shared evenly between them, so the steering has learnt the link.
 */
function leaderAndOneBehind(ctx: TestContext, behindHeld: number, canShift?: () => boolean): { leader: FakeWire; behind: FakeWire; steering: UploadSteering<FakeWire> } {
  const leader = new FakeWire(100 * MiB)
  const behind = new FakeWire(behindHeld)
  const steering = steeringOf(ctx, [leader, behind], canShift)
  leader.peerRequests = [{}]
  behind.peerRequests = [{}]
  for (let round = 0; round < 2; round++) {
    request(leader, 3_000_000)
    request(behind, 3_000_000)
    ctx.mock.timers.tick(500)
  }
  return { leader, behind, steering }
}

test('leaderPaces: no pacing while every server is within the lead of the one behind', () => {
  const inputs = [0, 4, 8].map((m) => ({ held: m * MiB, rate: 4e6 }))
  assert.deepEqual(leaderPaces(inputs, 12e6, 8 * MiB), [0, 0, 0])
  assert.deepEqual(leaderPaces([{ held: 100 * MiB, rate: 12e6 }], 12e6, 8 * MiB), [0], 'a lone server is never paced')
})

test('leaderPaces: the leaders share what the servers behind leave of the link, less a half share of headroom each', () => {
  // 8 servers on a 12 MB/s link: 6 leaders, 2 behind that took 3 MB/s between them.
  const inputs = [...Array<number>(6).fill(100), 80, 82].map((m, i) => ({ held: m * MiB, rate: i < 6 ? 1.5e6 : 1.5e6 }))
  const paces = leaderPaces(inputs, 12e6, 8 * MiB)
  const headroom = (2 * 12e6) / (2 * 8)
  const each = (12e6 - 3e6 - headroom) / 6
  assert.deepEqual(paces, [each, each, each, each, each, each, 0, 0])
  // A server behind that takes everything it is given leaves the leaders their floor, a quarter of the link.
  const greedy = leaderPaces([{ held: 100 * MiB, rate: 1e6 }, { held: 0, rate: 11e6 }], 12e6, 8 * MiB)
  assert.deepEqual(greedy, [3e6, 0])
})

test('an unpaced wire sends each block at once', (ctx) => {
  const wire = new FakeWire(0)
  steeringOf(ctx, [wire])
  request(wire, 4 * BLOCK)
  assert.equal(wire.sent.length, 4)
})

test('a leader is paced from the next round: its blocks wait and go out at its pace; the server behind is not held back', (ctx) => {
  const { leader, behind, steering } = leaderAndOneBehind(ctx, 10 * MiB)
  const pace = steering.paceOf(leader)
  assert.ok(pace > 0, 'the leader is paced')
  assert.equal(steering.paceOf(behind), 0)
  const before = leader.sent.length
  request(leader, 2 * MiB)
  request(behind, 2 * MiB)
  assert.equal(behind.sent.length - 2 * Math.ceil(3_000_000 / BLOCK), (2 * MiB) / BLOCK, 'the server behind got its blocks at once')
  assert.ok(leader.sent.length - before <= 2, 'the leader sends at most its burst at once')
  // Node 20's mock clock shows each interval callback the end of a tick: tick as the pacer does.
  for (let ms = 0; ms < 100; ms += 5) ctx.mock.timers.tick(5)
  const inTenth = (leader.sent.length - before) * BLOCK
  assert.ok(inTenth <= pace / 10 + 3 * BLOCK && inTenth >= pace / 10 - 3 * BLOCK, `${inTenth} bytes in 100 ms at ${pace} B/s`)
})

test('a cancelled request leaves the queue; closing the steering sends what waits', (ctx) => {
  const { leader, behind, steering } = leaderAndOneBehind(ctx, 0)
  assert.ok(steering.paceOf(leader) > 0)
  assert.equal(steering.paceOf(behind), 0)
  const before = leader.sent.length
  request(leader, 10 * BLOCK, 500)
  const waiting = 10 - (leader.sent.length - before)
  assert.ok(waiting >= 8, 'most blocks wait')
  // The last block asked for: piece 500 + floor(9 × 16 KiB / 256 KiB) = 500, offset 9 × 16 KiB.
  leader.emit('cancel', 500, 9 * BLOCK, BLOCK)
  steering.close()
  assert.equal(leader.sent.length - before, 9, 'the cancelled block never went out')
  assert.ok(!leader.sent.some(([i, o]) => i === 500 && o === 9 * BLOCK))
})

test('a leader that falls back within the lead is released at once, its queue flushed', (ctx) => {
  const { leader, behind, steering } = leaderAndOneBehind(ctx, 0)
  const before = leader.sent.length
  request(leader, 20 * BLOCK)
  assert.ok(leader.sent.length - before < 20)
  behind.held = 96 * MiB
  ctx.mock.timers.tick(500)
  assert.equal(steering.paceOf(leader), 0)
  assert.equal(leader.sent.length - before, 20)
})

test('while the servers behind could take nothing more from us, no leader is paced', (ctx) => {
  // With super-seeding: the last fresh pieces are all on offer, and not every piece has reached a server yet.
  let canShift = false
  const { leader, behind, steering } = leaderAndOneBehind(ctx, 0, () => canShift)
  assert.equal(steering.paceOf(leader), 0)
  const before = leader.sent.length
  request(leader, 20 * BLOCK)
  assert.equal(leader.sent.length - before, 20, 'the leader sends at once')
  canShift = true
  request(leader, 3_000_000)
  request(behind, 3_000_000)
  ctx.mock.timers.tick(500)
  assert.ok(steering.paceOf(leader) > 0, 'paced again once the servers behind can take more')
})
