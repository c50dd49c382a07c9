/**
 * Hashing that starts before the file list is complete: the scan hands over files in torrent order
 * as it finds them, and native threads (native/hash_stream.c) read and hash every piece the known
 * files already cover. For a folder of many small files this overlaps the scan with the hashing,
 * and it needs no worker thread to start up or to receive the whole list.
 *
 * Null where the addon or its SHA-1 kernels are missing; callers then use HashPool. When a file
 * cannot be read or changed, the result is null and the caller hashes again through HashPool,
 * which names the file and the cause.
 */
import { availableParallelism } from 'node:os'
import { nativeAddon, type NativeAddon, type NativeStreamHandle } from './native-addon.js'
import { sha1Lanes } from './sha1-lanes.js'

export interface StreamedFile {
  absPath: string
  length: number
  mtimeMs: number
}

type StreamAddon = Required<Pick<NativeAddon, 'hashStreamStart' | 'hashStreamAdd' | 'hashStreamEnd' | 'hashStreamStop' | 'hashStreamProgress'>>

function streamAddon(): StreamAddon | null {
  const a = nativeAddon
  if (!a || !sha1Lanes || !a.hashStreamStart || !a.hashStreamAdd || !a.hashStreamEnd || !a.hashStreamStop || !a.hashStreamProgress) return null
  return a as StreamAddon
}

const addon = streamAddon()

export class HashStream {
  /** For the native folder walk, which feeds the stream directly. */
  readonly handle: NativeStreamHandle
  readonly result: Promise<Buffer | null>
  private ended = false

  private constructor(
    private readonly native: StreamAddon,
    pieceLength: number,
    threads: number,
  ) {
    let settle: (digests: Buffer | null) => void = () => {}
    this.result = new Promise((resolve) => (settle = resolve))
    this.handle = native.hashStreamStart(pieceLength, threads, sha1Lanes?.kernel === 'avx2', (digests) => settle(digests))
  }

  /** The native kernels and threads are there. */
  static readonly supported = addon !== null

  /** A stream with one hashing thread per core, or null without the native kernels. */
  static open(pieceLength: number, threads = availableParallelism()): HashStream | null {
    return addon ? new HashStream(addon, pieceLength, Math.max(1, Math.min(64, threads))) : null
  }

  /** The next files in torrent order. */
  add(files: readonly StreamedFile[]): void {
    if (files.length === 0 || this.ended) return
    const lengths = new Float64Array(files.length)
    const mtimes = new Float64Array(files.length)
    let paths = ''
    for (let i = 0; i < files.length; i++) {
      const f = files[i] as StreamedFile
      // NUL cannot occur in a path, so it separates them.
      paths += i === 0 ? f.absPath : `\0${f.absPath}`
      lengths[i] = f.length
      mtimes[i] = f.mtimeMs
    }
    // A refusal (out of memory) fails the stream, and its result is null.
    this.native.hashStreamAdd(this.handle, paths, lengths, mtimes)
  }

  /** No more files: resolves to the digests of every piece, or null (see above). */
  end(): Promise<Buffer | null> {
    this.ended = true
    this.native.hashStreamEnd(this.handle)
    return this.result
  }

  /** Abandons the job; resolves once no thread touches the files any more. */
  async stop(): Promise<void> {
    this.ended = true
    this.native.hashStreamStop(this.handle)
    await this.result
  }

  hashedBytes(): number {
    return this.native.hashStreamProgress(this.handle)
  }
}
