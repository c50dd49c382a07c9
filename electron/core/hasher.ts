/**
 * Parallel piece hashing: a pool of worker threads pulls contiguous chunks of pieces, so reads
 * stay large and sequential while both cores hash. Progress is reported per chunk; cancelling
 * terminates the workers at once.
 */
import { Worker } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { SwarmdropError } from '../../shared/errors.js'
import type { HashChunk, HashWorkerData, WorkerReply } from './hash-protocol.js'

export interface HashInput {
  files: { absPath: string; length: number; mtimeMs: number }[]
  pieceLength: number
  totalSize: number
}

export interface HashProgressTick {
  hashedBytes: number
  totalBytes: number
}

export interface HashOptions {
  /** Worker threads; defaults to the number of cores. */
  workers?: number
  onProgress?: (tick: HashProgressTick) => void
  signal?: AbortSignal
}

const WORKER_URL = new URL('./hash-worker.js', import.meta.url)
const MAX_CHUNK_BYTES = 64 * 1024 * 1024

/** Resolves to the concatenated 20-byte SHA-1 digests of every piece (the info dict's "pieces"). */
export function hashPieces(input: HashInput, options: HashOptions = {}): Promise<Buffer> {
  const { pieceLength, totalSize } = input
  const pieceCount = Math.ceil(totalSize / pieceLength)
  const digests = new SharedArrayBuffer(pieceCount * 20)
  const workerCount = Math.max(1, Math.min(options.workers ?? availableParallelism(), Math.ceil(totalSize / (4 * 1024 * 1024))))
  // About 8 chunks per worker balances load and keeps progress ticking; never under one piece.
  const chunkBytes = Math.min(MAX_CHUNK_BYTES, Math.max(pieceLength, totalSize / (workerCount * 8)))
  const piecesPerChunk = Math.max(1, Math.floor(chunkBytes / pieceLength))
  const signal = options.signal

  return new Promise<Buffer>((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled())
    const workerData: HashWorkerData = { files: input.files, pieceLength, totalSize, digests }
    const workers: Worker[] = []
    let nextPiece = 0
    let hashedBytes = 0
    let settled = false

    const stop = (err: Error | null): void => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      for (const w of workers) void w.terminate()
      if (err) reject(err)
      else resolve(Buffer.from(digests))
    }
    const onAbort = (): void => stop(cancelled())
    signal?.addEventListener('abort', onAbort, { once: true })

    const feed = (worker: Worker): void => {
      if (nextPiece < pieceCount) {
        const chunk: HashChunk = { first: nextPiece, end: Math.min(pieceCount, nextPiece + piecesPerChunk) }
        nextPiece = chunk.end
        worker.postMessage(chunk)
      } else {
        // Closing the last file also re-checks its size and mtime.
        worker.postMessage('finish')
      }
    }

    let finished = 0
    for (let i = 0; i < workerCount; i++) {
      const worker = new Worker(WORKER_URL, { workerData })
      workers.push(worker)
      worker.on('message', (reply: WorkerReply) => {
        if (settled) return
        if (reply.type === 'error') return stop(new SwarmdropError(reply.code, reply.message))
        if (reply.type === 'finished') {
          if (++finished === workerCount) stop(null)
          return
        }
        hashedBytes += reply.bytes
        options.onProgress?.({ hashedBytes, totalBytes: totalSize })
        feed(worker)
      })
      worker.on('error', (err) => stop(new SwarmdropError('INTERNAL', `Hashing thread failed: ${err.message}`, { cause: err })))
      feed(worker)
    }
  })
}

function cancelled(): SwarmdropError {
  return new SwarmdropError('CANCELLED', 'Hashing was cancelled.')
}
