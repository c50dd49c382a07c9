/**
 * PieceHasher and the claim loop every hashing thread runs. A wrong digest here makes a torrent no
 * client can complete, and hashing is only covered end to end elsewhere, so the digests are
 * checked piece by piece against node:crypto on layouts that stress the reader: pieces straddling
 * file boundaries, empty files anywhere, hundreds of small files, a short last piece. The kernel
 * this process did not load (native SHA-1 lanes or node:crypto) is checked in a worker thread.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { appendFileSync, existsSync, readdirSync, truncateSync, utimesSync } from 'node:fs'
import { rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { claimStep, hashClaimedChunks, PieceHasher } from '../../electron/engine/piece-hasher.js'
import { CONTROL, type HashWorkerData } from '../../electron/engine/hash-protocol.js'
import { sha1Lanes } from '../../electron/engine/sha1-lanes.js'
import { SwarmdropError, type ErrorCode } from '../../shared/errors.js'
import { pseudoRandom } from '../support/fixtures.js'
import { tempDir } from '../support/temp.js'

const KIB = 1024
const MIB = 1024 * KIB

type SourceEntry = HashWorkerData['files'][number]

interface Layout {
  files: SourceEntry[]
  /** Every file's bytes, concatenated in order: what the pieces are cut from. */
  content: Buffer
}

async function scratch(t: TestContext): Promise<string> {
  const { dir, cleanup } = await tempDir('swarmdrop-piece-hasher-')
  t.after(cleanup)
  return dir
}

async function writeLayout(dir: string, lengths: number[], seed: string): Promise<Layout> {
  const content = pseudoRandom(lengths.reduce((a, b) => a + b, 0), seed)
  const files: SourceEntry[] = []
  let offset = 0
  for (const [i, length] of lengths.entries()) {
    const absPath = path.join(dir, `${seed}-${String(i).padStart(4, '0')}.bin`)
    await writeFile(absPath, content.subarray(offset, offset + length))
    offset += length
    files.push({ absPath, length, mtimeMs: (await stat(absPath)).mtimeMs })
  }
  return { files, content }
}

function referencePieces(content: Buffer, pieceLength: number): Buffer {
  const digests: Buffer[] = []
  for (let start = 0; start < content.length; start += pieceLength) digests.push(createHash('sha1').update(content.subarray(start, start + pieceLength)).digest())
  return Buffer.concat(digests)
}

function newJob(layout: Layout, pieceLength: number): { data: HashWorkerData; control: Int32Array; pieceCount: number } {
  const totalSize = layout.content.length
  const pieceCount = Math.ceil(totalSize / pieceLength)
  const data: HashWorkerData = { files: layout.files, pieceLength, totalSize, digests: new SharedArrayBuffer(pieceCount * 20) }
  return { data, control: new Int32Array(new SharedArrayBuffer(CONTROL.SLOTS * 4)), pieceCount }
}

/** Piece by piece, so a failure names the first wrong piece instead of dumping two buffers. */
function assertDigests(actual: Buffer, expected: Buffer, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: digest count`)
  for (let i = 0; i < expected.length / 20; i++) {
    assert.equal(actual.subarray(i * 20, i * 20 + 20).toString('hex'), expected.subarray(i * 20, i * 20 + 20).toString('hex'), `${what}: piece ${i}`)
  }
}

/** finish() closes the open file; after a failure it may throw again, which must not hide the first error. */
function closeQuietly(hasher: PieceHasher): void {
  try {
    hasher.finish()
  } catch {
    // The first error is the one that matters.
  }
}

function hashAll(layout: Layout, pieceLength: number): Buffer {
  const { data, control, pieceCount } = newJob(layout, pieceLength)
  const hasher = new PieceHasher(data)
  try {
    assert.equal(hashClaimedChunks(hasher, control, claimStep(pieceLength), pieceCount), false, 'no work left')
  } catch (err) {
    closeQuietly(hasher)
    throw err
  }
  hasher.finish()
  assert.equal(Atomics.load(control, CONTROL.DONE), pieceCount)
  return Buffer.from(data.digests)
}

function isSwarmdropError(code: ErrorCode, mentions: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof SwarmdropError, `a SwarmdropError, got ${String(err)}`)
    assert.equal(err.code, code)
    assert.ok(err.message.includes(mentions), `"${err.message}" names ${mentions}`)
    return true
  }
}

/** Linux only; elsewhere the descriptor checks are left out (the digest checks still run). */
const openFds = existsSync('/proc/self/fd') ? (): number => readdirSync('/proc/self/fd').length : null

test('claimStep claims about 4 MiB at a time, in whole groups of lanes when a native kernel is loaded', () => {
  const pieceLengths = [16 * KIB, 32 * KIB, 256 * KIB, MIB, 4 * MIB, 16 * MIB]
  // node:crypto: 4 MiB worth, at least one. Native: the same rounded down to a multiple of the
  // kernel's lanes (3 with SHA-NI, 8 with AVX2), at least one group.
  const expected = { 'sha-ni': [255, 126, 15, 3, 3, 3], avx2: [256, 128, 16, 8, 8, 8], none: [256, 128, 16, 4, 1, 1] }[sha1Lanes?.kernel ?? 'none']
  assert.deepEqual(pieceLengths.map(claimStep), expected, `kernel: ${sha1Lanes?.kernel ?? 'node:crypto'}`)
})

test('digests equal node:crypto across file boundaries, empty files, many small files and a short last piece', async (t) => {
  const dir = await scratch(t)
  const manySmall = Array.from({ length: 400 }, (_, i) => (i % 13 === 0 ? 0 : (i * 37) % 300))
  const cases: { name: string; lengths: number[]; pieceLengths: number[] }[] = [
    // Pieces straddle files, a file is exactly one piece, one file is a single byte, empties in between.
    { name: 'straddling', lengths: [5000, 0, 16 * KIB, 1, 40000, 0, 0, 12345, 0, 30000], pieceLengths: [16 * KIB, 32 * KIB, 64 * KIB] },
    // A single piece covers a hundred files or more.
    { name: 'many-small', lengths: manySmall, pieceLengths: [16 * KIB, 32 * KIB] },
    { name: 'exact', lengths: [32 * KIB, 16 * KIB], pieceLengths: [16 * KIB] },
    { name: 'tiny', lengths: [10, 0, 20], pieceLengths: [16 * KIB] },
    { name: 'empty-ends', lengths: [0, 0, 70000, 0], pieceLengths: [16 * KIB] },
  ]
  for (const c of cases) {
    const layout = await writeLayout(dir, c.lengths, c.name)
    for (const pieceLength of c.pieceLengths) {
      const digests = hashAll(layout, pieceLength)
      assert.equal(digests.length / 20, Math.ceil(layout.content.length / pieceLength))
      assertDigests(digests, referencePieces(layout.content, pieceLength), `${c.name} / ${pieceLength}`)
    }
  }
})

test('hashChunk hashes exactly pieces [first, end), in any order, and returns the bytes it read', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 16 * KIB
  // 7 pieces, the last one 5426 bytes.
  const layout = await writeLayout(dir, [5000, 0, 16 * KIB, 1, 40000, 0, 0, 12345, 0, 30000], 'chunk')
  const reference = referencePieces(layout.content, pieceLength)
  const { data, pieceCount } = newJob(layout, pieceLength)
  assert.equal(pieceCount, 7)
  const hasher = new PieceHasher(data)
  t.after(() => closeQuietly(hasher))
  const digests = Buffer.from(data.digests)
  const zero = Buffer.alloc(20)

  assert.equal(hasher.hashChunk({ first: 2, end: 5 }), 3 * pieceLength)
  for (let i = 0; i < pieceCount; i++) {
    const expected = i >= 2 && i < 5 ? reference.subarray(i * 20, i * 20 + 20) : zero
    assert.deepEqual(digests.subarray(i * 20, i * 20 + 20), expected, `piece ${i} after hashing [2, 5)`)
  }
  assert.equal(hasher.hashChunk({ first: 6, end: 7 }), layout.content.length - 6 * pieceLength, 'the short last piece')
  // Backwards: the hasher must reopen files it already left.
  assert.equal(hasher.hashChunk({ first: 0, end: 2 }), 2 * pieceLength)
  assert.equal(hasher.hashChunk({ first: 5, end: 6 }), pieceLength)
  hasher.finish()
  assertDigests(digests, reference, 'after every chunk')
})

test('hashClaimedChunks claims step pieces at a time, stops after maxClaims or on STOP, and counts DONE', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 16 * KIB
  const layout = await writeLayout(dir, [3 * pieceLength + 7, 0, 6 * pieceLength + 93], 'claims')
  const reference = referencePieces(layout.content, pieceLength)
  const { data, control, pieceCount } = newJob(layout, pieceLength)
  assert.equal(pieceCount, 10)
  const digests = Buffer.from(data.digests)
  const hasher = new PieceHasher(data)
  t.after(() => closeQuietly(hasher))

  assert.equal(hashClaimedChunks(hasher, control, 3, pieceCount, 2), true, 'work may remain after two claims')
  assert.equal(Atomics.load(control, CONTROL.NEXT), 6)
  assert.equal(Atomics.load(control, CONTROL.DONE), 6)
  assertDigests(digests.subarray(0, 6 * 20), reference.subarray(0, 6 * 20), 'claimed pieces')
  assert.deepEqual(digests.subarray(6 * 20), Buffer.alloc(4 * 20), 'unclaimed pieces are untouched')

  Atomics.store(control, CONTROL.STOP, 1)
  assert.equal(hashClaimedChunks(hasher, control, 3, pieceCount), false, 'a stopped job claims nothing')
  assert.equal(Atomics.load(control, CONTROL.NEXT), 6)
  assert.equal(Atomics.load(control, CONTROL.DONE), 6)

  Atomics.store(control, CONTROL.STOP, 0)
  assert.equal(hashClaimedChunks(hasher, control, 3, pieceCount), false)
  assert.equal(Atomics.load(control, CONTROL.DONE), pieceCount, 'the last chunk is one piece, counted as one')
  assert.ok(Atomics.load(control, CONTROL.NEXT) >= pieceCount)
  hasher.finish()
  assertDigests(digests, reference, 'whole job')

  // Reaching maxClaims on the very last piece still says "may remain": the next call finds out.
  const again = newJob(layout, pieceLength)
  const second = new PieceHasher(again.data)
  t.after(() => closeQuietly(second))
  assert.equal(hashClaimedChunks(second, again.control, 5, pieceCount, 2), true)
  assert.equal(Atomics.load(again.control, CONTROL.DONE), pieceCount)
  assert.equal(hashClaimedChunks(second, again.control, 5, pieceCount, 2), false)
  second.finish()
  assertDigests(Buffer.from(again.data.digests), reference, 'two claims of five')
})

test('two hashers sharing one control block split the pieces between them and fill every digest once', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 16 * KIB
  const layout = await writeLayout(dir, [20000, 0, 777, 70000, 1, 64000], 'shared')
  const { data, control, pieceCount } = newJob(layout, pieceLength)
  const a = new PieceHasher(data)
  const b = new PieceHasher(data)
  t.after(() => {
    closeQuietly(a)
    closeQuietly(b)
  })
  let aMore = true
  let bMore = true
  let turns = 0
  // One claim each in turn, as two threads racing on the counter would.
  while (aMore || bMore) {
    if (aMore) aMore = hashClaimedChunks(a, control, 3, pieceCount, 1)
    if (bMore) bMore = hashClaimedChunks(b, control, 3, pieceCount, 1)
    turns++
  }
  a.finish()
  b.finish()
  assert.equal(Atomics.load(control, CONTROL.DONE), pieceCount, 'no piece hashed twice, none skipped')
  assert.ok(turns >= Math.ceil(pieceCount / 6), `${turns} turns for ${pieceCount} pieces`)
  assertDigests(Buffer.from(data.digests), referencePieces(layout.content, pieceLength), 'two hashers')
})

test('empty files are never opened: they add no bytes, so a missing empty file does not matter', async (t) => {
  const dir = await scratch(t)
  const layout = await writeLayout(dir, [0, 30000, 0, 30000, 0], 'never-opened')
  for (const f of layout.files) if (f.length === 0) await rm(f.absPath)
  assertDigests(hashAll(layout, 16 * KIB), referencePieces(layout.content, 16 * KIB), 'with the empty files gone')
})

test('a source file that shrank, grew, was touched or vanished while hashing is an error naming it', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 16 * KIB

  const shrank = await writeLayout(dir, [20000, 20000], 'shrank')
  truncateSync((shrank.files[1] as SourceEntry).absPath, 10000)
  assert.throws(() => hashAll(shrank, pieceLength), isSwarmdropError('FILE_CHANGED', (shrank.files[1] as SourceEntry).absPath))

  // Only the declared bytes are read; the growth shows when the hasher leaves the file.
  const grew = await writeLayout(dir, [20000, 20000], 'grew')
  appendFileSync((grew.files[0] as SourceEntry).absPath, 'more')
  assert.throws(() => hashAll(grew, pieceLength), isSwarmdropError('FILE_CHANGED', (grew.files[0] as SourceEntry).absPath))

  // The last file is checked by finish(), after every piece was hashed.
  const grewLast = await writeLayout(dir, [20000, 20000], 'grew-last')
  appendFileSync((grewLast.files[1] as SourceEntry).absPath, 'more')
  const job = newJob(grewLast, pieceLength)
  const hasher = new PieceHasher(job.data)
  t.after(() => closeQuietly(hasher))
  assert.equal(hashClaimedChunks(hasher, job.control, claimStep(pieceLength), job.pieceCount), false)
  assert.throws(() => hasher.finish(), isSwarmdropError('FILE_CHANGED', (grewLast.files[1] as SourceEntry).absPath))

  const touched = await writeLayout(dir, [20000, 20000], 'touched')
  utimesSync((touched.files[0] as SourceEntry).absPath, new Date(), new Date(Date.now() - 3_600_000))
  assert.throws(() => hashAll(touched, pieceLength), isSwarmdropError('FILE_CHANGED', (touched.files[0] as SourceEntry).absPath))

  const vanished = await writeLayout(dir, [20000, 20000], 'vanished')
  await rm((vanished.files[1] as SourceEntry).absPath)
  assert.throws(() => hashAll(vanished, pieceLength), isSwarmdropError('PATH_NOT_FOUND', (vanished.files[1] as SourceEntry).absPath))
})

test('at most one source file is open at a time, and finish() closes it', async (t) => {
  const fdCount = openFds
  const dir = await scratch(t)
  const pieceLength = 16 * KIB
  const layout = await writeLayout(dir, Array.from({ length: 300 }, (_, i) => 100 + ((i * 53) % 400)), 'one-open')
  const { data, control, pieceCount } = newJob(layout, pieceLength)
  const hasher = new PieceHasher(data)
  t.after(() => closeQuietly(hasher))
  const before = fdCount?.() ?? 0
  let peak = before
  // One piece per claim, so the count is taken between every piece.
  while (hashClaimedChunks(hasher, control, 1, pieceCount, 1)) peak = Math.max(peak, fdCount?.() ?? 0)
  hasher.finish()
  if (fdCount) {
    assert.equal(peak, before + 1, 'one descriptor while hashing hundreds of files')
    assert.equal(fdCount(), before, 'none left after finish()')
  }
  assertDigests(Buffer.from(data.digests), referencePieces(layout.content, pieceLength), 'one piece per claim')
})

const OTHER_KERNEL_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
Promise.all([import(workerData.pieceHasherUrl), import(workerData.lanesUrl)])
  .then(([ph, lanes]) => {
    const hasher = new ph.PieceHasher(workerData.data)
    ph.hashClaimedChunks(hasher, new Int32Array(workerData.control), ph.claimStep(workerData.data.pieceLength), workerData.pieceCount)
    hasher.finish()
    parentPort.postMessage({ native: lanes.sha1Lanes !== null })
  })
  .catch((err) => parentPort.postMessage({ error: String(err && err.stack || err) }))
`

test('the node:crypto reader gives the same digests as the native one on the same layouts', async (t) => {
  const dir = await scratch(t)
  const pieceLength = 16 * KIB
  const layout = await writeLayout(
    dir,
    [5000, 0, 16 * KIB, 1, 40000, 0, ...Array.from({ length: 120 }, (_, i) => (i * 41) % 500), 12345, 0, 30000],
    'other-kernel',
  )
  const { data, control, pieceCount } = newJob(layout, pieceLength)
  // The kernel is chosen when sha1-lanes.js loads, so the other one runs in a thread of its own.
  const worker = new Worker(OTHER_KERNEL_WORKER, {
    eval: true,
    env: { ...process.env, SWARMDROP_NATIVE_SHA1: '0' },
    workerData: {
      pieceHasherUrl: new URL('../../electron/engine/piece-hasher.js', import.meta.url).href,
      lanesUrl: new URL('../../electron/engine/sha1-lanes.js', import.meta.url).href,
      data,
      control: control.buffer,
      pieceCount,
    },
  })
  t.after(() => worker.terminate())
  const reply = await new Promise<{ native?: boolean; error?: string }>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  assert.equal(reply.error, undefined)
  assert.equal(reply.native, false, 'SWARMDROP_NATIVE_SHA1=0 selects node:crypto')
  const reference = referencePieces(layout.content, pieceLength)
  assertDigests(Buffer.from(data.digests), reference, 'node:crypto reader')
  assertDigests(hashAll(layout, pieceLength), reference, `this thread's reader (${sha1Lanes ? 'native' : 'node:crypto'})`)
})
