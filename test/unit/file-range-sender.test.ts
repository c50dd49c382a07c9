/**
 * The web seed's file sender (file-range-sender.ts): byte ranges of a real file over a real HTTP
 * server on loopback, with the pool's buffers counted. One case uses a stand-in Writable whose
 * writes call back only when the test says, because a socket's write timing cannot be held still:
 * it checks that no buffer goes back to the pool while a write may still read it.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFile, open } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { Writable } from 'node:stream'
import { ReadBufferPool, sendFileRange } from '../../electron/engine/file-range-sender.js'
import { tempDir } from '../support/temp.js'

const CHUNK = 64 * 1024

async function fileOf(bytes: Buffer): Promise<{ file: string; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir()
  const file = path.join(dir, 'release.bin')
  await writeFile(file, bytes)
  return { file, cleanup }
}

function countingPool(keep: number): { pool: ReadBufferPool; made: () => number } {
  let made = 0
  const pool = new ReadBufferPool(CHUNK, keep, (n) => (made++, Buffer.allocUnsafe(n)))
  return { pool, made: () => made }
}

/** An HTTP server whose every request is answered with bytes `start`..`end` of the file, through `pool`. */
async function rangeServer(file: string, pool: ReadBufferPool, sends: Promise<void>[]): Promise<{ get: (start: number, end: number) => Promise<Buffer>; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const [start, end] = (req.url ?? '').slice(1).split('-').map(Number) as [number, number]
    res.setHeader('Content-Length', end - start + 1)
    sends.push(open(file, 'r').then((handle) => sendFileRange(handle, start, end, res, pool)))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const get = async (start: number, end: number): Promise<Buffer> => Buffer.from(await (await fetch(`http://127.0.0.1:${port}/${start}-${end}`)).arrayBuffer())
  return { get, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** A file of `bytes` served by `rangeServer` through a counting pool; everything goes when the test ends. */
async function servedFile(t: TestContext, bytes: Buffer, keep: number): Promise<{ pool: ReadBufferPool; made: () => number; get: (start: number, end: number) => Promise<Buffer>; sends: Promise<void>[] }> {
  const { file, cleanup } = await fileOf(bytes)
  t.after(cleanup)
  const { pool, made } = countingPool(keep)
  const sends: Promise<void>[] = []
  const server = await rangeServer(file, pool, sends)
  t.after(server.close)
  return { pool, made, get: server.get, sends }
}

test('ranges of a real file arrive byte for byte, and back-to-back sends reuse the same two buffers', async (t) => {
  const bytes = randomBytes(5 * CHUNK + 1234)
  const { pool, made, get, sends } = await servedFile(t, bytes, 8)
  for (const [start, end] of [
    [0, bytes.length - 1],
    [CHUNK - 7, 3 * CHUNK + 11],
    [bytes.length - 1, bytes.length - 1],
    [5, 5 + CHUNK - 1],
  ] as const) {
    assert.deepEqual(await get(start, end), bytes.subarray(start, end + 1), `bytes ${start}-${end}`)
  }
  await Promise.all(sends)
  assert.equal(made(), 2, 'four sends, one after another, made two buffers between them')
  assert.equal(pool.idle, 2)
})

test('sends at once take buffers of their own; past what the pool keeps, they are dropped', async (t) => {
  const bytes = randomBytes(8 * CHUNK)
  const { pool, made, get, sends } = await servedFile(t, bytes, 3)
  const got = await Promise.all([0, 1, 2, 3].map(() => get(0, bytes.length - 1)))
  for (const body of got) assert.ok(body.equals(bytes))
  await Promise.all(sends)
  assert.ok(made() > 2 && made() <= 8, `made ${made()}`)
  assert.equal(pool.idle, 3)
})

test('a file shorter than the range: the response is torn down with the byte it stopped at, and the file is closed', async (t) => {
  const bytes = randomBytes(2 * CHUNK)
  const { file, cleanup } = await fileOf(bytes)
  t.after(cleanup)
  const { pool } = countingPool(4)
  const handle = await open(file, 'r')
  const received: Buffer[] = []
  const out = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      received.push(Buffer.from(chunk))
      callback()
    },
  })
  const failed = new Promise<Error>((resolve) => out.once('error', resolve))
  await sendFileRange(handle, 0, 3 * CHUNK - 1, out, pool)
  assert.match((await failed).message, new RegExp(`ended at byte ${2 * CHUNK}, before byte ${3 * CHUNK}`))
  assert.deepEqual(Buffer.concat(received), bytes)
  assert.equal(handle.fd, -1, 'the file handle is closed')
})

test('a client that leaves mid-send: the send stops, the file is closed, and no buffer returns while a write is in progress', async (t) => {
  const bytes = randomBytes(6 * CHUNK)
  const { file, cleanup } = await fileOf(bytes)
  t.after(cleanup)
  const { pool, made } = countingPool(4)
  const held: Array<() => void> = []
  // Stand-in for a socket that has taken a buffer and not finished writing it.
  const out = new Writable({
    highWaterMark: 1,
    write(_chunk: Buffer, _encoding, callback) {
      held.push(() => callback())
    },
  })
  const handle = await open(file, 'r')
  const sending = sendFileRange(handle, 0, bytes.length - 1, out, pool)
  while (held.length === 0) await new Promise((resolve) => setImmediate(resolve))
  // Let the second buffer queue behind the first, then the client goes.
  await new Promise((resolve) => setTimeout(resolve, 20))
  out.destroy()
  await sending
  assert.equal(handle.fd, -1, 'the file handle is closed')
  assert.equal(made(), 2)
  await new Promise((resolve) => setTimeout(resolve, 20))
  // Node's Writable fails the queued write only once the one in progress has called back.
  assert.equal(pool.idle, 0, 'no buffer is back while a write is in progress')
  assert.equal(held.length, 1, 'the second buffer waited in the queue')
  for (const callback of held) callback()
  assert.equal(pool.idle, 2, 'both are back once the write in progress called back')
})

test('the pool keeps only buffers of its size', () => {
  const pool = new ReadBufferPool(CHUNK, 4, (n) => Buffer.allocUnsafe(n))
  pool.give(Buffer.allocUnsafe(CHUNK / 2))
  assert.equal(pool.idle, 0)
  pool.give(pool.take())
  assert.equal(pool.idle, 1)
})
