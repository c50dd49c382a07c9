/**
 * Hashes chunks of pieces straight from the source files: sequential reads across file
 * boundaries, each 20-byte SHA-1 written into the shared digest buffer. It keeps at most one file
 * open, so folders of any size never hit EMFILE. Synchronous on purpose: it runs inside a worker
 * thread, or on the CLI's main thread in bounded slices.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { SwarmdropError } from '../../shared/errors.js'
import { fsError } from './source-scanner.js'
import { SHA1_LANES, sha1Lanes } from './sha1-lanes.js'
import { nativeAddon } from './native-addon.js'
import { CONTROL, type HashChunk, type HashWorkerData } from './hash-protocol.js'

type SourceEntry = HashWorkerData['files'][number]

export class PieceHasher {
  private readonly digests: Uint8Array
  private readonly readSize: number
  private readonly buffer: Buffer
  /** Whole chunks for the native kernel, which hashes pieces side by side from memory. */
  private chunkBuffer: Buffer | null = null
  private readonly chunkDigests: Buffer
  /** Offsets of non-empty files; empty files contribute no bytes to any piece. */
  private readonly spans: { index: number; start: number; length: number }[] = []
  /** Per span, for reading runs of whole files natively: lengths and mtimes as the addon takes them. */
  private readonly spanLengths: Float64Array
  private readonly spanMtimes: Float64Array
  private openIndex = -1
  private openFd = -1

  constructor(private readonly data: HashWorkerData) {
    this.digests = new Uint8Array(data.digests)
    this.readSize = Math.min(data.pieceLength, 1024 * 1024)
    this.buffer = Buffer.allocUnsafe(sha1Lanes ? 0 : this.readSize)
    this.chunkDigests = Buffer.allocUnsafe(sha1Lanes ? claimStep(data.pieceLength) * 20 : 0)
    let offset = 0
    data.files.forEach((f, index) => {
      if (f.length > 0) this.spans.push({ index, start: offset, length: f.length })
      offset += f.length
    })
    this.spanLengths = Float64Array.from(this.spans, (span) => span.length)
    this.spanMtimes = Float64Array.from(this.spans, (span) => this.file(span.index).mtimeMs)
  }

  /** Hashes pieces [first, end) and returns the bytes read. */
  hashChunk(chunk: HashChunk): number {
    return sha1Lanes ? this.hashChunkNative(chunk) : this.hashChunkStreaming(chunk)
  }

  /** Reads the chunk into memory, then the native kernel hashes its pieces side by side. */
  private hashChunkNative({ first, end }: HashChunk): number {
    const { pieceLength, totalSize } = this.data
    const start = first * pieceLength
    const stop = Math.min(end * pieceLength, totalSize)
    const bytes = stop - start
    if (!this.chunkBuffer || this.chunkBuffer.length < bytes) this.chunkBuffer = Buffer.allocUnsafe(bytes)
    this.readRange(start, stop, this.chunkBuffer)
    const count = end - first
    const lastLength = bytes - (count - 1) * pieceLength
    ;(sha1Lanes as NonNullable<typeof sha1Lanes>).sha1Pieces(this.chunkBuffer, pieceLength, count, lastLength, this.chunkDigests)
    this.digests.set(this.chunkDigests.subarray(0, count * 20), first * 20)
    return bytes
  }

  /** Fills `into` with bytes [start, stop) of the release, across file boundaries. */
  private readRange(start: number, stop: number, into: Buffer): void {
    let offset = start
    let s = this.spanAt(offset)
    while (offset < stop) {
      const span = this.spans[s] as (typeof this.spans)[number]
      const within = offset - span.start
      if (within === 0 && span.index !== this.openIndex) {
        const end = this.readWholeFiles(s, stop, into, offset - start)
        if (end > s) {
          s = end
          offset = s < this.spans.length ? (this.spans[s] as (typeof this.spans)[number]).start : stop
          continue
        }
      }
      const want = Math.min(stop - offset, span.length - within)
      const fd = this.fdFor(span.index)
      let got = 0
      while (got < want) {
        const n = readSync(fd, into, offset - start + got, want - got, within + got)
        if (n === 0) throw changed(this.file(span.index).absPath)
        got += n
      }
      offset += want
      if (offset === span.start + span.length) s++
    }
  }

  /**
   * Small files: the run of whole files from span `first` that ends by `stop` is read natively in
   * one call (open, read, fstat, close each, without a JavaScript call per step). Returns the span
   * after the run, or `first` when there is no run or a file failed: the caller then reads from
   * `first` one file at a time, which reports the failure with its path and cause.
   */
  private readWholeFiles(first: number, stop: number, into: Buffer, at: number): number {
    if (!nativeAddon) return first
    let end = first
    while (end < this.spans.length) {
      const span = this.spans[end] as (typeof this.spans)[number]
      if (span.start + span.length > stop) break
      end++
    }
    // One file is as cheap from JavaScript, and leaves it open for the next chunk if it spans one.
    if (end - first < 2) return first
    const paths = this.spans.slice(first, end).map((span) => this.file(span.index).absPath)
    const failed = nativeAddon.readFiles(paths.join('\0'), this.spanLengths.subarray(first, end), this.spanMtimes.subarray(first, end), into, at)
    return failed < 0 ? end : first + failed
  }

  /** node:crypto, one piece at a time, reading at most 1 MiB at once. */
  private hashChunkStreaming({ first, end }: HashChunk): number {
    const { pieceLength, totalSize } = this.data
    let bytes = 0
    for (let piece = first; piece < end; piece++) {
      const pieceStart = piece * pieceLength
      const pieceEnd = Math.min(pieceStart + pieceLength, totalSize)
      const hash = createHash('sha1')
      let offset = pieceStart
      let s = this.spanAt(offset)
      while (offset < pieceEnd) {
        const span = this.spans[s] as (typeof this.spans)[number]
        const within = offset - span.start
        const want = Math.min(pieceEnd - offset, span.length - within, this.readSize)
        const fd = this.fdFor(span.index)
        let got = 0
        while (got < want) {
          const n = readSync(fd, this.buffer, got, want - got, within + got)
          if (n === 0) throw changed(this.file(span.index).absPath)
          got += n
        }
        hash.update(this.buffer.subarray(0, want))
        offset += want
        if (offset === span.start + span.length) s++
      }
      this.digests.set(hash.digest(), piece * 20)
      bytes += pieceEnd - pieceStart
    }
    return bytes
  }

  /** Closes the last file, which also re-checks it. */
  finish(): void {
    this.closeOpen()
  }

  /** Closes the open file without checking it: the job was cancelled or failed. */
  release(): void {
    if (this.openFd < 0) return
    closeSync(this.openFd)
    this.openFd = -1
    this.openIndex = -1
  }

  private file(index: number): SourceEntry {
    return this.data.files[index] as SourceEntry
  }

  private spanAt(offset: number): number {
    let lo = 0
    let hi = this.spans.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if ((this.spans[mid] as (typeof this.spans)[number]).start <= offset) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  private closeOpen(): void {
    if (this.openFd < 0) return
    const f = this.file(this.openIndex)
    // A file that grew, shrank or was rewritten during hashing gives a torrent nobody can complete.
    const st = fstatSync(this.openFd)
    closeSync(this.openFd)
    this.openFd = -1
    this.openIndex = -1
    if (st.size !== f.length || st.mtimeMs !== f.mtimeMs) throw changed(f.absPath)
  }

  private fdFor(index: number): number {
    if (index === this.openIndex) return this.openFd
    this.closeOpen()
    const f = this.file(index)
    try {
      this.openFd = openSync(f.absPath, 'r')
    } catch (err) {
      throw fsError(err, f.absPath)
    }
    this.openIndex = index
    return this.openFd
  }
}

function changed(absPath: string): SwarmdropError {
  return new SwarmdropError('FILE_CHANGED', `${absPath} changed while it was being hashed. Wait until it is complete, then publish again.`)
}

/** Claim about 4 MiB at a time, in whole groups of the native kernel's lanes when it hashes them. */
export function claimStep(pieceLength: number): number {
  const pieces = Math.max(1, Math.floor((4 * 1024 * 1024) / pieceLength))
  return sha1Lanes ? Math.max(SHA1_LANES, pieces - (pieces % SHA1_LANES)) : pieces
}

/**
 * Claims chunks of `step` pieces from the shared control block and hashes them, until no piece is
 * left, the job is stopped, or `maxClaims` chunks were done. Returns true while work may remain.
 */
export function hashClaimedChunks(hasher: PieceHasher, control: Int32Array, step: number, pieceCount: number, maxClaims = Infinity): boolean {
  for (let claims = 0; claims < maxClaims; claims++) {
    if (Atomics.load(control, CONTROL.STOP) !== 0) return false
    const first = Atomics.add(control, CONTROL.NEXT, step)
    if (first >= pieceCount) return false
    const end = Math.min(pieceCount, first + step)
    hasher.hashChunk({ first, end })
    Atomics.add(control, CONTROL.DONE, end - first)
  }
  return true
}
