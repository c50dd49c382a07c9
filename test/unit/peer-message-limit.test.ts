/** limitMessages on bittorrent-protocol's own wire: a message past the limit closes it, whenever it was announced. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { limitMessages, messageLimit, MAX_PEER_MESSAGE_BYTES, type ParsedWire } from '../../electron/engine/peer-message-limit.js'
import { within } from '../support/within.js'

interface TestWire extends ParsedWire, NodeJS.ReadWriteStream {
  on(event: 'have', listener: (index: number) => void): this
  on(event: string, listener: (...args: unknown[]) => void): this
  once(event: 'close', listener: () => void): this
  once(event: string, listener: (...args: unknown[]) => void): this
}

async function newWire(): Promise<TestWire> {
  const { default: Wire } = (await import('bittorrent-protocol')) as unknown as { default: new () => TestWire }
  return new Wire()
}

const handshake = (): Buffer => Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocol'), Buffer.alloc(8), randomBytes(20), randomBytes(20)])
const lengthPrefix = (length: number, id: number): Buffer => {
  const b = Buffer.alloc(5)
  b.writeUInt32BE(length, 0)
  b[4] = id
  return b
}
const have = (index: number): Buffer => {
  const b = Buffer.alloc(9)
  b.writeUInt32BE(5, 0)
  b[4] = 4
  b.writeUInt32BE(index, 5)
  return b
}

test('messages up to the limit are parsed as before; the first one past it closes the wire', async () => {
  const wire = await newWire()
  wire.write(handshake())
  await new Promise((r) => setImmediate(r)) // parsed: the wire now waits for a message's length
  assert.equal(limitMessages(wire, MAX_PEER_MESSAGE_BYTES), true)
  const haves: number[] = []
  wire.on('have', (index) => haves.push(index))
  const closed = new Promise<void>((resolve) => wire.once('close', () => resolve()))
  wire.write(Buffer.concat([have(7), have(9)]))
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(haves, [7, 9])
  // A message of exactly the limit is allowed to arrive; one byte more is not.
  wire.write(Buffer.concat([lengthPrefix(MAX_PEER_MESSAGE_BYTES + 1, 20), randomBytes(64 * 1024), have(11)]))
  await within(closed, 'the wire closing', 5000)
  assert.deepEqual(haves, [7, 9], 'nothing after the long message was parsed')
})

test('a long message already begun when the wire is registered closes it at once', async () => {
  const wire = await newWire()
  wire.write(Buffer.concat([handshake(), lengthPrefix(0xfffffff0, 20), randomBytes(1024)]))
  await new Promise((r) => setImmediate(r))
  const closed = new Promise<void>((resolve) => wire.once('close', () => resolve()))
  assert.equal(limitMessages(wire, MAX_PEER_MESSAGE_BYTES), false)
  await within(closed, 'the wire closing', 5000)
})

test('the limit leaves room for the bitfield of a release of any size', () => {
  assert.equal(messageLimit(1_000), MAX_PEER_MESSAGE_BYTES)
  assert.equal(messageLimit(16_000_000), 2_000_001, '16 million pieces: a 2 MB bitfield and its id')
})
