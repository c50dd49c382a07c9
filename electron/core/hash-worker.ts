/**
 * One hashing thread. It reads its chunk's byte range sequentially across file boundaries with
 * synchronous reads (cheap inside a worker) and writes each 20-byte SHA-1 straight into the
 * shared digest buffer. It holds at most one file open, so folders of any size never hit EMFILE.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'
import { SwarmdropError } from '../../shared/errors.js'
import { fsError } from './source-scanner.js'
import type { HashChunk, HashWorkerData, WorkerReply } from './hash-protocol.js'

const data = workerData as HashWorkerData
const digests = new Uint8Array(data.digests)
const READ_SIZE = Math.min(data.pieceLength, 1024 * 1024)
const buffer = Buffer.allocUnsafe(READ_SIZE)

// Offsets of non-empty files; empty files contribute no bytes to any piece.
const spans: { index: number; start: number; length: number }[] = []
{
  let offset = 0
  data.files.forEach((f, index) => {
    if (f.length > 0) spans.push({ index, start: offset, length: f.length })
    offset += f.length
  })
}

let openIndex = -1
let openFd = -1

function spanAt(offset: number): number {
  let lo = 0
  let hi = spans.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if ((spans[mid] as (typeof spans)[number]).start <= offset) lo = mid
    else hi = mid - 1
  }
  return lo
}

function changed(absPath: string): SwarmdropError {
  return new SwarmdropError('FILE_CHANGED', `${absPath} changed while it was being hashed. Wait until it is complete, then publish again.`)
}

function closeOpen(): void {
  if (openFd < 0) return
  const f = data.files[openIndex] as HashWorkerData['files'][number]
  // A file that grew, shrank or was rewritten during hashing would give a torrent nobody can complete.
  const st = fstatSync(openFd)
  closeSync(openFd)
  openFd = -1
  openIndex = -1
  if (st.size !== f.length || st.mtimeMs !== f.mtimeMs) throw changed(f.absPath)
}

function fdFor(index: number): number {
  if (index === openIndex) return openFd
  closeOpen()
  const f = data.files[index] as HashWorkerData['files'][number]
  try {
    openFd = openSync(f.absPath, 'r')
  } catch (err) {
    throw fsError(err, f.absPath)
  }
  openIndex = index
  return openFd
}

function hashChunk({ first, end }: HashChunk): number {
  let bytes = 0
  for (let piece = first; piece < end; piece++) {
    const pieceStart = piece * data.pieceLength
    const pieceEnd = Math.min(pieceStart + data.pieceLength, data.totalSize)
    const hash = createHash('sha1')
    let offset = pieceStart
    let s = spanAt(offset)
    while (offset < pieceEnd) {
      const span = spans[s] as (typeof spans)[number]
      const within = offset - span.start
      const want = Math.min(pieceEnd - offset, span.length - within, READ_SIZE)
      const fd = fdFor(span.index)
      let got = 0
      while (got < want) {
        const n = readSync(fd, buffer, got, want - got, within + got)
        if (n === 0) throw changed((data.files[span.index] as HashWorkerData['files'][number]).absPath)
        got += n
      }
      hash.update(buffer.subarray(0, want))
      offset += want
      if (offset === span.start + span.length) s++
    }
    digests.set(hash.digest(), piece * 20)
    bytes += pieceEnd - pieceStart
  }
  return bytes
}

const port = parentPort
if (!port) throw new Error('hash-worker must run as a worker thread')
port.on('message', (msg: HashChunk | 'finish') => {
  let reply: WorkerReply
  try {
    if (msg === 'finish') {
      closeOpen()
      reply = { type: 'finished' }
    } else {
      reply = { type: 'hashed', bytes: hashChunk(msg) }
    }
  } catch (err) {
    const e = err instanceof SwarmdropError ? err : fsError(err, 'a source file')
    reply = { type: 'error', code: e.code, message: e.message }
  }
  port.postMessage(reply)
})
