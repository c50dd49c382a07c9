/**
 * The seeder serves every piece through ReadOnlyChunkStore, straight from the publisher's files,
 * and every release shares one FileHandlePool. A wrong byte at a file boundary is a piece no
 * server accepts; a pool that exceeds its bound hits EMFILE on a folder of thousands of files; a
 * store that wrote or deleted would damage the publisher's originals. Integration tests only see
 * whole transfers, so the boundaries, the LRU, the waiting and the refusals are checked here.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, open, readFile, rm, stat, symlink, truncate, writeFile, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { FileHandlePool, PieceCache, ReadOnlyChunkStore, type StoredFile } from '../../electron/engine/chunk-store.js'
import { SwarmdropError } from '../../shared/errors.js'
import { pseudoRandom } from '../support/fixtures.js'
import { tempDir } from '../support/temp.js'
import { within } from '../support/within.js'

const KIB = 1024
const MIB = 1024 * KIB
/** The pool's waits should end soon: a test fails instead of hanging the file. */
const POOL_WAIT_MS = 2000

interface Layout {
  files: StoredFile[]
  content: Buffer
}

async function scratch(t: TestContext): Promise<string> {
  const { dir, cleanup } = await tempDir('swarmdrop-chunk-store-')
  t.after(cleanup)
  return dir
}

async function writeLayout(dir: string, lengths: number[], seed: string): Promise<Layout> {
  const content = pseudoRandom(lengths.reduce((a, b) => a + b, 0), seed)
  const files: StoredFile[] = []
  let offset = 0
  for (const [i, length] of lengths.entries()) {
    const absPath = path.join(dir, `${seed}-${String(i).padStart(4, '0')}.bin`)
    await writeFile(absPath, content.subarray(offset, offset + length))
    offset += length
    files.push({ absPath, length })
  }
  return { files, content }
}

function newPool(t: TestContext, max: number): FileHandlePool {
  const pool = new FileHandlePool(max)
  t.after(() => pool.close())
  return pool
}

/** Records the most files open at once, measured while a handle is in use. */
class PeakPool extends FileHandlePool {
  peak = 0
  uses = 0
  override use<T>(absPath: string, fn: (handle: FileHandle) => Promise<T>, expected?: StoredFile): Promise<T> {
    this.uses++
    return super.use(
      absPath,
      (handle) => {
        this.peak = Math.max(this.peak, this.openCount)
        return fn(handle)
      },
      expected,
    )
  }
}

function get(store: ReadOnlyChunkStore, index: number, opts?: { offset?: number; length?: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const cb = (err: Error | null, buf?: Buffer): void => (err ? reject(err) : buf ? resolve(buf) : reject(new Error('no error and no buffer')))
    // Both call shapes webtorrent uses: get(index, cb) and get(index, opts, cb).
    if (opts === undefined) store.get(index, cb)
    else store.get(index, opts, cb)
  })
}

function callback(fn: (cb: (err: Error | null) => void) => void): Promise<Error | null> {
  return new Promise((resolve) => fn(resolve))
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

/** Handle closes are fire-and-forget inside the pool: give them a few turns of the loop. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await nextTurn()
}

async function readThrough(pool: FileHandlePool, absPath: string): Promise<string> {
  return pool.use(absPath, async (h) => {
    const buf = Buffer.alloc(64)
    const { bytesRead } = await h.read(buf, 0, buf.length, 0)
    return buf.subarray(0, bytesRead).toString()
  })
}

test('every piece and block equals the files concatenated: boundaries, empty files, many small files, short last piece', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 32 * KIB
  const small = Array.from({ length: 250 }, (_, i) => (i % 17 === 0 ? 0 : (i * 37) % 400))
  const layout = await writeLayout(dir, [0, 5000, 0, 32 * KIB, 1, 40000, 0, ...small, 12345, 0, 30000, 0], 'pieces')
  const pieceCount = Math.ceil(layout.content.length / pieceLength)
  const store = new ReadOnlyChunkStore(pieceLength, layout.files, newPool(t, 8))
  assert.equal(store.chunkLength, pieceLength)
  assert.ok(layout.content.length % pieceLength !== 0, 'the last piece is short')

  for (let i = 0; i < pieceCount; i++) {
    const start = i * pieceLength
    const piece = layout.content.subarray(start, Math.min(start + pieceLength, layout.content.length))
    assert.deepEqual(await get(store, i), piece, `piece ${i}`)
    assert.deepEqual(await get(store, i, {}), piece, `piece ${i}, empty options`)
    // The 16 KiB requests peers send, the last one possibly short.
    for (let offset = 0; offset < piece.length; offset += 16 * KIB) {
      const length = Math.min(16 * KIB, piece.length - offset)
      assert.deepEqual(await get(store, i, { offset, length }), piece.subarray(offset, offset + length), `piece ${i} block at ${offset}`)
    }
    assert.deepEqual(await get(store, i, { offset: 1000 }), piece.subarray(1000), `piece ${i} from 1000 to its end`)
    if (piece.length >= 5002) assert.deepEqual(await get(store, i, { offset: 4999, length: 3 }), piece.subarray(4999, 5002), `piece ${i} odd block`)
    assert.equal((await get(store, i, { offset: piece.length, length: 0 })).length, 0)
  }
})

test('requests outside the release, or outside their piece, fail without reading', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 16 * KIB
  const layout = await writeLayout(dir, [20000, 0, 20000], 'range')
  const pool = new PeakPool(4)
  t.after(() => pool.close())
  const store = new ReadOnlyChunkStore(pieceLength, layout.files, pool)
  const lastLength = 40000 - 2 * pieceLength
  const outside = /is outside the release/
  await assert.rejects(get(store, 3), outside, 'one past the last piece')
  await assert.rejects(get(store, 1000), outside)
  await assert.rejects(get(store, 2, { offset: 0, length: lastLength + 1 }), outside, 'longer than the short last piece')
  await assert.rejects(get(store, 2, { offset: lastLength + 1 }), outside)
  await assert.rejects(get(store, 0, { offset: pieceLength - 10, length: 11 }), outside)
  await assert.rejects(get(store, 0, { offset: -1, length: 10 }), outside)
  await assert.rejects(get(store, 0, { offset: 0, length: -1 }), outside)
  assert.equal(pool.uses, 0, 'no file was touched')
  assert.deepEqual(await get(store, 2), layout.content.subarray(2 * pieceLength))
  // A release of nothing but empty files has no piece at all.
  const empty = new ReadOnlyChunkStore(pieceLength, [{ absPath: path.join(dir, 'missing-and-empty'), length: 0 }], pool)
  await assert.rejects(get(empty, 0), outside)
})

test('a negative or fractional piece index is outside the release, and nothing is read', async (t) => {
  const dir = await scratch(t)
  const layout = await writeLayout(dir, [20000, 20000], 'index')
  const pool = new PeakPool(4)
  t.after(() => pool.close())
  const store = new ReadOnlyChunkStore(16 * KIB, layout.files, pool)
  for (const index of [-1, 0.5, -0.5, 1.5, Number.NaN]) {
    await assert.rejects(get(store, index), new RegExp(`^Error: piece ${index} is outside the release$`), `piece ${index}`)
    await assert.rejects(get(store, index, { offset: 0, length: 10 }), /is outside the release/, `piece ${index}, a block`)
  }
  assert.equal(pool.uses, 0, 'no file was touched')
})

test('writes are refused, and destroy closes the store without touching the files', async (t) => {
  const dir = await scratch(t)
  const layout = await writeLayout(dir, [20000, 15000], 'read-only')
  const pool = newPool(t, 4)
  const store = new ReadOnlyChunkStore(16 * KIB, layout.files, pool)
  assert.deepEqual(await get(store, 0), layout.content.subarray(0, 16 * KIB))
  assert.equal(pool.openCount, 1)

  const refused = await callback((cb) => store.put(0, Buffer.alloc(16 * KIB, 0xff), cb))
  assert.match(refused?.message ?? '', /piece 0: this release is seeded read-only from the original files/)
  // No callback is fine too: webtorrent does not always pass one.
  store.put(1, Buffer.alloc(10))

  assert.equal(await callback((cb) => store.destroy(cb)), null)
  assert.equal(pool.openCount, 0, "the store's idle handles are closed")
  await assert.rejects(get(store, 0), /the chunk store is closed/)
  for (const f of layout.files) assert.equal((await readFile(f.absPath)).length, f.length, `${f.absPath} is still there, unchanged in size`)
  assert.deepEqual(Buffer.concat(await Promise.all(layout.files.map((f) => readFile(f.absPath)))), layout.content, 'not a byte written')

  // close() without a callback, on a second store over the same files: the pool stays usable.
  const again = new ReadOnlyChunkStore(16 * KIB, layout.files, pool)
  assert.deepEqual(await get(again, 2), layout.content.subarray(32 * KIB))
  again.close()
  await settle()
  assert.equal(pool.openCount, 0)
})

test('a file shorter than published is an error naming it; the failed read is retried once it is restored', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 16 * KIB
  const layout = await writeLayout(dir, [20000, 20000], 'shorter')
  const second = layout.files[1] as StoredFile
  const pool = newPool(t, 4)
  const store = new ReadOnlyChunkStore(pieceLength, layout.files, pool)
  await truncate(second.absPath, 5000)
  // Piece 1 runs from the first file into the second; piece 0 is whole in the first.
  await assert.rejects(get(store, 1), (err: Error) => {
    assert.ok(err.message.includes(second.absPath), err.message)
    assert.match(err.message, /^Source changed: .* is not the file that was published \(5000 bytes, published with 20000\)\.$/)
    assert.equal((err as SwarmdropError).code, 'FILE_CHANGED')
    return true
  })
  assert.deepEqual(await get(store, 0), layout.content.subarray(0, pieceLength))
  await writeFile(second.absPath, layout.content.subarray(20000))
  assert.deepEqual(await get(store, 1), layout.content.subarray(pieceLength, 2 * pieceLength))
  // A missing file is a changed source too; an open handle would still read the unlinked file,
  // so the handle is let go first, as retiring a release does.
  await rm(second.absPath)
  await pool.forget([second.absPath])
  await assert.rejects(get(store, 2), (err: Error) => err instanceof SwarmdropError && err.code === 'FILE_CHANGED' && err.message.includes('(ENOENT)'))
})

test('the files open at once stay within the bound while every piece of hundreds of files is read at once', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 16 * KIB
  const layout = await writeLayout(dir, Array.from({ length: 300 }, (_, i) => 50 + ((i * 131) % 600)), 'bound')
  const pool = new PeakPool(3)
  t.after(() => pool.close())
  const store = new ReadOnlyChunkStore(pieceLength, layout.files, pool)
  const pieceCount = Math.ceil(layout.content.length / pieceLength)
  const pieces = await within(Promise.all(Array.from({ length: pieceCount }, (_, i) => get(store, i))), 'every piece', POOL_WAIT_MS)
  assert.deepEqual(Buffer.concat(pieces), layout.content)
  assert.equal(pool.peak, 3, 'the bound is used, never exceeded')
  assert.ok(pool.openCount <= 3)
  assert.equal(await callback((cb) => store.close(cb)), null)
  assert.equal(pool.openCount, 0)
})

test('blocks of the same piece asked for together are read from disk once', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 64 * KIB
  const layout = await writeLayout(dir, [100 * KIB, 60 * KIB], 'once')
  const pool = new PeakPool(4)
  t.after(() => pool.close())
  const store = new ReadOnlyChunkStore(pieceLength, layout.files, pool)
  // Piece 1 spans both files: one read of each.
  const blocks = await Promise.all([0, 1, 2, 3].map((b) => get(store, 1, { offset: b * 16 * KIB, length: 16 * KIB })))
  assert.deepEqual(Buffer.concat(blocks), layout.content.subarray(pieceLength, 2 * pieceLength))
  assert.equal(pool.uses, 2)
  assert.deepEqual(await get(store, 1, { offset: 100, length: 10 }), layout.content.subarray(pieceLength + 100, pieceLength + 110))
  assert.equal(pool.uses, 2, 'served from memory')
  // A piece that starts exactly where a file starts touches that file only.
  const aligned = await writeLayout(dir, [pieceLength, 0, pieceLength, pieceLength], 'aligned')
  const alignedStore = new ReadOnlyChunkStore(pieceLength, aligned.files, pool)
  const before = pool.uses
  assert.deepEqual(await get(alignedStore, 1), aligned.content.subarray(pieceLength, 2 * pieceLength))
  assert.equal(pool.uses - before, 1)
})

test('empty files are never opened: they hold no bytes, so a missing empty file does not matter', async (t) => {
  const dir = await scratch(t)
  const layout = await writeLayout(dir, [0, 20000, 0, 0, 20000, 0], 'empties')
  for (const f of layout.files) if (f.length === 0) await rm(f.absPath)
  const pool = new PeakPool(4)
  t.after(() => pool.close())
  const store = new ReadOnlyChunkStore(16 * KIB, layout.files, pool)
  const pieces = await Promise.all([0, 1, 2].map((i) => get(store, i)))
  assert.deepEqual(Buffer.concat(pieces), layout.content)
  assert.equal(pool.uses, 4, 'piece 1 reads both files, pieces 0 and 2 one each')
})

test('the piece cache holds the most recently used pieces, least recently used out first', async (t) => {
  const dir = await scratch(t)
  // A 32 MiB cache holds 4 pieces of 8 MiB. A sparse file costs no disk.
  const pieceLength = 8 * MIB
  const file = path.join(dir, 'sparse.bin')
  const length = 5 * pieceLength + 100
  await writeFile(file, '')
  await truncate(file, length)
  const store = new ReadOnlyChunkStore(pieceLength, [{ absPath: file, length }], newPool(t, 2), {}, new PieceCache(32 * MIB))
  const firstByte = async (index: number): Promise<number> => (await get(store, index, { offset: 0, length: 1 }))[0] as number

  for (const index of [0, 1, 2, 3, 0, 4]) assert.equal(await firstByte(index), 0)
  // Cached now, least recent first: 2, 3, 0, 4. Piece 1 was dropped to make room for 4.
  const handle = await open(file, 'r+')
  try {
    for (let index = 0; index < 6; index++) await handle.write(Buffer.from([0xee]), 0, 1, index * pieceLength)
  } finally {
    await handle.close()
  }
  assert.equal(await firstByte(0), 0, 'piece 0 is served from memory')
  assert.equal(await firstByte(4), 0, 'piece 4 is served from memory')
  assert.equal(await firstByte(1), 0xee, 'piece 1 was evicted and is read again')
  // Reading 1 dropped the least recent, 2; 3 stays.
  assert.equal(await firstByte(3), 0)
  assert.equal(await firstByte(2), 0xee)
  assert.equal(await firstByte(5), 0xee, 'the short last piece')
})

test('one piece cache bounds the memory of every release together, and a closed store frees its share', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 64 * KIB
  const a = await writeLayout(dir, [10 * pieceLength], 'shared-a')
  const b = await writeLayout(dir, [10 * pieceLength], 'shared-b')
  const pool = new PeakPool(4)
  t.after(() => pool.close())
  const cache = new PieceCache(4 * pieceLength)
  const storeA = new ReadOnlyChunkStore(pieceLength, a.files, pool, {}, cache)
  const storeB = new ReadOnlyChunkStore(pieceLength, b.files, pool, {}, cache)
  let peak = 0
  for (let index = 0; index < 10; index++) {
    for (const [store, layout] of [[storeA, a], [storeB, b]] as const) {
      assert.deepEqual(await get(store, index), layout.content.subarray(index * pieceLength, (index + 1) * pieceLength))
      peak = Math.max(peak, cache.bytes)
    }
  }
  assert.equal(peak, 4 * pieceLength, 'two releases share the budget of four pieces')
  // The last four read, across both releases: A8, B8, A9, B9. A7 went out to make room.
  const reads = pool.uses
  await get(storeB, 8)
  await get(storeA, 9)
  assert.equal(pool.uses, reads, 'B8 and A9 are still cached')
  await get(storeA, 7)
  assert.equal(pool.uses, reads + 1, 'A7 was evicted and is read again, in place of A8')
  await callback((cb) => storeA.close(cb))
  assert.equal(cache.bytes, 2 * pieceLength, 'only the open release keeps its pieces, B8 and B9')
  await callback((cb) => storeB.close(cb))
  assert.equal(cache.bytes, 0)
})

test('pieces too large for the budget: the four most recent stay cached, and never more', async (t) => {
  const dir = await scratch(t)
  const layout = await writeLayout(dir, [6 * 64 * KIB], 'oversize')
  const pool = new PeakPool(2)
  t.after(() => pool.close())
  const cache = new PieceCache(32 * KIB)
  const store = new ReadOnlyChunkStore(64 * KIB, layout.files, pool, {}, cache)
  for (let index = 0; index < 6; index++) assert.deepEqual(await get(store, index), layout.content.subarray(index * 64 * KIB, (index + 1) * 64 * KIB))
  assert.equal(cache.bytes, 4 * 64 * KIB, 'four pieces, over a budget of half of one')
  const reads = pool.uses
  for (const index of [2, 3, 4, 5]) await get(store, index)
  assert.equal(pool.uses, reads, 'the four most recent are served from memory')
  await get(store, 0)
  assert.equal(pool.uses, reads + 1)
})

test('piece reads share the cache budget: past it they wait their turn in order, and a failed read frees its share', async () => {
  const pieceLength = 64 * KIB
  const cache = new PieceCache(2 * pieceLength)
  const started: number[] = []
  const finish = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>()
  let peak = 0
  const piece = (index: number): Promise<Buffer> =>
    cache.get(1, index, pieceLength, () => {
      started.push(index)
      peak = Math.max(peak, cache.loading)
      return new Promise<Buffer>((resolve, reject) => finish.set(index, { resolve, reject }))
    })
  const settle = async (): Promise<void> => new Promise((r) => setImmediate(r))
  // One block of each of eight pieces, asked for at once (a peer's burst of requests).
  const pieces = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => piece(i))
  assert.deepEqual(started, [0, 1], 'two reads fit the budget; six wait')
  assert.equal(cache.loading, 2 * pieceLength)
  finish.get(1)?.resolve(Buffer.from('one'))
  await settle()
  assert.deepEqual(started, [0, 1, 2], 'the first to wait goes next')
  finish.get(0)?.reject(new Error('disk error'))
  await settle()
  assert.deepEqual(started, [0, 1, 2, 3], 'a failed read frees its share as well')
  for (const i of [2, 3, 4, 5, 6, 7]) {
    finish.get(i)?.resolve(Buffer.from(`piece ${i}`))
    await settle()
  }
  assert.equal(peak, 2 * pieceLength, 'never more than the budget under way')
  assert.equal(cache.loading, 0)
  const results = await Promise.allSettled(pieces)
  assert.equal(results[0]?.status, 'rejected')
  assert.deepEqual(results.slice(1).map((r) => (r.status === 'fulfilled' ? r.value.toString() : 'rejected')), ['one', 'piece 2', 'piece 3', 'piece 4', 'piece 5', 'piece 6', 'piece 7'])
  // A piece larger than the whole budget still gets read, alone.
  const big = cache.get(1, 99, 8 * pieceLength, async () => {
    peak = Math.max(peak, cache.loading)
    return Buffer.from('big')
  })
  assert.equal((await big).toString(), 'big')
  assert.equal(peak, 8 * pieceLength)
})

test('a block handed out is a copy: whoever holds it does not keep its whole piece, nor change the cache', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 256 * KIB
  const layout = await writeLayout(dir, [pieceLength], 'copies')
  const store = new ReadOnlyChunkStore(pieceLength, layout.files, newPool(t, 2))
  const block = await get(store, 0, { offset: 16 * KIB, length: 16 * KIB })
  assert.ok(block.buffer.byteLength < pieceLength, `the block's memory is its own (${block.buffer.byteLength} bytes), not the 256 KiB piece`)
  block.fill(0)
  assert.deepEqual(await get(store, 0, { offset: 16 * KIB, length: 16 * KIB }), layout.content.subarray(16 * KIB, 32 * KIB))
})

test('FileHandlePool reuses open handles and closes the least recently used idle one when full', async (t) => {
  const dir = await scratch(t)
  const [a, b, c] = ['a', 'b', 'c'].map((n) => path.join(dir, `${n}.txt`)) as [string, string, string]
  for (const p of [a, b, c]) await writeFile(p, `content of ${path.basename(p)}`)
  const pool = newPool(t, 2)
  const handleOf = (p: string): Promise<FileHandle> => pool.use(p, async (h) => h)

  const a1 = await handleOf(a)
  const b1 = await handleOf(b)
  assert.equal(await handleOf(a), a1, 'reused, and now the most recently used')
  assert.equal(pool.openCount, 2)
  const c1 = await handleOf(c)
  await settle()
  assert.equal(pool.openCount, 2)
  assert.equal(b1.fd, -1, 'b, the least recently used, was closed')
  assert.notEqual(a1.fd, -1)
  assert.equal(await handleOf(a), a1)
  const b2 = await handleOf(b)
  assert.notEqual(b2, b1, 'b is opened again')
  await settle()
  assert.equal(c1.fd, -1, 'then c was the least recently used')
  assert.equal(await readThrough(pool, b), 'content of b.txt')
  assert.equal(await readThrough(pool, a), 'content of a.txt')
})

test('FileHandlePool waits for a handle to be released rather than exceed its bound', async (t) => {
  const dir = await scratch(t)
  const [a, b] = ['a', 'b'].map((n) => path.join(dir, `${n}.txt`)) as [string, string]
  for (const p of [a, b]) await writeFile(p, `content of ${path.basename(p)}`)
  const pool = newPool(t, 1)
  const entered = deferred()
  const release = deferred()
  const holding = pool.use(a, async (h) => {
    entered.resolve()
    await release.promise
    return h.fd
  })
  await entered.promise
  let started = false
  const waiting = pool.use(b, async (h) => {
    started = true
    return (await h.readFile()).toString()
  })
  await settle()
  assert.equal(started, false, 'b waits while a is in use')
  assert.equal(pool.openCount, 1)
  release.resolve()
  assert.ok((await holding) > 0)
  assert.equal(await within(waiting, 'b, once a was released', POOL_WAIT_MS), 'content of b.txt')
  assert.equal(pool.openCount, 1, 'a was closed to make room for b')
})

test('FileHandlePool: a failed open rejects, frees its place and wakes a waiter', async (t) => {
  const dir = await scratch(t)
  const present = path.join(dir, 'present.txt')
  await writeFile(present, 'here')
  const pool = newPool(t, 1)
  let called = false
  // Both start together: the second waits on the place the failing open holds.
  const failing = pool.use(path.join(dir, 'missing.txt'), async () => (called = true))
  const next = readThrough(pool, present)
  await assert.rejects(failing, (err: NodeJS.ErrnoException) => err.code === 'ENOENT')
  assert.equal(called, false)
  assert.equal(await within(next, 'the waiter behind the failed open', POOL_WAIT_MS), 'here')
  assert.equal(pool.openCount, 1)
})

test('FileHandlePool.forget closes idle handles only; close() closes all and refuses further use', async (t) => {
  const dir = await scratch(t)
  await mkdir(path.join(dir, 'sub'))
  const [a, b, c] = ['a', 'b', path.join('sub', 'c')].map((n) => path.join(dir, `${n}.txt`)) as [string, string, string]
  for (const p of [a, b, c]) await writeFile(p, `content of ${path.basename(p)}`)
  const pool = newPool(t, 4)
  const handles = new Map<string, FileHandle>()
  for (const p of [a, b, c]) handles.set(p, await pool.use(p, async (h) => h))

  const entered = deferred()
  const release = deferred()
  const holding = pool.use(a, async (h) => {
    entered.resolve()
    await release.promise
    return (await h.read(Buffer.alloc(10), 0, 10, 0)).bytesRead
  })
  await entered.promise
  await pool.forget([a, b, path.join(dir, 'never-opened')])
  assert.equal(pool.openCount, 2, 'a (in use) and c (not named) stay')
  assert.equal(handles.get(b)?.fd, -1)
  assert.notEqual(handles.get(c)?.fd, -1)
  release.resolve()
  assert.equal(await holding, 10, 'the handle in use was not closed under its reader')

  await pool.close()
  assert.equal(pool.openCount, 0)
  assert.equal(handles.get(a)?.fd, -1)
  assert.equal(handles.get(c)?.fd, -1)
  await assert.rejects(readThrough(pool, a), /the file pool is closed/)
})

test('FileHandlePool.close() rejects the calls still waiting for a handle instead of leaving them pending', async (t) => {
  const dir = await scratch(t)
  const [a, b, c] = ['a', 'b', 'c'].map((n) => path.join(dir, `${n}.txt`)) as [string, string, string]
  for (const p of [a, b, c]) await writeFile(p, `content of ${path.basename(p)}`)
  const pool = newPool(t, 1)
  const entered = deferred()
  const release = deferred()
  const holding = pool.use(a, async () => {
    entered.resolve()
    await release.promise
    return 'held'
  })
  await entered.promise
  // Two waiters: waking only the first on release would still leave the second pending.
  const queued = [b, c].map((p) => readThrough(pool, p))
  await settle()
  const closing = pool.close()
  release.resolve()
  assert.equal(await within(holding, 'the call holding the handle', POOL_WAIT_MS), 'held')
  await Promise.all(queued.map((q, i) => assert.rejects(within(q, `queued call ${i + 1}`, POOL_WAIT_MS), /the file pool is closed/)))
  await closing
  assert.equal(pool.openCount, 0)
})

/** The 20-byte SHA-1 of each piece of `content`, as an info dictionary's "pieces" holds them. */
function pieceHashes(content: Buffer, pieceLength: number): Buffer {
  const out: Buffer[] = []
  for (let at = 0; at < content.length; at += pieceLength) out.push(createHash('sha1').update(content.subarray(at, at + pieceLength)).digest())
  return Buffer.concat(out)
}

test('a file edited in place after publishing: the piece fails its hash, nothing of it is served, the change is reported once', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 16 * KIB
  const layout = await writeLayout(dir, [40000, 30000], 'edited')
  const reports: SwarmdropError[] = []
  const store = new ReadOnlyChunkStore(pieceLength, layout.files, newPool(t, 4), { pieceHashes: pieceHashes(layout.content, pieceLength), onSourceChanged: (err) => reports.push(err) })
  assert.deepEqual(await get(store, 0), layout.content.subarray(0, pieceLength), 'an intact piece is served')
  // Same size, same inode, mtime put back: only the content says it changed.
  const second = layout.files[1] as StoredFile
  const fh = await open(second.absPath, 'r+')
  await fh.write(Buffer.from('tampered'), 0, 8, 100)
  await fh.close()
  // Byte 40,100 of the release: piece 2 (32,768 to 49,151), read again each time it fails.
  for (const index of [2, 2]) {
    await assert.rejects(get(store, index), (err: Error) => {
      assert.ok(err instanceof SwarmdropError && err.code === 'FILE_CHANGED', err.message)
      assert.match(err.message, new RegExp(`^Source changed: piece ${index} no longer matches the published release`))
      return true
    })
  }
  assert.equal(reports.length, 1, 'reported once, however often it fails')
  assert.deepEqual(await get(store, 4), layout.content.subarray(4 * pieceLength), 'pieces that still match are intact')
})

test('a file replaced by another (or a symlink) after publishing is refused when opened, by its identity', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 16 * KIB
  const layout = await writeLayout(dir, [20000], 'swapped')
  const file = layout.files[0] as StoredFile
  const st = await stat(file.absPath)
  const published: StoredFile = { ...file, mtimeMs: st.mtimeMs, ino: st.ino }
  // Same size, other content, other inode: what `cp other file; mv` or a symlink swap produces.
  const other = path.join(dir, 'other.bin')
  await writeFile(other, pseudoRandom(20000, 'other'))
  await rm(file.absPath)
  await symlink(other, file.absPath)
  const reports: SwarmdropError[] = []
  const store = new ReadOnlyChunkStore(pieceLength, [published], newPool(t, 4), { onSourceChanged: (err) => reports.push(err) })
  await assert.rejects(get(store, 0), /^Error: Source changed: .*swapped-0000\.bin is not the file that was published \(it was replaced by another file\)\.$|Source changed: .*it was replaced by another file/)
  assert.equal(reports.length, 1)
  assert.equal(reports[0]?.code, 'FILE_CHANGED')
})

test('a file deleted while seeding is refused as FILE_CHANGED when opened, and reported once', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 16 * KIB
  const layout = await writeLayout(dir, [20000, 20000, 20000], 'deleted')
  const second = layout.files[1] as StoredFile
  const reports: SwarmdropError[] = []
  const store = new ReadOnlyChunkStore(pieceLength, layout.files, newPool(t, 4), { onSourceChanged: (err) => reports.push(err) })
  assert.deepEqual(await get(store, 0), layout.content.subarray(0, pieceLength))
  await rm(second.absPath)
  const message = `Source changed: ${second.absPath} is missing or unreadable (ENOENT).`
  // Piece 1 runs from the first file into the deleted one, piece 2 from it into the third; a
  // failed read is retried, and fails again.
  for (const index of [1, 2, 1]) {
    await assert.rejects(get(store, index), (err: unknown) => {
      assert.ok(err instanceof SwarmdropError, `piece ${index}: a SwarmdropError, got ${String(err)}`)
      assert.equal(err.code, 'FILE_CHANGED')
      assert.equal(err.message, message)
      return true
    })
  }
  assert.equal(reports.length, 1, 'reported once, however often it fails')
  assert.equal(reports[0]?.code, 'FILE_CHANGED')
  assert.equal(reports[0]?.message, message)
  assert.deepEqual(await get(store, 3), layout.content.subarray(3 * pieceLength), 'the other files are still served')
})
