/**
 * HashPool: the threads that hash every release. Publishing and the re-verify after a restart both
 * depend on it returning node:crypto's digests whichever threads did the work, on progress that
 * ends at the total, on a cancel that really stops, and on a worker's error coming back as a
 * SwarmdropError with its code (the UI branches on it). The input spans several 4 MiB claims, so
 * more than one thread hashes, with pieces straddling files, empty files and many small files.
 */
import { after, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readlinkSync, realpathSync, truncateSync, utimesSync } from 'node:fs'
import { rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { hashPieces, HashPool, type HashInput, type HashPoolOptions, type HashProgressTick } from '../../electron/engine/hasher.js'
import { SwarmdropError, type ErrorCode } from '../../shared/errors.js'
import { pseudoRandom } from '../support/fixtures.js'
import { tempDir } from '../support/temp.js'

const KIB = 1024
const MIB = 1024 * KIB

interface Layout {
  input: HashInput
  content: Buffer
}

async function scratch(t: TestContext): Promise<string> {
  const { dir, cleanup } = await tempDir('swarmdrop-hasher-')
  t.after(cleanup)
  return dir
}

/**
 * Megabytes of distinct bytes, cheaply: a pseudo-random block of an odd length, repeated, so no
 * two pieces are alike while generating stays far under the time budget.
 */
function bulk(length: number, seed: string): Buffer {
  const block = pseudoRandom(MIB + 7, seed)
  const out = Buffer.allocUnsafe(length)
  for (let offset = 0; offset < length; offset += block.length) block.copy(out, offset, 0, Math.min(block.length, length - offset))
  return out
}

async function writeLayout(dir: string, lengths: number[], pieceLength: number, content: Buffer, name: string): Promise<Layout> {
  const files: HashInput['files'] = []
  let offset = 0
  for (const [i, length] of lengths.entries()) {
    const absPath = path.join(dir, `${name}-${String(i).padStart(4, '0')}.bin`)
    await writeFile(absPath, content.subarray(offset, offset + length))
    offset += length
    files.push({ absPath, length, mtimeMs: (await stat(absPath)).mtimeMs })
  }
  assert.equal(offset, content.length, 'the layout covers the content')
  return { input: { files, pieceLength, totalSize: offset }, content }
}

/** ~9.6 MB over 106 files: three 4 MiB claims at 16 KiB pieces, so a two-worker pool gives both the job. */
async function bigLayout(dir: string): Promise<Layout> {
  const small = Array.from({ length: 100 }, (_, i) => (i % 11 === 0 ? 0 : 500 + ((i * 97) % 1500)))
  const lengths = [0, 3_000_001, 17, 0, 2_500_000, ...small, 4_000_000, 333]
  const total = lengths.reduce((a, b) => a + b, 0)
  return writeLayout(dir, lengths, 16 * KIB, bulk(total, 'big'), 'big')
}

// Written once for the whole file: no test modifies it, and writing it per test would cost more
// than the hashing being tested.
const sharedDir = await tempDir('swarmdrop-hasher-shared-')
after(sharedDir.cleanup)
let shared: Promise<Layout> | null = null
function sharedBigLayout(pieceLength = 16 * KIB): Promise<Layout> {
  shared ??= bigLayout(sharedDir.dir)
  return shared.then((layout) => ({ content: layout.content, input: { ...layout.input, pieceLength } }))
}

async function smallLayout(dir: string, lengths: number[], name: string, pieceLength = 16 * KIB): Promise<Layout> {
  return writeLayout(dir, lengths, pieceLength, pseudoRandom(lengths.reduce((a, b) => a + b, 0), name), name)
}

function referencePieces(content: Buffer, pieceLength: number): Buffer {
  const digests: Buffer[] = []
  for (let start = 0; start < content.length; start += pieceLength) digests.push(createHash('sha1').update(content.subarray(start, start + pieceLength)).digest())
  return Buffer.concat(digests)
}

function assertDigests(actual: Buffer, layout: Layout, what: string): void {
  const expected = referencePieces(layout.content, layout.input.pieceLength)
  assert.equal(actual.length, expected.length, `${what}: digest count`)
  for (let i = 0; i < expected.length / 20; i++) {
    assert.equal(actual.subarray(i * 20, i * 20 + 20).toString('hex'), expected.subarray(i * 20, i * 20 + 20).toString('hex'), `${what}: piece ${i}`)
  }
}

function newPool(t: TestContext, options: HashPoolOptions): HashPool {
  const pool = new HashPool(options)
  t.after(() => pool.close())
  return pool
}

function isSwarmdropError(code: ErrorCode, mentions?: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof SwarmdropError, `a SwarmdropError, got ${String(err)}`)
    assert.equal(err.code, code)
    if (mentions !== undefined) assert.ok(err.message.includes(mentions), `"${err.message}" names ${mentions}`)
    return true
  }
}

const THREADINGS: { name: string; options: HashPoolOptions }[] = [
  { name: 'two workers', options: { workers: 2 } },
  { name: 'main thread alone', options: { workers: 0, mainThread: true } },
  { name: 'main thread and a worker', options: { workers: 1, mainThread: true } },
]

test('worker threads, the main thread alone, and both together all give node:crypto digests', async (t) => {
  const layout = await sharedBigLayout()
  for (const { name, options } of THREADINGS) {
    const pool = newPool(t, options)
    assertDigests(await pool.hash(layout.input), layout, name)
    pool.close()
  }
})

test('one pool hashes job after job, with other piece lengths and inputs smaller than a claim', async (t) => {
  const dir = await scratch(t)
  const pool = newPool(t, { workers: 2 })
  const jobs = [
    await sharedBigLayout(64 * KIB),
    await smallLayout(dir, [5000, 0, 16 * KIB, 1, 40000, 0, 12345, 0], 'straddling'),
    await smallLayout(dir, [16 * KIB], 'one-piece'),
    await smallLayout(dir, [0, 10, 0, 20, 0], 'under-a-piece'),
    await smallLayout(dir, Array.from({ length: 300 }, (_, i) => (i * 31) % 200), 'many-small', 32 * KIB),
  ]
  for (const layout of jobs) assertDigests(await pool.hash(layout.input), layout, path.basename(layout.input.files[0]?.absPath ?? ''))
})

test('hashPieces hashes with a pool of its own, and an input of no bytes has no pieces', async (t) => {
  const dir = await scratch(t)
  const layout = await smallLayout(dir, [0, 30000, 7, 0, 2 * 16 * KIB], 'one-off')
  assertDigests(await hashPieces(layout.input, { workers: 1 }), layout, 'workers')
  assertDigests(await hashPieces(layout.input, { workers: 0, mainThread: true }), layout, 'main thread')
  const nothing = await smallLayout(dir, [0, 0], 'nothing')
  assert.equal((await hashPieces(nothing.input, { workers: 1 })).length, 0)
  assert.equal((await hashPieces(nothing.input, { workers: 0, mainThread: true })).length, 0)
})

function checkTicks(ticks: HashProgressTick[], totalSize: number, pieceLength: number): void {
  assert.ok(ticks.length >= 1, 'at least the final tick')
  assert.deepEqual(ticks.at(-1), { hashedBytes: totalSize, totalBytes: totalSize }, 'progress ends at the total')
  for (const [i, tick] of ticks.entries()) {
    assert.equal(tick.totalBytes, totalSize)
    assert.ok(tick.hashedBytes === totalSize || tick.hashedBytes % pieceLength === 0, `whole pieces: ${tick.hashedBytes}`)
    if (i > 0) assert.ok(tick.hashedBytes > (ticks[i - 1] as HashProgressTick).hashedBytes, 'strictly increasing: no repeated tick')
  }
}

test('progress climbs in whole pieces and ends at the total; the main thread reports between slices', async (t) => {
  const layout = await sharedBigLayout()
  const { totalSize, pieceLength } = layout.input

  const mainTicks: HashProgressTick[] = []
  const main = newPool(t, { workers: 0, mainThread: true })
  assertDigests(await main.hash(layout.input, { onProgress: (tick) => mainTicks.push(tick) }), layout, 'main thread with progress')
  checkTicks(mainTicks, totalSize, pieceLength)
  // Three claims of ~4 MiB, at most 8 MiB per slice: one tick mid-way, whatever the machine's speed.
  assert.ok(mainTicks.length >= 2, `${mainTicks.length} ticks`)
  assert.ok((mainTicks[0] as HashProgressTick).hashedBytes < totalSize)

  const workerTicks: HashProgressTick[] = []
  const workers = newPool(t, { workers: 2 })
  assertDigests(await workers.hash(layout.input, { onProgress: (tick) => workerTicks.push(tick) }), layout, 'workers with progress')
  checkTicks(workerTicks, totalSize, pieceLength)
})

test('cancel: an aborted signal rejects with CANCELLED, mid-job too, and no progress follows', async (t) => {
  const layout = await sharedBigLayout()

  // Already aborted: nothing starts, so the pool stays usable.
  const pool = newPool(t, { workers: 2 })
  await assert.rejects(pool.hash(layout.input, { signal: AbortSignal.abort() }), isSwarmdropError('CANCELLED'))
  assertDigests(await pool.hash(layout.input), layout, 'the same pool after a refused job')

  // Aborted while the workers have barely got the job.
  const ticks: HashProgressTick[] = []
  const controller = new AbortController()
  const running = pool.hash(layout.input, { signal: controller.signal, onProgress: (tick) => ticks.push(tick) })
  controller.abort()
  await assert.rejects(running, isSwarmdropError('CANCELLED'))
  const seen = ticks.length
  // Longer than the 100 ms progress interval: the timer must be gone.
  await new Promise((resolve) => setTimeout(resolve, 150))
  assert.equal(ticks.length, seen, 'no progress after the cancel')
  assert.ok(ticks.every((tick) => tick.hashedBytes < layout.input.totalSize), 'never reported as complete')

  // Aborted from the main thread's first progress report, between two slices.
  const main = newPool(t, { workers: 0, mainThread: true })
  const stop = new AbortController()
  const mainTicks: HashProgressTick[] = []
  await assert.rejects(
    main.hash(layout.input, {
      signal: stop.signal,
      onProgress: (tick) => {
        mainTicks.push(tick)
        stop.abort()
      },
    }),
    isSwarmdropError('CANCELLED'),
  )
  assert.equal(mainTicks.length, 1)
  assert.ok((mainTicks[0] as HashProgressTick).hashedBytes < layout.input.totalSize, 'stopped before the end')
})

test("a thread's error comes back as a SwarmdropError with its code and the file's path", async (t) => {
  const dir = await scratch(t)
  for (const { name, options } of THREADINGS.slice(0, 2)) {
    const vanished = await smallLayout(dir, [20000, 20000, 20000], `vanished-${name}`)
    const gone = (vanished.input.files[1] as HashInput['files'][number]).absPath
    await rm(gone)
    await assert.rejects(newPool(t, options).hash(vanished.input), isSwarmdropError('PATH_NOT_FOUND', gone), name)

    const shrank = await smallLayout(dir, [20000, 20000, 20000], `shrank-${name}`)
    const short = (shrank.input.files[2] as HashInput['files'][number]).absPath
    truncateSync(short, 100)
    await assert.rejects(newPool(t, options).hash(shrank.input), isSwarmdropError('FILE_CHANGED', short), name)

    // Same size, new mtime: the content may have been rewritten under the hasher.
    const touched = await smallLayout(dir, [20000, 20000, 20000], `touched-${name}`)
    const moved = (touched.input.files[0] as HashInput['files'][number]).absPath
    utimesSync(moved, new Date(), new Date(Date.now() - 3_600_000))
    await assert.rejects(newPool(t, options).hash(touched.input), isSwarmdropError('FILE_CHANGED', moved), name)
  }
})

/**
 * Linux only: the files under `dir` this process holds a descriptor on. By path rather than by
 * count, because worker threads share the descriptor table and other tests' workers come and go.
 */
const fdsUnder = existsSync('/proc/self/fd')
  ? (dir: string): string[] => {
      const root = realpathSync(dir) + path.sep
      return readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`)
          return target.startsWith(root) ? [target] : []
        } catch {
          return [] // the descriptor readdir itself used, already closed
        }
      })
    }
  : null

/** The main thread lets go of its file on its next turn, just after the job has settled. */
async function assertNoFdsUnder(dir: string, what: string): Promise<void> {
  if (!fdsUnder) return
  const deadline = Date.now() + 1000
  let open = fdsUnder(dir)
  while (open.length > 0 && Date.now() < deadline) {
    await delay(10)
    open = fdsUnder(dir)
  }
  assert.deepEqual(open, [], `${what}: no descriptor left on the source files`)
}

test('the main thread closes the file it was reading when its job is cancelled or fails', { skip: fdsUnder ? false : 'needs /proc/self/fd', timeout: 5000 }, async (t) => {
  const dir = await scratch(t)
  // Longer than one main-thread slice (~8 MiB): the cancel comes between two slices, mid-file.
  const long = await writeLayout(dir, [12 * MIB], 16 * KIB, bulk(12 * MIB, 'cancelled'), 'cancelled')
  const controller = new AbortController()
  const ticks: HashProgressTick[] = []
  const cancelled = newPool(t, { workers: 0, mainThread: true }).hash(long.input, {
    signal: controller.signal,
    onProgress: (tick) => {
      ticks.push(tick)
      controller.abort()
    },
  })
  await assert.rejects(cancelled, isSwarmdropError('CANCELLED'))
  assert.ok(ticks.length === 1 && (ticks[0] as HashProgressTick).hashedBytes < long.input.totalSize, 'cancelled with the file half read')
  await assertNoFdsUnder(dir, 'cancelled')

  // A file cut short under the hasher: the error is thrown with that file open.
  const shrank = await smallLayout(dir, [20000, 20000, 20000], 'truncated')
  const short = (shrank.input.files[1] as HashInput['files'][number]).absPath
  truncateSync(short, 100)
  await assert.rejects(newPool(t, { workers: 0, mainThread: true }).hash(shrank.input), isSwarmdropError('FILE_CHANGED', short))
  await assertNoFdsUnder(dir, 'failed')
})

test('a pool that cannot run a job rejects it with INTERNAL instead of never settling', { timeout: 5000 }, async (t) => {
  const dir = await scratch(t)
  const layout = await smallLayout(dir, [20000, 5000], 'refused')
  await assert.rejects(newPool(t, { workers: 0 }).hash(layout.input), isSwarmdropError('INTERNAL', 'no threads'))

  const closed = newPool(t, { workers: 2 })
  closed.close()
  await assert.rejects(closed.hash(layout.input), isSwarmdropError('INTERNAL', 'closed'))

  // A cancel mid-job closes the pool, since its workers may still be busy: the next job is refused.
  const cancelled = newPool(t, { workers: 1 })
  const controller = new AbortController()
  const running = cancelled.hash(layout.input, { signal: controller.signal })
  controller.abort()
  await assert.rejects(running, isSwarmdropError('CANCELLED'))
  await assert.rejects(cancelled.hash(layout.input), isSwarmdropError('INTERNAL', 'closed'))
})
