/**
 * Which wires the seeder drops for silence. The wires are plain event emitters standing in for
 * bittorrent-protocol wires (the events it emits, and a byte counter), on a clock the test moves;
 * fleet-probe.test.ts drops a real connection that went silent and sees its server complete.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { HEARD, SilentWires, SILENT_AFTER_MS, type HeardEvent, type ListenedWire } from '../../electron/engine/silent-wires.js'

class FakeWire extends EventEmitter implements ListenedWire {
  uploaded = 0
  done = false
  hear(event: HeardEvent): void {
    this.emit(event)
  }
}

function setup(): { clock: { now: number }; silent: SilentWires<FakeWire>; drop: (...wires: FakeWire[]) => FakeWire[] } {
  const clock = { now: 1_000_000 }
  const silent = new SilentWires<FakeWire>(SILENT_AFTER_MS, () => clock.now)
  return { clock, silent, drop: (...wires) => silent.silent(wires, (w) => !w.done) }
}

test('a wire to an unfinished server is silent once nothing was heard on it for the limit, and not before', () => {
  const { clock, silent, drop } = setup()
  const wire = new FakeWire()
  silent.watch(wire)
  clock.now += SILENT_AFTER_MS - 1
  assert.deepEqual(drop(wire), [])
  clock.now += 1
  assert.deepEqual(drop(wire), [wire])
})

test('every message the server sends restarts the count, whichever it is', () => {
  const { clock, silent, drop } = setup()
  for (const event of HEARD) {
    const wire = new FakeWire()
    silent.watch(wire)
    clock.now += SILENT_AFTER_MS - 1000
    wire.hear(event)
    clock.now += SILENT_AFTER_MS - 1
    assert.deepEqual(drop(wire), [], `after "${event}"`)
    clock.now += 1
    assert.deepEqual(drop(wire), [wire], `the limit after "${event}"`)
  }
})

test('a wire we send pieces on is not silent, nor one to a server that has every piece, nor one never watched', () => {
  const { clock, silent, drop } = setup()
  const fetching = new FakeWire()
  const finished = new FakeWire()
  finished.done = true
  const stranger = new FakeWire()
  silent.watch(fetching)
  silent.watch(finished)
  clock.now += SILENT_AFTER_MS - 1
  fetching.uploaded += 16_384
  assert.deepEqual(drop(fetching, finished, stranger), [])
  clock.now += SILENT_AFTER_MS - 1
  assert.deepEqual(drop(fetching, finished, stranger), [], 'the piece sent counts as heard when it was seen')
  clock.now += 1
  assert.deepEqual(drop(fetching, finished, stranger), [fetching])
})
