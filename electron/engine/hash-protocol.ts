/** What hasher.ts and hash-worker.ts share: the job, the control block and the replies. */
import type { ErrorCode } from '../../shared/errors.js'

export interface HashWorkerData {
  files: { absPath: string; length: number; mtimeMs: number }[]
  pieceLength: number
  totalSize: number
  /** pieceCount * 20 bytes; each thread writes the digests of the pieces it hashes. */
  digests: SharedArrayBuffer
}

/** Hash pieces [first, end). */
export interface HashChunk {
  first: number
  end: number
}

/**
 * Int32 slots of the shared control block. Threads claim work with one atomic add instead of a
 * message round trip, so no thread ever waits for another to hand it the next chunk.
 */
export const CONTROL = {
  /** Next unclaimed piece. */
  NEXT: 0,
  /** Pieces hashed so far (progress). */
  DONE: 1,
  /** Non-zero once the job is cancelled or failed. */
  STOP: 2,
  SLOTS: 3,
} as const

export interface HashJob {
  data: HashWorkerData
  control: SharedArrayBuffer
  /** Pieces claimed at a time. */
  step: number
}

export type WorkerReply = { type: 'finished' } | { type: 'error'; code: ErrorCode; message: string }
