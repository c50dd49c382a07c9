/** One hashing thread: claims chunks of pieces from the shared control block until none are left. */
import { parentPort } from 'node:worker_threads'
import { SwarmdropError } from '../../shared/errors.js'
import { fsError } from './source-scanner.js'
import { PieceHasher } from './piece-hasher.js'
import { CONTROL, type HashJob, type WorkerReply } from './hash-protocol.js'

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
  const ctrl = new Int32Array(control)
  const pieceCount = data.digests.byteLength / 20
  const hasher = new PieceHasher(data)
  for (;;) {
    if (Atomics.load(ctrl, CONTROL.STOP) !== 0) break
    const first = Atomics.add(ctrl, CONTROL.NEXT, step)
    if (first >= pieceCount) break
    const end = Math.min(pieceCount, first + step)
    hasher.hashChunk({ first, end })
    Atomics.add(ctrl, CONTROL.DONE, end - first)
  }
  // Closing the last file also re-checks its size and mtime.
  hasher.finish()
}
