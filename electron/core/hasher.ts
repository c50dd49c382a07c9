/**
 * Parallel piece hashing. A pool of worker threads (and, for the CLI, the main thread too) pulls
 * contiguous chunks of pieces, so reads stay large and sequential while every core hashes. The
 * pool is started before the source is scanned, so thread start-up overlaps the scan.
 */
import { Worker } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { SwarmdropError } from '../../shared/errors.js'
import type { HashChunk, HashWorkerData, WorkerReply, WorkerRequest } from './hash-protocol.js'
import { PieceHasher } from './piece-hasher.js'

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
const MAX_CHUNK_BYTES = 64 * 1024 * 1024
/** Keeps each main-thread slice around 5 ms so events (progress, cancel) still flow. */
const MAIN_SLICE_BYTES = 8 * 1024 * 1024

export class HashPool {
  private readonly workers: Worker[] = []
  readonly mainThread: boolean

  constructor(options: HashPoolOptions = {}) {
    this.mainThread = options.mainThread ?? false
    const count = options.workers ?? Math.max(this.mainThread ? 0 : 1, availableParallelism() - (this.mainThread ? 1 : 0))
    for (let i = 0; i < count; i++) this.workers.push(new Worker(WORKER_URL))
  }

  get threads(): number {
    return this.workers.length + (this.mainThread ? 1 : 0)
  }

  /** Resolves to the concatenated 20-byte SHA-1 digests of every piece (the info dict's "pieces"). */
  hash(input: HashInput, options: HashJobOptions = {}): Promise<Buffer> {
    const { pieceLength, totalSize } = input
    const pieceCount = Math.ceil(totalSize / pieceLength)
    const data: HashWorkerData = { files: input.files, pieceLength, totalSize, digests: new SharedArrayBuffer(pieceCount * 20) }
    const { signal } = options
    const threads = Math.max(1, this.threads)
    // Few tiny inputs don't need every thread; each one used must still get a job.
    const workers = this.workers.slice(0, Math.max(this.mainThread ? 0 : 1, Math.min(this.workers.length, Math.ceil(totalSize / (4 * 1024 * 1024)))))

    return new Promise<Buffer>((resolve, reject) => {
      if (signal?.aborted) return reject(cancelled())
      let nextPiece = 0
      let hashedBytes = 0
      let running = workers.length + (this.mainThread ? 1 : 0)
      let settled = false

      const stop = (err: Error | null): void => {
        if (settled) return
        settled = true
        signal?.removeEventListener('abort', onAbort)
        for (const w of workers) {
          w.removeAllListeners('message')
          w.removeAllListeners('error')
        }
        if (err) {
          // A worker may be mid-chunk on a job that no longer matters: replace the pool's threads.
          this.close()
          reject(err)
        } else resolve(Buffer.from(data.digests))
      }
      const onAbort = (): void => stop(cancelled())
      signal?.addEventListener('abort', onAbort, { once: true })

      // Guided scheduling: big chunks first, smaller ones near the end so threads finish together.
      const take = (maxBytes: number): HashChunk | null => {
        if (nextPiece >= pieceCount) return null
        const remaining = (pieceCount - nextPiece) * pieceLength
        const bytes = Math.min(maxBytes, Math.max(pieceLength, remaining / (threads * 2)))
        const chunk = { first: nextPiece, end: Math.min(pieceCount, nextPiece + Math.max(1, Math.floor(bytes / pieceLength))) }
        nextPiece = chunk.end
        return chunk
      }
      const progressed = (bytes: number): void => {
        hashedBytes += bytes
        options.onProgress?.({ hashedBytes, totalBytes: totalSize })
      }
      const threadDone = (): void => {
        if (--running === 0) stop(null)
      }

      for (const worker of workers) {
        const send = (msg: WorkerRequest): void => worker.postMessage(msg)
        const feed = (): void => {
          const chunk = take(MAX_CHUNK_BYTES)
          send(chunk ? { type: 'chunk', chunk } : { type: 'finish' })
        }
        worker.on('message', (reply: WorkerReply) => {
          if (settled) return
          if (reply.type === 'error') return stop(new SwarmdropError(reply.code, reply.message))
          if (reply.type === 'finished') return threadDone()
          progressed(reply.bytes)
          feed()
        })
        worker.on('error', (err) => stop(new SwarmdropError('INTERNAL', `Hashing thread failed: ${err.message}`, { cause: err })))
        send({ type: 'job', data })
        feed()
      }

      if (this.mainThread) {
        void (async () => {
          const hasher = new PieceHasher(data)
          try {
            for (let chunk = take(MAIN_SLICE_BYTES); chunk && !settled; chunk = take(MAIN_SLICE_BYTES)) {
              progressed(hasher.hashChunk(chunk))
              await yieldToLoop()
            }
            hasher.finish()
            if (!settled) threadDone()
          } catch (err) {
            stop(err as Error)
          }
        })()
      }
    })
  }

  /** Stops the threads; the pool can't be used afterwards. */
  close(): void {
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
