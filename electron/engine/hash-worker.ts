/** One hashing thread: claims chunks of pieces from the shared control block until none are left. */
import { parentPort } from 'node:worker_threads'
import { SwarmdropError } from '../../shared/errors.js'
import { fsError } from './source-scanner.js'
import { hashClaimedChunks, PieceHasher } from './piece-hasher.js'
import type { HashJob, WorkerReply } from './hash-protocol.js'

const port = parentPort
if (!port) throw new Error('hash-worker must run as a worker thread')

port.on('message', (job: HashJob) => {
  let reply: WorkerReply
  try {
    runJob(job)
    reply = { type: 'finished' }
  } catch (err) {
    const e = err instanceof SwarmdropError ? err : fsError(err, 'a source file')
    reply = { type: 'error', code: e.code, message: e.message }
  }
  port.postMessage(reply)
})

function runJob({ data, control, step }: HashJob): void {
  const hasher = new PieceHasher(data)
  hashClaimedChunks(hasher, new Int32Array(control), step, data.digests.byteLength / 20)
  // Closing the last file also re-checks its size and mtime.
  hasher.finish()
}
