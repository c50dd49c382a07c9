/**
 * Parallel piece hashing. Worker threads (and, for the CLI, the main thread too) claim chunks of
 * contiguous pieces from a shared atomic counter, so reads stay large and sequential, every core
 * hashes, and no thread waits on a message to get its next chunk. The pool is started before the
 * source is scanned, so thread start-up overlaps the scan.
 */
import { Worker } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { SwarmdropError } from '../../shared/errors.js'
import { CONTROL, type HashJob, type HashWorkerData, type WorkerReply } from './hash-protocol.js'
import { claimStep, hashClaimedChunks, PieceHasher } from './piece-hasher.js'

export interface HashInput {
  files: { absPath: string; length: number; mtimeMs: number }[]
  pieceLength: number
  totalSize: number
}

export interface HashProgressTick {
  hashedBytes: number
  totalBytes: number
}

export interface HashJobOptions {
  onProgress?: (tick: HashProgressTick) => void
  signal?: AbortSignal
}

export interface HashPoolOptions {
  /** Worker threads; defaults to one per core (one fewer when the main thread hashes too). */
  workers?: number
  /**
   * Hash on the calling thread as well, in slices of a few milliseconds. Right for the CLI, where
   * nothing else runs and a thread start-up less is time won; wrong for a UI process.
   */
  mainThread?: boolean
}

const WORKER_URL = new URL('./hash-worker.js', import.meta.url)
/** Main-thread work between yields (~5 ms), so progress and cancel still flow. */
const MAIN_SLICE_BYTES = 8 * 1024 * 1024
const PROGRESS_MS = 100

export class HashPool {
  private readonly workers: Worker[] = []
  private closed = false
  readonly mainThread: boolean

  constructor(options: HashPoolOptions = {}) {
    this.mainThread = options.mainThread ?? false
    const count = options.workers ?? Math.max(this.mainThread ? 0 : 1, availableParallelism() - (this.mainThread ? 1 : 0))
    for (let i = 0; i < count; i++) this.workers.push(new Worker(WORKER_URL))
  }

  /** Resolves to the concatenated 20-byte SHA-1 digests of every piece (the info dict's "pieces"). */
  hash(input: HashInput, options: HashJobOptions = {}): Promise<Buffer> {
    const { pieceLength, totalSize } = input
    const pieceCount = Math.ceil(totalSize / pieceLength)
    const data: HashWorkerData = { files: input.files, pieceLength, totalSize, digests: new SharedArrayBuffer(pieceCount * 20) }
    const control = new SharedArrayBuffer(CONTROL.SLOTS * 4)
    const ctrl = new Int32Array(control)
    const step = claimStep(pieceLength)
    const job: HashJob = { data, control, step }
    const { signal } = options
    // A tiny input doesn't need every thread.
    const wanted = Math.max(this.mainThread ? 0 : 1, Math.min(this.workers.length, Math.ceil(pieceCount / step) - (this.mainThread ? 1 : 0)))
    const workers = this.workers.slice(0, wanted)

    return new Promise<Buffer>((resolve, reject) => {
      if (signal?.aborted) return reject(cancelled())
      // Nothing would ever run the job: say so rather than never settle.
      if (this.closed || (workers.length === 0 && !this.mainThread)) {
        return reject(new SwarmdropError('INTERNAL', this.closed ? 'The hashing pool was closed (after a cancel or an error); start a new one.' : 'A hashing pool with no threads cannot hash.'))
      }
      let running = workers.length + (this.mainThread ? 1 : 0)
      let settled = false
      let reported = -1

      const report = (): void => {
        const done = Atomics.load(ctrl, CONTROL.DONE)
        if (done === reported) return
        reported = done
        options.onProgress?.({ hashedBytes: Math.min(totalSize, done * pieceLength), totalBytes: totalSize })
      }
      const timer = options.onProgress ? setInterval(report, PROGRESS_MS) : null

      const stop = (err: Error | null): void => {
        if (settled) return
        settled = true
        Atomics.store(ctrl, CONTROL.STOP, 1)
        if (timer) clearInterval(timer)
        signal?.removeEventListener('abort', onAbort)
        for (const w of workers) {
          w.removeAllListeners('message')
          w.removeAllListeners('error')
        }
        if (err) {
          // Workers may still be mid-chunk on a job that no longer matters: don't reuse them.
          this.close()
          reject(err)
        } else {
          report()
          resolve(Buffer.from(data.digests))
        }
      }
      const onAbort = (): void => stop(cancelled())
      signal?.addEventListener('abort', onAbort, { once: true })
      const threadDone = (): void => {
        if (--running === 0) stop(null)
      }

      for (const worker of workers) {
        worker.on('message', (reply: WorkerReply) => {
          if (settled) return
          if (reply.type === 'error') return stop(new SwarmdropError(reply.code, reply.message))
          threadDone()
        })
        worker.on('error', (err) => stop(new SwarmdropError('INTERNAL', `Hashing thread failed: ${err.message}`, { cause: err })))
        worker.postMessage(job)
      }

      if (this.mainThread) {
        void (async () => {
          const hasher = new PieceHasher(data)
          const slice = Math.max(1, Math.floor(MAIN_SLICE_BYTES / pieceLength / step))
          try {
            while (hashClaimedChunks(hasher, ctrl, step, pieceCount, slice)) {
              report()
              await yieldToLoop()
            }
            if (Atomics.load(ctrl, CONTROL.STOP) !== 0) return
            hasher.finish()
            threadDone()
          } catch (err) {
            stop(err as Error)
          } finally {
            // Cancelled or failed mid-file: the file is still open.
            hasher.release()
          }
        })()
      }
    })
  }

  /** Stops the threads; the pool can't be used afterwards. */
  close(): void {
    this.closed = true
    for (const w of this.workers.splice(0)) void w.terminate()
  }
}

/** One-off hashing with a pool of its own. */
export async function hashPieces(input: HashInput, options: HashJobOptions & HashPoolOptions = {}): Promise<Buffer> {
  const pool = new HashPool(options)
  try {
    return await pool.hash(input, options)
  } finally {
    pool.close()
  }
}

function cancelled(): SwarmdropError {
  return new SwarmdropError('CANCELLED', 'Hashing was cancelled.')
}
