/**
 * The INTERESTED / NOT INTERESTED pair that makes aria2 run a choke round. The wires are plain
 * objects standing in for bittorrent-protocol wires (a peer id and the two messages, recorded in
 * order); the fleet benchmark measures what the rounds change with real aria2 servers, and the
 * seeder's integration test keeps twelve real aria2c connected with it running.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rechokeAria2, type RechokedWire } from '../../electron/engine/aria2-rechoke.js'

const hex = (raw: string): string => Buffer.from(raw.padEnd(20, 'x'), 'latin1').toString('hex')
const ARIA2 = hex('A2-1-36-0-')
const QBITTORRENT = hex('-qB4620-')

class FakeWire implements RechokedWire {
  destroyed = false
  readonly sent: string[] = []
  constructor(
    readonly peerId: string | undefined,
    /** Whether its server still lacks pieces. */
    public downloading = true,
  ) {}
  interested(): void {
    this.sent.push('interested')
  }
  uninterested(): void {
    this.sent.push('not interested')
  }
}

const round = (wires: FakeWire[]): number => rechokeAria2(wires, (w) => w.downloading)

test('an aria2 server still downloading gets "interested" then "not interested", once per round', () => {
  const wire = new FakeWire(ARIA2)
  assert.equal(round([wire]), 1)
  assert.deepEqual(wire.sent, ['interested', 'not interested'], 'the pair leaves us not interested, as a seed is')
  assert.equal(round([wire]), 1)
  assert.deepEqual(wire.sent, ['interested', 'not interested', 'interested', 'not interested'])
})

test('nothing goes to other clients, to an aria2 that is done, to a closed wire, or to a wire not yet identified', () => {
  const qbt = new FakeWire(QBITTORRENT)
  const done = new FakeWire(ARIA2, false)
  const closed = new FakeWire(ARIA2)
  closed.destroyed = true
  const anonymous = new FakeWire(undefined)
  const downloading = new FakeWire(ARIA2)
  assert.equal(round([qbt, done, closed, anonymous, downloading]), 1)
  for (const w of [qbt, done, closed, anonymous]) assert.deepEqual(w.sent, [])
  assert.deepEqual(downloading.sent, ['interested', 'not interested'])
  done.downloading = true
  assert.equal(round([done]), 1, 'a server that lacks pieces again (its files were removed) is included again')
})
