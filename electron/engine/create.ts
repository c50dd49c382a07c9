/**
 * `create`: a file or folder in, a private .torrent out. Scanning, hashing and encoding are
 * separate modules; this one only orders them and reports progress.
 */
import { statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { SwarmdropError } from '../../shared/errors.js'
import { choosePieceLength, isValidPieceLength, MIN_PIECE_LENGTH, MAX_PIECE_LENGTH } from '../../shared/piece-length.js'
import type { HashPool, HashPoolOptions } from './hasher.js'
import { HashStream } from './hash-stream.js'
import { scanFolderNatively, scanSource, scanSources, type NativeScan, type Source } from './source-scanner.js'
import { encodeFileList, encodeInfo, encodeTorrent, infoHashOf, magnetUri } from './torrent-file.js'
import { PRODUCT } from './product.js'

export interface CreateProgress {
  hashedBytes: number
  totalBytes: number
  /** Bytes per second since hashing started. */
  rate: number
}

export interface CreateOptions {
  /** Defaults to the folder or file name. */
  name?: string
  pieceLength?: number
  /** Private by default: no DHT, PEX or LSD, only the trackers given here. */
  private?: boolean
  /** Tiers of announce URLs. Nothing is added when empty: never create-torrent's public trackers. */
  announce?: string[][]
  webSeeds?: string[]
  comment?: string
  /**
   * Hashing threads; the CLI also hashes on its main thread. A folder hashed by the native
   * kernels uses as many native threads (one per core by default).
   */
  threads?: HashPoolOptions
  onProgress?: (progress: CreateProgress) => void
  signal?: AbortSignal
  /** Fixed creation date (seconds) for reproducible output; defaults to now. */
  creationDate?: number
}

export interface CreatedTorrent {
  infoHash: string
  name: string
  /** The bencoded info dictionary: the release's identity. */
  info: Buffer
  /** The complete .torrent file. */
  torrent: Buffer
  magnet: string
  source: Source
  totalSize: number
  pieceLength: number
  pieceCount: number
  /** The release's files (source.files.length, which a folder makes on first use). */
  fileCount: number
  private: boolean
  elapsedMs: number
}

function hashWith(pool: HashPool, source: Source, pieceLength: number, options: CreateOptions): Promise<Buffer> {
  const hashStart = performance.now()
  const { onProgress } = options
  return pool.hash(
    { files: source.files, pieceLength, totalSize: source.totalSize },
    {
      signal: options.signal,
      onProgress: onProgress
        ? ({ hashedBytes, totalBytes }) => {
            const seconds = Math.max(1e-3, (performance.now() - hashStart) / 1000)
            onProgress({ hashedBytes, totalBytes, rate: hashedBytes / seconds })
          }
        : undefined,
    },
  )
}

interface Scanned {
  source: Source
  pieceLength: number
  /** Still hashing when the scan is done: the info dictionary's file list is encoded meanwhile. */
  pieces: Promise<Buffer>
  /** The native walk's count and bencoded "files" list, when it walked the folder. */
  native?: NativeScan | null
}

/** Worker threads are only needed off the native path: their module loads only then. */
async function newPool(threads: HashPoolOptions | undefined): Promise<HashPool> {
  const { HashPool } = await import('./hasher.js')
  return new HashPool(threads)
}

/** Native hashing threads, as HashPoolOptions asks for them (the main thread counts as one). */
function streamThreads(threads: HashPoolOptions | undefined): number {
  if (threads?.workers === undefined) return availableParallelism()
  return Math.max(1, threads.workers + (threads.mainThread ? 1 : 0))
}

/**
 * A folder, with the native kernels: hashing starts on the first files the scan finds (when the
 * piece length is given; otherwise it depends on the total size, so it starts after the scan),
 * without worker threads to start. Null when the native kernels are missing.
 */
async function scanAndHashStreamed(inputs: string[], name: string, options: CreateOptions): Promise<Scanned | null> {
  const given = options.pieceLength
  let stream: HashStream | null = null
  let source: Source
  let native: NativeScan | null = null
  try {
    if (inputs.length === 1) {
      const input = inputs[0] as string
      const threads = streamThreads(options.threads)
      stream = given === undefined ? null : HashStream.open(given, threads)
      // On a native thread first; where that gives up (and stops the stream), the JavaScript walk,
      // which reports what made it give up.
      native = await scanFolderNatively(input, stream?.handle ?? null)
      if (native) {
        source = native.source
      } else {
        if (stream) {
          await stream.stop()
          stream = HashStream.open(given as number, threads)
        }
        const s = stream
        source = await scanSource(input, s ? (files) => s.add(files) : undefined)
      }
    } else {
      source = await scanSources(inputs, name)
    }
  } catch (err) {
    await stream?.stop()
    throw err
  }
  const pieceLength = given ?? choosePieceLength(source.totalSize)
  if (!stream) {
    stream = HashStream.open(pieceLength, streamThreads(options.threads))
    if (!stream) return null
    stream.add(source.files)
  }
  const streamed = stream
  const pieces = async (): Promise<Buffer> =>
    // A file could not be read or changed: hash again the ordinary way, which names it and why.
    (await finishStream(streamed, source.totalSize, options)) ?? (await hashWithPool(source, pieceLength, options))
  return { source, pieceLength, pieces: pieces(), native }
}

/** Ends the stream, reporting progress and honouring the signal until it is done. */
async function finishStream(stream: HashStream, totalBytes: number, options: CreateOptions): Promise<Buffer | null> {
  const { onProgress, signal } = options
  const hashStart = performance.now()
  const report = (): void => {
    const hashedBytes = Math.min(totalBytes, stream.hashedBytes())
    onProgress?.({ hashedBytes, totalBytes, rate: hashedBytes / Math.max(1e-3, (performance.now() - hashStart) / 1000) })
  }
  const timer = onProgress ? setInterval(report, 100) : null
  const onAbort = (): void => void stream.stop()
  signal?.addEventListener('abort', onAbort, { once: true })
  if (signal?.aborted) onAbort()
  try {
    const pieces = await stream.end()
    if (signal?.aborted) throw new SwarmdropError('CANCELLED', 'Hashing was cancelled.')
    if (pieces) report()
    return pieces
  } finally {
    if (timer) clearInterval(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

async function hashWithPool(source: Source, pieceLength: number, options: CreateOptions): Promise<Buffer> {
  const pool = await newPool(options.threads)
  try {
    return await hashWith(pool, source, pieceLength, options)
  } finally {
    pool.close()
  }
}

/** A folder (or several paths, which make one): what the native stream is for. */
function isFolderRelease(inputs: string[]): boolean {
  if (inputs.length > 1) return true
  try {
    return statSync(path.resolve(inputs[0] as string)).isDirectory()
  } catch {
    return false // the scan reports why
  }
}

/**
 * A single file, or no native kernels: the pool's threads start now and boot while the source is
 * scanned; the CLI's main thread hashes in slices, so progress and cancel come often.
 */
async function scanThenHash(inputs: string[], name: string, options: CreateOptions): Promise<Scanned> {
  const pool = await newPool(options.threads)
  try {
    const source = await scanSources(inputs, name)
    const pieceLength = options.pieceLength ?? choosePieceLength(source.totalSize)
    return { source, pieceLength, pieces: Promise.resolve(await hashWith(pool, source, pieceLength, options)) }
  } finally {
    pool.close()
  }
}

/** One path, or several as one release under a virtual root named `options.name` (required then). */
export async function createTorrent(input: string | string[], options: CreateOptions = {}): Promise<CreatedTorrent> {
  const inputs = Array.isArray(input) ? input : [input]
  const started = performance.now()
  if (options.pieceLength !== undefined && !isValidPieceLength(options.pieceLength)) {
    throw new SwarmdropError(
      'INVALID_ARGUMENT',
      `Piece length ${options.pieceLength} is invalid: use a power of two from ${MIN_PIECE_LENGTH} (16 KiB) to ${MAX_PIECE_LENGTH} (16 MiB).`,
    )
  }
  const name = options.name ?? undefined
  if (name !== undefined && (name === '' || name.includes('/') || name === '.' || name === '..')) {
    throw new SwarmdropError('INVALID_ARGUMENT', `Release name "${name}" is invalid: it must be non-empty and contain no "/".`)
  }
  if (inputs.length > 1 && name === undefined) {
    throw new SwarmdropError('INVALID_ARGUMENT', `${inputs.length} paths make one release under a folder named after it: give the release a name.`)
  }
  const scanned = (HashStream.supported && isFolderRelease(inputs) ? await scanAndHashStreamed(inputs, name ?? '', options) : null) ?? (await scanThenHash(inputs, name ?? '', options))
  const { source, pieceLength } = scanned
  // Handled from now on: should encoding throw first, a hashing error must not go unobserved.
  scanned.pieces.catch(() => {})
  const fileList = source.isDirectory ? (scanned.native?.encodedFiles ?? encodeFileList(source.files)) : null
  const pieces = await scanned.pieces
  const isPrivate = options.private ?? true
  const releaseName = name ?? source.name
  const info = encodeInfo({
    name: releaseName,
    files: fileList,
    length: source.totalSize,
    pieceLength,
    pieces,
    private: isPrivate,
  })
  const announce = options.announce ?? []
  const torrent = encodeTorrent(info, {
    announce,
    urlList: options.webSeeds,
    comment: options.comment ?? null,
    createdBy: `${PRODUCT.name} ${PRODUCT.version}`,
    creationDate: options.creationDate ?? Math.floor(Date.now() / 1000),
  })
  const infoHash = infoHashOf(info)
  return {
    infoHash,
    name: releaseName,
    info,
    torrent,
    magnet: magnetUri(infoHash, releaseName, announce.flat()),
    source,
    totalSize: source.totalSize,
    pieceLength,
    pieceCount: pieces.length / 20,
    fileCount: scanned.native?.fileCount ?? source.files.length,
    private: isPrivate,
    elapsedMs: performance.now() - started,
  }
}
