/**
 * Keep-alives on quiet wires to servers that still lack pieces. The wires are plain objects
 * standing in for bittorrent-protocol wires (a counter and keepAlive); the fleet benchmark
 * measures what it changes with real aria2 servers.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WireNudge, type NudgedWire } from '../../electron/engine/wire-nudge.js'

class FakeWire implements NudgedWire {
  uploaded = 0
  keepAlives = 0
  complete = false
  keepAlive(): void {
    this.keepAlives++
  }
}

test('a quiet wire to a server that lacks pieces gets one keep-alive per round', () => {
  const nudge = new WireNudge<FakeWire>((w) => !w.complete)
  const wire = new FakeWire()
  assert.equal(nudge.round([wire]), 0, 'a wire seen for the first time is only watched')
  assert.equal(nudge.round([wire]), 1)
  assert.equal(nudge.round([wire]), 1)
  assert.equal(wire.keepAlives, 2)
})

test('a wire that carried a piece since the last round is left alone', () => {
  const nudge = new WireNudge<FakeWire>((w) => !w.complete)
  const busy = new FakeWire()
  const quiet = new FakeWire()
  nudge.round([busy, quiet])
  busy.uploaded += 16384
  assert.equal(nudge.round([busy, quiet]), 1)
  assert.deepEqual([busy.keepAlives, quiet.keepAlives], [0, 1])
  // Quiet again from here: nudged from the next round on.
  assert.equal(nudge.round([busy, quiet]), 2)
  assert.deepEqual([busy.keepAlives, quiet.keepAlives], [1, 2])
})

test('a server that holds everything is never nudged', () => {
  const nudge = new WireNudge<FakeWire>((w) => !w.complete)
  const wire = new FakeWire()
  wire.complete = true
  nudge.round([wire])
  nudge.round([wire])
  nudge.round([wire])
  assert.equal(wire.keepAlives, 0)
})
