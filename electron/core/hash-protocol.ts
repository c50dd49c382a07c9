/** Messages between hasher.ts and hash-worker.ts. */
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

export type WorkerRequest = { type: 'job'; data: HashWorkerData } | { type: 'chunk'; chunk: HashChunk } | { type: 'finish' }

export type WorkerReply =
  | { type: 'hashed'; bytes: number }
  | { type: 'finished' }
  | { type: 'error'; code: ErrorCode; message: string }
