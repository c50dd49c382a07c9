/** One hashing thread: a PieceHasher driven by messages from hasher.ts. */
import { parentPort } from 'node:worker_threads'
import { SwarmdropError } from '../../shared/errors.js'
import { fsError } from './source-scanner.js'
import { PieceHasher } from './piece-hasher.js'
import type { WorkerRequest, WorkerReply } from './hash-protocol.js'

const port = parentPort
if (!port) throw new Error('hash-worker must run as a worker thread')
let hasher: PieceHasher | null = null

port.on('message', (msg: WorkerRequest) => {
  let reply: WorkerReply
  try {
    if (msg.type === 'job') {
      hasher = new PieceHasher(msg.data)
      return
    }
    if (!hasher) throw new Error('chunk before job')
    if (msg.type === 'finish') {
      hasher.finish()
      hasher = null
      reply = { type: 'finished' }
    } else {
      reply = { type: 'hashed', bytes: hasher.hashChunk(msg.chunk) }
    }
  } catch (err) {
    const e = err instanceof SwarmdropError ? err : fsError(err, 'a source file')
    reply = { type: 'error', code: e.code, message: e.message }
  }
  port.postMessage(reply)
})
