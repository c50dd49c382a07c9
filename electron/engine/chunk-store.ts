/**
 * A read-only chunk store (the abstract-chunk-store interface webtorrent calls) that reads pieces
 * straight from a release's original files. Seeding in place means no copy and no re-hash; the
 * shared handle pool keeps the number of open files bounded, whatever the number of files
 * (fs-chunk-store opens every file up front and hits EMFILE with thousands of them).
 *
 * Seeding in place also means the files can change under us. So a file is checked against what
 * was published (size, mtime, inode) when it is opened, which catches a replacement or a
 * symlink swapped in; and every piece read from disk is checked against its SHA-1 before any of
 * it is sent, which catches an edit in place. Either failure is reported once through
 * `onSourceChanged`: no piece that fails its hash ever leaves this store.
 */
import { createHash } from 'node:crypto'
import { open, type FileHandle } from 'node:fs/promises'
import { SwarmdropError } from '../../shared/errors.js'
import { openPublished } from './source-identity.js'
import { allocPieceBuffer } from './piece-memory.js'

export interface StoredFile {
  absPath: string
  length: number
  /** What the file was when published; checked on open when given. */
  mtimeMs?: number
  ino?: number
}

interface PooledHandle {
  handle: Promise<FileHandle>
  users: number
}

/** At most `max` files open at once across every release; idle ones are closed least recently used first. */
export class FileHandlePool {
  // Map iteration order is insertion order: re-inserting on use makes it an LRU.
  private readonly open = new Map<string, PooledHandle>()
  private readonly waiting: (() => void)[] = []
  private closed = false

  constructor(readonly max: number) {}

  get openCount(): number {
    return this.open.size
  }

  /** Runs `fn` on an open handle of the file; with `expected`, a newly opened file must still be it. */
  async use<T>(absPath: string, fn: (handle: FileHandle) => Promise<T>, expected?: StoredFile): Promise<T> {
    const entry = await this.acquire(absPath, expected)
    try {
      return await fn(await entry.handle)
    } finally {
      entry.users--
      this.waiting.shift()?.()
    }
  }

  async close(): Promise<void> {
    this.closed = true
    // Callers waiting for a free handle wake up and get "closed" instead of waiting forever.
    for (const wake of this.waiting.splice(0)) wake()
    const all = [...this.open.values()]
    this.open.clear()
    await Promise.allSettled(all.map(async (e) => (await e.handle).close()))
  }

  /** Closes the idle handles of these files, so a retired release holds no descriptors. */
  async forget(paths: Iterable<string>): Promise<void> {
    const closing: Promise<void>[] = []
    for (const p of paths) {
      const e = this.open.get(p)
      if (e && e.users === 0) {
        this.open.delete(p)
        closing.push(e.handle.then((h) => h.close()).catch(() => undefined))
      }
    }
    await Promise.all(closing)
  }

  private async acquire(absPath: string, expected: StoredFile | undefined): Promise<PooledHandle> {
    for (;;) {
      if (this.closed) throw new Error('the file pool is closed')
      const existing = this.open.get(absPath)
      if (existing) {
        this.open.delete(absPath)
        this.open.set(absPath, existing)
        existing.users++
        return existing
      }
      if (this.open.size < this.max || this.evictIdle()) {
        const opened = openChecked(absPath, expected)
        const entry: PooledHandle = { handle: opened, users: 1 }
        this.open.set(absPath, entry)
        try {
          await opened
        } catch (err) {
          this.open.delete(absPath)
          entry.users--
          this.waiting.shift()?.()
          throw err
        }
        return entry
      }
      // Every handle is in use: wait for one to be released rather than exceed the bound.
      await new Promise<void>((resolve) => this.waiting.push(resolve))
    }
  }

  private evictIdle(): boolean {
    for (const [p, e] of this.open) {
      if (e.users === 0) {
        this.open.delete(p)
        void e.handle.then((h) => h.close()).catch(() => undefined)
        return true
      }
    }
    return false
  }
}

/** Opens a file and, when told what it was at publication, refuses anything else under its name. */
async function openChecked(absPath: string, expected: StoredFile | undefined): Promise<FileHandle> {
  return expected ? (await openPublished(absPath, expected)).handle : open(absPath, 'r')
}

type Callback<T> = (err: Error | null, value?: T) => void

export interface ChunkStoreChecks {
  /** The info dictionary's "pieces": 20-byte SHA-1 digests, one per piece. */
  pieceHashes?: Buffer
  /** Called once, on the first piece that cannot be served as published. */
  onSourceChanged?: (err: SwarmdropError) => void
}

/**
 * Whole pieces kept in memory, across every release: peers ask for 16 KiB blocks, mostly of the
 * same few pieces. 32 MiB holds 4 pieces of 8 MiB (a 10 GiB release); the memory bench measured
 * no loss of upload rate against 64 MiB, and 32 MiB less RSS.
 */
export const PIECE_CACHE_BYTES = 32 * 1024 * 1024
/**
 * However large the pieces, this many stay cached (4 of the largest, 16 MiB, is 64 MiB): with
 * fewer, servers fetching different pieces at once would make every 16 KiB block a whole-piece
 * read and hash.
 */
const MIN_CACHED_PIECES = 4

interface CachedPiece {
  owner: number
  index: number
  bytes: number
  piece: Promise<Buffer>
}

interface WaitingLoad {
  bytes: number
  start: () => void
}

/**
 * Recently read, verified pieces of every release, least recently used first, within one byte
 * budget (or MIN_CACHED_PIECES pieces, whichever is more). Peers request a piece as 16 KiB blocks, and several servers tend to want the same
 * pieces at once: reading each piece from disk once and serving its blocks from memory cut the
 * seeder's per-block file reads by ~30×. One budget for all releases keeps memory flat however
 * many releases are published (a cache per release grew with each one).
 *
 * Reads under way share that budget too (one piece at least), and the rest wait their turn in
 * order. Eviction alone bounds only what stays cached: a peer asking for one block of each of
 * 1,024 pieces of 1 MiB (17 KB of requests) started 1,024 reads at once, and the seeder's RSS
 * went from 90 MiB to 1.1 GiB.
 */
export class PieceCache {
  private readonly entries = new Map<string, CachedPiece>()
  private cachedBytes = 0
  private owners = 0
  private loadingBytes = 0
  private readonly waiting: WaitingLoad[] = []

  constructor(readonly maxBytes: number = PIECE_CACHE_BYTES) {}

  /** Bytes of the pieces held, reads in progress and waiting included. */
  get bytes(): number {
    return this.cachedBytes
  }

  /** Bytes of the piece reads under way now: at most `maxBytes`, or one piece when a piece is larger. */
  get loading(): number {
    return this.loadingBytes
  }

  /** A key space for one store's pieces. */
  newOwner(): number {
    return ++this.owners
  }

  /** Piece `index` of `owner` from memory, or from `load` (a failed load is not remembered). */
  get(owner: number, index: number, bytes: number, load: () => Promise<Buffer>): Promise<Buffer> {
    const key = `${owner}:${index}`
    const cached = this.entries.get(key)
    if (cached) {
      // Map iteration order is insertion order: re-inserting on use makes it an LRU.
      this.entries.delete(key)
      this.entries.set(key, cached)
      return cached.piece
    }
    const piece = this.inTurn(bytes, load)
    const entry: CachedPiece = { owner, index, bytes, piece }
    piece.catch(() => {
      if (this.entries.get(key) === entry) this.drop(key, entry)
    })
    for (const [k, e] of this.entries) {
      if (this.cachedBytes + bytes <= this.maxBytes || this.entries.size < MIN_CACHED_PIECES) break
      this.drop(k, e)
    }
    this.entries.set(key, entry)
    this.cachedBytes += bytes
    return piece
  }

  /** Runs `load` once the reads under way leave room for `bytes` more, after those waiting before it. */
  private inTurn(bytes: number, load: () => Promise<Buffer>): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const start = (): void => {
        this.loadingBytes += bytes
        let loading: Promise<Buffer>
        try {
          loading = load()
        } catch (err) {
          loading = Promise.reject(err instanceof Error ? err : new Error(String(err)))
        }
        void loading.then(resolve, reject).then(() => this.loaded(bytes))
      }
      if (this.waiting.length === 0 && this.hasRoomFor(bytes)) start()
      else this.waiting.push({ bytes, start })
    })
  }

  private hasRoomFor(bytes: number): boolean {
    return this.loadingBytes === 0 || this.loadingBytes + bytes <= this.maxBytes
  }

  private loaded(bytes: number): void {
    this.loadingBytes -= bytes
    for (let next = this.waiting[0]; next && this.hasRoomFor(next.bytes); next = this.waiting[0]) {
      this.waiting.shift()
      next.start()
    }
  }

  /** Drops every piece of `owner`: a closed store's memory goes at once. */
  forget(owner: number): void {
    for (const [k, e] of this.entries) if (e.owner === owner) this.drop(k, e)
  }

  private drop(key: string, entry: CachedPiece): void {
    this.entries.delete(key)
    this.cachedBytes -= entry.bytes
  }
}

/** Piece `index` of a release, read from its files in torrent order. */
export class ReadOnlyChunkStore {
  readonly chunkLength: number
  private readonly files: StoredFile[]
  /** Byte offset of each file in the torrent's concatenated content. */
  private readonly starts: number[]
  private readonly length: number
  private closed = false
  private readonly owner: number
  private reported = false

  constructor(
    pieceLength: number,
    files: StoredFile[],
    private readonly pool: FileHandlePool,
    private readonly checks: ChunkStoreChecks = {},
    /** Shared by every release of a seeder; a store of its own by default. */
    private readonly cache: PieceCache = new PieceCache(),
  ) {
    this.chunkLength = pieceLength
    this.files = files.filter((f) => f.length > 0)
    this.starts = []
    let offset = 0
    for (const f of this.files) {
      this.starts.push(offset)
      offset += f.length
    }
    this.length = offset
    this.owner = cache.newOwner()
  }

  get(index: number, opts: { offset?: number; length?: number } | null | Callback<Buffer>, cb?: Callback<Buffer>): void {
    if (typeof opts === 'function') return this.get(index, null, opts)
    const done = cb ?? (() => undefined)
    if (this.closed) return queueMicrotask(() => done(new Error('the chunk store is closed')))
    if (!Number.isSafeInteger(index) || index < 0) return queueMicrotask(() => done(new Error(`piece ${index} is outside the release`)))
    const pieceStart = index * this.chunkLength
    const pieceLength = Math.min(this.chunkLength, this.length - pieceStart)
    const offset = opts?.offset ?? 0
    const length = opts?.length ?? pieceLength - offset
    if (pieceLength <= 0 || offset < 0 || length < 0 || offset + length > pieceLength) {
      return queueMicrotask(() => done(new Error(`piece ${index} (offset ${offset}, length ${length}) is outside the release`)))
    }
    this.piece(index, pieceStart, pieceLength).then(
      // A copy, not a view: a block queued on a slow peer's socket would otherwise keep its whole
      // piece (up to 16 MiB) alive long after the cache let go of it.
      (piece) => done(null, Buffer.from(piece.subarray(offset, offset + length))),
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    )
  }

  put(index: number, _buf: Uint8Array, cb?: Callback<void>): void {
    // A seeder already has every piece; a write would mean overwriting the publisher's files.
    queueMicrotask(() => cb?.(new Error(`piece ${index}: this release is seeded read-only from the original files`)))
  }

  close(cb?: Callback<void>): void {
    this.closed = true
    this.cache.forget(this.owner)
    void this.pool.forget(this.files.map((f) => f.absPath)).then(() => cb?.(null))
  }

  destroy(cb?: Callback<void>): void {
    // Never delete the publisher's files: destroy is close.
    this.close(cb)
  }

  private piece(index: number, start: number, length: number): Promise<Buffer> {
    return this.cache.get(this.owner, index, length, () => {
      // Its turn may come after the store closed: nobody waits for that piece any more.
      if (this.closed) return Promise.reject(new Error('the chunk store is closed'))
      const reading = this.read(start, length).then((buf) => this.verify(index, buf))
      reading.catch((err: unknown) => {
        if (err instanceof SwarmdropError && err.code === 'FILE_CHANGED') this.report(err)
      })
      return reading
    })
  }

  private verify(index: number, piece: Buffer): Buffer {
    const hashes = this.checks.pieceHashes
    if (!hashes) return piece
    const expected = hashes.subarray(index * 20, index * 20 + 20)
    if (!createHash('sha1').update(piece).digest().equals(expected)) {
      throw new SwarmdropError('FILE_CHANGED', `Source changed: piece ${index} no longer matches the published release (a file was edited on disk).`)
    }
    return piece
  }

  private report(err: SwarmdropError): void {
    if (this.reported) return
    this.reported = true
    this.checks.onSourceChanged?.(err)
  }

  private async read(position: number, length: number): Promise<Buffer> {
    const out = allocPieceBuffer(length)
    let i = this.fileAt(position)
    let filled = 0
    while (filled < length) {
      const file = this.files[i]
      const start = this.starts[i]
      if (file === undefined || start === undefined) throw new Error(`read past the end of the release at byte ${position + filled}`)
      const inFile = position + filled - start
      const want = Math.min(length - filled, file.length - inFile)
      const got = await this.pool.use(
        file.absPath,
        async (h) => {
          let n = 0
          while (n < want) {
            const { bytesRead } = await h.read(out, filled + n, want - n, inFile + n)
            if (bytesRead === 0) break
            n += bytesRead
          }
          return n
        },
        file,
      )
      if (got < want) throw new SwarmdropError('FILE_CHANGED', `Source changed: ${file.absPath} is shorter than when it was published.`)
      filled += want
      i++
    }
    return out
  }

  /** Index of the file holding byte `position` (binary search over file starts). */
  private fileAt(position: number): number {
    let lo = 0
    let hi = this.starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if ((this.starts[mid] ?? 0) <= position) lo = mid
      else hi = mid - 1
    }
    return lo
  }
}
