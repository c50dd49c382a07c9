/**
 * A repeated HAVE on quiet wires to servers that still lack pieces. The wires are plain objects
 * standing in for bittorrent-protocol wires (a byte counter, the peer's interest, have()); the
 * fleet benchmark measures what it changes with real aria2 servers, and the seeder's integration
 * test keeps twelve real aria2c connected with it running.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WireNudge, type NudgedWire } from '../../electron/engine/wire-nudge.js'

class FakeWire implements NudgedWire {
  uploaded = 0
  /** Not read by the nudge: a quiet wire is nudged either way. */
  peerInterested = false
  /** A piece the server holds, or null (none, or all of them). */
  held: number | null = 7
  readonly haves: number[] = []
  have(index: number): void {
    this.haves.push(index)
  }
}

const nudgeOf = (): WireNudge<FakeWire> => new WireNudge<FakeWire>((w) => w.held)

test('a quiet wire to a server that lacks pieces gets a HAVE for a piece it holds, once per round', () => {
  const nudge = nudgeOf()
  const wire = new FakeWire()
  assert.equal(nudge.round([wire]), 0, 'a wire seen for the first time is only watched')
  assert.equal(nudge.round([wire]), 1)
  wire.held = 9
  assert.equal(nudge.round([wire]), 1)
  assert.deepEqual(wire.haves, [7, 9])
})

test('a wire that carried a piece since the last round is left alone; a quiet one is nudged, also while its server says "interested"', () => {
  const nudge = nudgeOf()
  const busy = new FakeWire()
  const quiet = new FakeWire()
  // Interested in the pieces we offered it, but taking them from other servers: nothing from us.
  const asking = new FakeWire()
  asking.peerInterested = true
  nudge.round([busy, quiet, asking])
  busy.uploaded += 16384
  asking.uploaded += 16384
  assert.equal(nudge.round([busy, quiet, asking]), 1)
  assert.deepEqual([busy.haves.length, quiet.haves.length, asking.haves.length], [0, 1, 0])
  // Quiet again from here: nudged from the next round on.
  assert.equal(nudge.round([busy, quiet, asking]), 3)
  assert.deepEqual([busy.haves.length, quiet.haves.length, asking.haves.length], [1, 2, 1])
})

test('a server with nothing to tell (every piece, or none yet) is never nudged', () => {
  const nudge = nudgeOf()
  const wire = new FakeWire()
  wire.held = null
  nudge.round([wire])
  nudge.round([wire])
  nudge.round([wire])
  assert.deepEqual(wire.haves, [])
})
