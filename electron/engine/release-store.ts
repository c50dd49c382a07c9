/**
 * The release library: one JSON file per release in `<dataDir>/releases/`, each written
 * atomically. A record keeps what is needed to seed again after a restart without re-hashing
 * (the info dictionary's exact bytes, the source files with sizes and mtimes) and to rebuild the
 * same feed item (title, publishedAt, creation date).
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { SwarmdropError } from '../../shared/errors.js'
import { writeFileAtomic } from './atomic-write.js'

/** What the user asked for; 'error' and 'hashing' are runtime states, never persisted. */
export type StoredState = 'seeding' | 'paused' | 'retired'

export interface StoredFileEntry {
  /** Path inside the release ([] for a single-file release). */
  path: string[]
  length: number
  mtimeMs: number
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
  }
  /** The bencoded info dictionary, base64: the release's identity, never re-encoded. */
  info: string
  /** .torrent "creation date" (seconds), so a restart serves byte-identical outer fields. */
  creationDate: number
  createdAt: string
  publishedAt: string
  state: StoredState
}

/** Absolute path of a stored file: derived from the root, never stored twice. */
export function absPathOf(record: ReleaseRecord, file: StoredFileEntry): string {
  return record.source.isDirectory ? path.join(record.source.root, ...file.path) : record.source.root
}

export function infoBytes(record: ReleaseRecord): Buffer {
  return Buffer.from(record.info, 'base64')
}

const INFO_HASH = /^[0-9a-f]{40}$/

export class ReleaseStore {
  private readonly records = new Map<string, ReleaseRecord>()
  private readonly dir: string
  /** Files that could not be read at load time, with the reason (shown, never fatal). */
  readonly damaged: { file: string; reason: string }[] = []

  private constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'releases')
  }

  static async open(dataDir: string): Promise<ReleaseStore> {
    const store = new ReleaseStore(dataDir)
    let names: string[] = []
    try {
      names = await readdir(store.dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new SwarmdropError('PATH_UNREADABLE', `Cannot read the release library ${store.dir}: ${(err as Error).message}`, { cause: err })
    }
    for (const name of names) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue
      const file = path.join(store.dir, name)
      try {
        const record = JSON.parse(await readFile(file, 'utf8')) as ReleaseRecord
        if (record.version !== 1 || !INFO_HASH.test(record.infoHash) || `${record.infoHash}.json` !== name) throw new Error('not a Swarmdrop release record')
        store.records.set(record.infoHash, record)
      } catch (err) {
        store.damaged.push({ file, reason: (err as Error).message })
      }
    }
    return store
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
