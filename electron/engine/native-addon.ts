/**
 * Loads the optional native addon (native/sha1_lanes.c, built into dist/native) once, with its
 * surface typed. Null when it is not built or SWARMDROP_NATIVE_SHA1=0; every caller has a
 * node-only path with identical results.
 */
import { createRequire } from 'node:module'

export interface NativeAddon {
  /** The CPU has the x86 SHA extensions (sha1Pieces may be used). */
  supported: boolean
  /** The CPU and OS have AVX2 (sha1PiecesAvx2 may be used). */
  avx2: boolean
  sha1Pieces(data: Uint8Array, pieceLength: number, count: number, lastLength: number, out: Uint8Array): void
  sha1PiecesAvx2(data: Uint8Array, pieceLength: number, count: number, lastLength: number, out: Uint8Array): void
  /**
   * Reads whole files (paths joined by NUL) back to back into `out` from `offset`, checking each
   * one's size and mtime afterwards. Returns -1, or the index of the first file that failed.
   */
  readFiles(paths: string, lengths: Float64Array, mtimes: Float64Array, out: Uint8Array, offset: number): number
  /**
   * stat() of each NUL-joined path into `out`, five numbers each: kind (1 file, 2 folder, 0 other,
   * -1 failed), size, mtimeMs, ino, dev. Returns how many were done.
   */
  statPaths(paths: string, out: Float64Array): number
  /**
   * A folder's entries: names joined by NUL, and six numbers each (statPaths' five, then 1 when
   * the entry is itself a symlink). Null when the folder cannot be read. Absent from older builds.
   */
  listFolder?(path: string): [string, Float64Array] | null
  /** Hashing threads fed while the scan runs (native/hash_stream.c); absent from an addon built before it. */
  hashStreamStart?(pieceLength: number, threads: number, avx2: boolean, done: (digests: Buffer | null) => void): NativeStreamHandle
  hashStreamAdd?(handle: NativeStreamHandle, paths: string, lengths: Float64Array, mtimes: Float64Array): boolean
  hashStreamEnd?(handle: NativeStreamHandle): void
  hashStreamStop?(handle: NativeStreamHandle): void
  hashStreamProgress?(handle: NativeStreamHandle): number
  /**
   * A whole folder in torrent order, on a pool thread, feeding `stream` (then ended): relative
   * paths joined by NUL, length, mtimeMs, ino per file, and the bencoded "files" list when every
   * name is valid UTF-8 (absent from older builds). Null: it gave up (see hash_stream.c).
   */
  walkFolder?(root: string, stream: NativeStreamHandle | null, done: (walked: [string, Float64Array, Buffer?] | null) => void): void
  /** A Buffer in a mapping of its own, in huge pages where the kernel allows (native/piece_memory.c); null if mapping failed. Absent from older builds. */
  allocPiece?(bytes: number): Buffer | null
}

/** An opaque native object; only the addon looks inside. */
export interface NativeStreamHandle {
  readonly __nativeStream: unique symbol
}

function load(): NativeAddon | null {
  if (process.env.SWARMDROP_NATIVE_SHA1 === '0') return null
  try {
    const addon = createRequire(import.meta.url)('../../native/sha1_lanes.node') as Partial<NativeAddon>
    // An addon built from an older source lacks the newer functions: treat it as absent.
    return typeof addon.readFiles === 'function' && typeof addon.statPaths === 'function' && typeof addon.sha1PiecesAvx2 === 'function' ? (addon as NativeAddon) : null
  } catch {
    return null
  }
}

export const nativeAddon: NativeAddon | null = load()
