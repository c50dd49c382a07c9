/**
 * The release library: one JSON file per release in `<dataDir>/releases/`, each written
 * atomically. A record keeps what is needed to seed again after a restart without re-hashing
 * (the info dictionary's exact bytes, the source files with sizes and mtimes) and to rebuild the
 * same feed item (title, publishedAt, creation date).
 *
 * Every record is checked field by field when the library opens (its info-hash must even be the
 * SHA-1 of its info bytes). One that is truncated or incomplete never stops the others: it is
 * moved aside to `releases/damaged/`, named in `damaged`, and the rest of the library runs.
 * Temp files left by a write that was killed halfway are removed.
 */
import { mkdir, readdir, readFile, rename } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { SwarmdropError } from '../../shared/errors.js'
import { INFO_HASH_PATTERN } from '../../shared/request-validation.js'
import { removeAbandonedWrites, writeFileAtomic } from './atomic-write.js'
import { bdecode } from './bencode.js'
import type { CreatedTorrent } from './create.js'
import { isPlainSegment } from './safe-path.js'

/** What the user asked for; 'error' and 'hashing' are runtime states, never persisted. */
export type StoredState = 'seeding' | 'paused' | 'retired'

export interface StoredFileEntry {
  /** Path inside the release ([] for a single-file release). */
  path: string[]
  length: number
  mtimeMs: number
  /** Inode at publication; absent in records written before it was kept. */
  ino?: number
}

export interface ReleaseRecord {
  version: 1
  infoHash: string
  /** info.name. */
  name: string
  /** The feed item's title (unique per release). */
  title: string
  channel: string
  comment: string | null
  private: boolean
  webSeed: boolean
  pieceLength: number
  pieceCount: number
  totalSize: number
  source: {
    /** The published file, or the folder whose content is the release. */
    root: string
    isDirectory: boolean
    files: StoredFileEntry[]
    /** Several paths as one release: where each top-level entry is on disk (absent for one path). */
    roots?: { name: string; path: string }[]
  }
  /** The bencoded info dictionary, base64: the release's identity, never re-encoded. */
  info: string
  /** .torrent "creation date" (seconds), so a restart serves byte-identical outer fields. */
  creationDate: number
  createdAt: string
  publishedAt: string
  state: StoredState
}

/** What a publish chose beyond the hashed content. */
export interface PublishChoices {
  title: string
  channel: string
  comment: string | null
  webSeed: boolean
  publishedAt: Date
  /** Kept from an earlier publication of the same content, if there was one. */
  createdAt?: string
}

/** The record of a freshly hashed release, seeding. */
export function newReleaseRecord(created: CreatedTorrent, choices: PublishChoices): ReleaseRecord {
  return {
    version: 1,
    infoHash: created.infoHash,
    name: created.name,
    title: choices.title,
    channel: choices.channel,
    comment: choices.comment,
    private: created.private,
    webSeed: choices.webSeed,
    pieceLength: created.pieceLength,
    pieceCount: created.pieceCount,
    totalSize: created.totalSize,
    source: {
      root: created.source.root,
      isDirectory: created.source.isDirectory,
      files: created.source.files.map((f) => ({ path: f.path, length: f.length, mtimeMs: f.mtimeMs, ino: f.ino })),
      ...(created.source.roots ? { roots: created.source.roots } : {}),
    },
    info: created.info.toString('base64'),
    creationDate: Math.floor(choices.publishedAt.getTime() / 1000),
    createdAt: choices.createdAt ?? choices.publishedAt.toISOString(),
    publishedAt: choices.publishedAt.toISOString(),
    state: 'seeding',
  }
}

/** Absolute path of a stored file: derived from the root (or its entry's root), never stored twice. */
export function absPathOf(record: ReleaseRecord, file: StoredFileEntry): string {
  const { roots } = record.source
  if (roots) {
    const [top, ...rest] = file.path
    const root = roots.find((r) => r.name === top)
    if (!root) throw new SwarmdropError('INTERNAL', `"${record.title}" has no source for ${file.path.join('/')}.`)
    return path.join(root.path, ...rest)
  }
  return record.source.isDirectory ? path.join(record.source.root, ...file.path) : record.source.root
}

export function infoBytes(record: ReleaseRecord): Buffer {
  return Buffer.from(record.info, 'base64')
}

/** The info dictionary's "pieces": one 20-byte SHA-1 per piece. */
export function pieceHashesOf(record: ReleaseRecord): Buffer {
  const decoded = bdecode(infoBytes(record)).value
  const pieces = !Buffer.isBuffer(decoded) && !Array.isArray(decoded) && typeof decoded === 'object' ? decoded.pieces : undefined
  if (!Buffer.isBuffer(pieces)) throw new SwarmdropError('INTERNAL', `The stored info dictionary of ${record.infoHash} has no pieces.`)
  return pieces
}

/** A record that could not be used, where it was moved, and why. */
export interface DamagedRecord {
  /** The record's file name in releases/, e.g. "<infohash>.json". */
  name: string
  /** Where the damaged file now is (releases/damaged/...), or null when it could not be moved. */
  keptAt: string | null
  reason: string
}

export class ReleaseStore {
  private readonly records = new Map<string, ReleaseRecord>()
  private readonly dir: string
  /** Records that could not be used at load time (shown at start-up and in the UI, never fatal). */
  readonly damaged: DamagedRecord[] = []

  private constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'releases')
  }

  static async open(dataDir: string): Promise<ReleaseStore> {
    const store = new ReleaseStore(dataDir)
    // A write killed between its temp file and the rename: the record itself is intact.
    await removeAbandonedWrites(store.dir)
    let names: string[] = []
    try {
      names = await readdir(store.dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new SwarmdropError('PATH_UNREADABLE', `Cannot read the release library ${store.dir}: ${(err as Error).message}`, { cause: err })
    }
    for (const name of names) {
      const file = path.join(store.dir, name)
      if (!name.endsWith('.json') || name.startsWith('.')) continue
      try {
        const record = parseReleaseRecord(await readFile(file, 'utf8'))
        if (`${record.infoHash}.json` !== name) throw new Error(`it describes release ${record.infoHash}, not ${name.slice(0, -5)}`)
        store.records.set(record.infoHash, record)
      } catch (err) {
        store.damaged.push({ name, keptAt: await store.setAside(file, name), reason: (err as Error).message })
      }
    }
    return store
  }

  /** Moves a damaged record out of the library (never deletes it), so a fixed copy can be put back. */
  private async setAside(file: string, name: string): Promise<string | null> {
    const dir = path.join(this.dir, 'damaged')
    const target = path.join(dir, `${name}.${new Date().toISOString().replace(/[:.]/g, '-')}`)
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 })
      await rename(file, target)
      return target
    } catch {
      return null
    }
  }

  /** Every release, oldest publication first. */
  all(): ReleaseRecord[] {
    return [...this.records.values()].sort((a, b) => a.publishedAt.localeCompare(b.publishedAt))
  }

  get(infoHash: string): ReleaseRecord | undefined {
    return this.records.get(infoHash)
  }

  require(infoHash: string): ReleaseRecord {
    const r = this.records.get(infoHash.toLowerCase())
    if (!r) throw new SwarmdropError('UNKNOWN_RELEASE', `No release with info-hash ${infoHash} in this library. Run "swarmdrop status" to list the releases.`)
    return r
  }

  async put(record: ReleaseRecord): Promise<void> {
    await writeFileAtomic(path.join(this.dir, `${record.infoHash}.json`), JSON.stringify(record))
    this.records.set(record.infoHash, record)
  }

  async update(infoHash: string, patch: Partial<Omit<ReleaseRecord, 'infoHash' | 'version'>>): Promise<ReleaseRecord> {
    const next = { ...this.require(infoHash), ...patch }
    await this.put(next)
    return next
  }
}

/** A stored record, checked field by field; throws naming the first thing wrong. */
export function parseReleaseRecord(text: string): ReleaseRecord {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new Error(`it is not complete JSON (${(err as Error).message}); the file was probably cut short`)
  }
  const r = object(value, 'the record')
  if (r.version !== 1) throw new Error(`unknown record version ${JSON.stringify(r.version)}`)
  const infoHash = str(r.infoHash, 'infoHash')
  if (!INFO_HASH_PATTERN.test(infoHash)) throw new Error('"infoHash" is not 40 hex digits')
  const info = str(r.info, 'info')
  const infoBuf = Buffer.from(info, 'base64')
  if (infoBuf.length === 0 || createHash('sha1').update(infoBuf).digest('hex') !== infoHash) throw new Error('"info" does not hash to "infoHash"')
  const source = object(r.source, 'source')
  const isDirectory = bool(source.isDirectory, 'source.isDirectory')
  const rawFiles = source.files
  if (!Array.isArray(rawFiles) || rawFiles.length === 0) throw new Error('"source.files" is not a list of files')
  const files: StoredFileEntry[] = rawFiles.map((f: unknown, i: number) => {
    const what = `source.files[${i}]`
    const entry = object(f, what)
    const p = entry.path
    if (!Array.isArray(p) || !p.every((seg) => typeof seg === 'string' && isPlainSegment(seg))) throw new Error(`"${what}.path" is not a list of plain names`)
    if (isDirectory ? p.length === 0 : p.length !== 0) throw new Error(`"${what}.path" does not fit a ${isDirectory ? 'folder' : 'single-file'} release`)
    const out: StoredFileEntry = { path: p as string[], length: count(entry.length, `${what}.length`), mtimeMs: num(entry.mtimeMs, `${what}.mtimeMs`) }
    if (entry.ino !== undefined) out.ino = count(entry.ino, `${what}.ino`)
    return out
  })
  const totalSize = count(r.totalSize, 'totalSize')
  if (files.reduce((sum, f) => sum + f.length, 0) !== totalSize) throw new Error('"totalSize" is not the sum of the file lengths')
  const pieceLength = count(r.pieceLength, 'pieceLength')
  const pieceCount = count(r.pieceCount, 'pieceCount')
  if (pieceLength === 0 || pieceCount !== Math.ceil(totalSize / pieceLength)) throw new Error('"pieceCount" does not match "totalSize" and "pieceLength"')
  const state = r.state
  if (state !== 'seeding' && state !== 'paused' && state !== 'retired') throw new Error(`"state" is ${JSON.stringify(state)}`)
  const root = str(source.root, 'source.root')
  if (!path.isAbsolute(root)) throw new Error('"source.root" is not an absolute path')
  let roots: { name: string; path: string }[] | undefined
  if (source.roots !== undefined) {
    if (!Array.isArray(source.roots) || source.roots.length < 2) throw new Error('"source.roots" is not a list of two or more sources')
    roots = source.roots.map((r: unknown, i: number) => {
      const entry = object(r, `source.roots[${i}]`)
      const name = str(entry.name, `source.roots[${i}].name`)
      const at = str(entry.path, `source.roots[${i}].path`)
      if (!isPlainSegment(name) || !path.isAbsolute(at)) throw new Error(`"source.roots[${i}]" is not a name and an absolute path`)
      return { name, path: at }
    })
    if (!files.every((f) => roots?.some((r) => r.name === f.path[0]))) throw new Error('a file of "source.files" is under none of "source.roots"')
  }
  if (r.comment !== null && typeof r.comment !== "string") throw new Error(`"comment" is not text`)
  const comment = r.comment
  const record: ReleaseRecord = {
    version: 1,
    infoHash,
    name: str(r.name, 'name'),
    title: str(r.title, 'title'),
    channel: str(r.channel, 'channel'),
    comment,
    private: bool(r.private, 'private'),
    webSeed: bool(r.webSeed, 'webSeed'),
    pieceLength,
    pieceCount,
    totalSize,
    source: roots ? { root, isDirectory, files, roots } : { root, isDirectory, files },
    info,
    creationDate: count(r.creationDate, 'creationDate'),
    createdAt: date(r.createdAt, 'createdAt'),
    publishedAt: date(r.publishedAt, 'publishedAt'),
    state,
  }
  if (pieceHashesOf(record).length !== pieceCount * 20) throw new Error('"info" does not hold one piece digest per piece')
  return record
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what.startsWith('the ') ? what : `"${what}"`} is not an object`)
  return v as Record<string, unknown>
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new Error(`"${what}" is missing or not text`)
  return v
}
function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new Error(`"${what}" is missing or not true/false`)
  return v
}
function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`"${what}" is missing or not a number`)
  return v
}
function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`"${what}" is missing or not a whole number`)
  return v
}
function date(v: unknown, what: string): string {
  const s = str(v, what)
  if (Number.isNaN(Date.parse(s))) throw new Error(`"${what}" is not a date`)
  return s
}
