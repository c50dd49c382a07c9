/**
 * `create`: a file or folder in, a private .torrent out. Scanning, hashing and encoding are
 * separate modules; this one only orders them and reports progress.
 */
import { SwarmdropError } from '../../shared/errors.js'
import { choosePieceLength, isValidPieceLength, MIN_PIECE_LENGTH, MAX_PIECE_LENGTH } from '../../shared/piece-length.js'
import { HashPool, type HashPoolOptions } from './hasher.js'
import { scanSources, type Source } from './source-scanner.js'
import { encodeInfo, encodeTorrent, infoHashOf, magnetUri } from './torrent-file.js'
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
  /** Hashing threads; the CLI also hashes on its main thread. */
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
  // Threads start now and boot while the source is scanned.
  if (inputs.length > 1 && name === undefined) {
    throw new SwarmdropError('INVALID_ARGUMENT', `${inputs.length} paths make one release under a folder named after it: give the release a name.`)
  }
  const pool = new HashPool(options.threads)
  let source: Source
  let pieces: Buffer
  let pieceLength: number
  try {
    source = await scanSources(inputs, name ?? '')
    pieceLength = options.pieceLength ?? choosePieceLength(source.totalSize)
    pieces = await hashWith(pool, source, pieceLength, options)
  } finally {
    pool.close()
  }
  const isPrivate = options.private ?? true
  const releaseName = name ?? source.name
  const info = encodeInfo({
    name: releaseName,
    files: source.isDirectory ? source.files.map((f) => ({ path: f.path, length: f.length })) : null,
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
    private: isPrivate,
    elapsedMs: performance.now() - started,
  }
}
