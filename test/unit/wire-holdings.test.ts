/**
 * What a server holds on our wire to it: its announcements plus the pieces we sent it whole. The
 * wire here is an EventEmitter standing in for a bittorrent-protocol wire's events; the seeder
 * test drives the same bookkeeping with a real aria2c.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { WireHoldings, type HoldingsWire } from '../../electron/engine/wire-holdings.js'

class FakeWire extends EventEmitter implements HoldingsWire {
  bits = new Set<number>()
  readonly peerPieces = { get: (i: number): boolean => this.bits.has(i) }
}

const KiB = 1024

test('pieces sent whole count as held, so a client that skips the HAVE still completes', () => {
  const wire = new FakeWire()
  let completions = 0
  const held: string[] = []
  // 4 pieces of 32 KiB, the last one 10 KiB.
  const holdings = new WireHoldings(wire, 4, 32 * KiB, 3 * 32 * KiB + 10 * KiB, () => completions++)
  holdings.onHeld((i, by) => held.push(`${i} ${by}`))
  wire.bits.add(0)
  wire.emit('have', 0)
  assert.equal(holdings.progress, 0.25)
  holdings.sent(1, 16 * KiB)
  assert.equal(holdings.progress, 0.25, 'half a piece is not a piece')
  holdings.sent(1, 16 * KiB)
  assert.equal(holdings.progress, 0.5)
  holdings.sent(3, 10 * KiB)
  assert.equal(holdings.progress, 0.75, 'the short last piece is whole at its own length')
  // The HAVE for a piece we sent changes nothing.
  wire.emit('have', 1)
  assert.equal(holdings.progress, 0.75)
  assert.equal(completions, 0)
  holdings.sent(2, 32 * KiB)
  assert.equal(holdings.progress, 1)
  wire.emit('have', 2)
  holdings.sent(2, 16 * KiB)
  assert.equal(completions, 1, 'completion is signalled once')
  assert.deepEqual(held, ['0 news', '1 sent', '3 sent', '2 sent'], 'each piece is reported once, with how it came to be held')
  assert.equal(holdings.count, 4)
  assert.equal(holdings.has(3), true)
})

test('a bitfield or HAVE ALL sets what the server holds; out-of-range indexes are ignored', () => {
  const wire = new FakeWire()
  let completed = false
  const holdings = new WireHoldings(wire, 8, 16 * KiB, 8 * 16 * KiB, () => (completed = true))
  const by: string[] = []
  holdings.onHeld((i, how) => by.push(`${i} ${how}`))
  for (const i of [0, 1, 2]) wire.bits.add(i)
  wire.emit('bitfield')
  assert.equal(holdings.progress, 3 / 8)
  holdings.sent(99, 16 * KiB)
  holdings.sent(-1, 16 * KiB)
  wire.emit('have', 8)
  assert.equal(holdings.progress, 3 / 8)
  for (let i = 0; i < 8; i++) wire.bits.add(i)
  wire.emit('have-all')
  assert.equal(holdings.progress, 1)
  assert.equal(completed, true)
  assert.deepEqual(by, ['0 known', '1 known', '2 known', '3 news', '4 news', '5 news', '6 news', '7 news'], 'what it had when it connected is known; what a later bitfield or HAVE ALL adds (aria2 batches so) is news')
})

test('the piece to announce back is the one it came to hold last, and none once it holds all or nothing', () => {
  const wire = new FakeWire()
  const holdings = new WireHoldings(wire, 3, 32 * KiB, 96 * KiB, () => {})
  assert.equal(holdings.heldPiece, null, 'holds nothing yet')
  wire.bits.add(2)
  wire.emit('have', 2)
  assert.equal(holdings.heldPiece, 2)
  holdings.sent(0, 32 * KiB)
  assert.equal(holdings.heldPiece, 0)
  holdings.sent(1, 32 * KiB)
  assert.equal(holdings.heldPiece, null, 'holds every piece')
})
