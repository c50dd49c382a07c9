import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { RequestBackpressure, type BackpressuredWire } from '../../electron/engine/request-backpressure.js'

const BLOCK = 16384

/** A wire as bittorrent-protocol keeps one: each request handed on waits in peerRequests until answered. */
class FakeWire extends EventEmitter implements BackpressuredWire {
  hasFast = true
  destroyed = false
  peerRequests: { index: number; offset: number; length: number }[] = []
  _readableState = { buffered: 0 }
  served: string[] = []
  rejected: string[] = []
  _onRequest(index: number, offset: number, length: number): void {
    this.served.push(`${index}:${offset}`)
    this.peerRequests.push({ index, offset, length })
  }
  reject(index: number, offset: number, length: number): void {
    this.rejected.push(`${index}:${offset}:${length}`)
  }
  /** The block's read is done: it moves from peerRequests to the wire's buffer. */
  answer(): void {
    const r = this.peerRequests.shift()
    if (r) this._readableState.buffered += r.length
  }
}

const request = (wire: FakeWire, index: number, offset = 0): void => wire._onRequest(index, offset, BLOCK)

test('requests wait while the wire holds the high-water mark, and go on in order as the socket takes its bytes', () => {
  const queued = new Map<FakeWire, number>()
  const flow = new RequestBackpressure<FakeWire>({ highWater: 4 * BLOCK, queuedBytes: (w) => queued.get(w) ?? 0, pollMs: 60_000 })
  const wire = new FakeWire()
  flow.attach(wire)
  for (let i = 0; i < 10; i++) request(wire, i)
  assert.deepEqual(wire.served, ['0:0', '1:0', '2:0', '3:0'], 'four blocks being read fill the high-water mark')
  assert.equal(flow.waitingOn(wire), 6)
  for (let i = 0; i < 4; i++) wire.answer()
  flow.release()
  assert.equal(wire.served.length, 4, 'answered but unsent blocks count as held')
  wire._readableState.buffered = 2 * BLOCK // the socket took two
  flow.release()
  assert.deepEqual(wire.served.slice(4), ['4:0', '5:0'])
  // Blocks waiting in the upload steering's queue count too.
  wire.answer()
  wire.answer()
  wire._readableState.buffered = 0
  queued.set(wire, 3 * BLOCK)
  flow.release()
  assert.deepEqual(wire.served.slice(6), ['6:0'])
  // A cancelled request that still waits is forgotten.
  wire.emit('cancel', 8, 0, BLOCK)
  queued.set(wire, 0)
  wire.answer()
  wire._readableState.buffered = 0
  flow.release()
  assert.deepEqual(wire.served.slice(7), ['7:0', '9:0'])
  assert.equal(flow.waitingOn(wire), 0)
  flow.close()
})

test('past maxRequests outstanding, a request is rejected with the fast extension and dropped without it', () => {
  const flow = new RequestBackpressure<FakeWire>({ highWater: 100 * BLOCK, maxRequests: 5, pollMs: 60_000 })
  const fast = new FakeWire()
  const plain = new FakeWire()
  plain.hasFast = false
  flow.attach(fast)
  flow.attach(plain)
  for (const wire of [fast, plain]) for (let i = 0; i < 7; i++) request(wire, i)
  assert.deepEqual(fast.rejected, [`5:0:${BLOCK}`, `6:0:${BLOCK}`])
  assert.deepEqual(plain.rejected, [])
  assert.equal(flow.refused, 4)
  for (const wire of [fast, plain]) assert.equal(wire.served.length, 5)
  flow.close()
})

test('waiting requests are released by the poll, and a closed wire is forgotten', async () => {
  const flow = new RequestBackpressure<FakeWire>({ highWater: BLOCK, pollMs: 5 })
  const wire = new FakeWire()
  flow.attach(wire)
  request(wire, 0)
  request(wire, 1)
  assert.deepEqual(wire.served, ['0:0'])
  wire.peerRequests.length = 0 // answered and sent
  await new Promise((r) => setTimeout(r, 30))
  assert.deepEqual(wire.served, ['0:0', '1:0'])
  request(wire, 2)
  wire.emit('close')
  wire.peerRequests.length = 0
  await new Promise((r) => setTimeout(r, 30))
  assert.deepEqual(wire.served, ['0:0', '1:0'], 'nothing is served on a closed wire')
  flow.close()
})

test('many wires share the total: each holds at most its share, a block at least', () => {
  const flow = new RequestBackpressure<FakeWire>({ highWater: 8 * BLOCK, totalBytes: 12 * BLOCK, pollMs: 60_000 })
  const wires = [new FakeWire(), new FakeWire()]
  for (const w of wires) flow.attach(w)
  assert.equal(flow.share, 6 * BLOCK, 'two wires: half the total each, under the high-water mark')
  for (let i = 0; i < 10; i++) request(wires[0] as FakeWire, i)
  assert.equal((wires[0] as FakeWire).served.length, 6)
  for (let i = 0; i < 10; i++) flow.attach(new FakeWire())
  assert.equal(flow.share, BLOCK, 'twelve wires: one block each')
  for (let i = 0; i < 100; i++) flow.attach(new FakeWire())
  assert.equal(flow.share, BLOCK, 'never below one block')
  const lone = new RequestBackpressure<FakeWire>({ highWater: 8 * BLOCK, totalBytes: 12 * BLOCK })
  lone.attach(new FakeWire())
  assert.equal(lone.share, 8 * BLOCK, 'one wire: the high-water mark')
  flow.close()
  lone.close()
})

test('metadata is answered only while the wire holds less than its share; a full wire\'s requests past the cap are dropped, not rejected', () => {
  const flow = new RequestBackpressure<FakeWire>({ highWater: 2 * BLOCK, maxRequests: 3, pollMs: 60_000 })
  const wire = new FakeWire()
  const answered: number[] = []
  const metadata = { _onRequest: (piece: number): void => void answered.push(piece) }
  Object.assign(wire, { ut_metadata: metadata })
  flow.attach(wire)
  metadata._onRequest(0)
  assert.deepEqual(answered, [0])
  wire._readableState.buffered = 2 * BLOCK // its peer is not reading
  metadata._onRequest(1)
  assert.deepEqual(answered, [0], 'dropped on a full wire')
  for (let i = 0; i < 4; i++) request(wire, i)
  assert.equal(flow.waitingOn(wire), 3)
  assert.deepEqual(wire.rejected, [], 'the fourth is dropped: a REJECT would be held too')
  assert.equal(flow.refused, 2)
  wire._readableState.buffered = 0
  metadata._onRequest(2)
  assert.deepEqual(answered, [0, 2])
  flow.close()
})
