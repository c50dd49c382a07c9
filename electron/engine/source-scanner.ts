/**
 * Turns a dropped file or folder into the ordered file list of a torrent. The order is the byte
 * order of the full relative path (what mktorrent uses), so the same folder always yields the
 * same info-hash. Each folder's entries are walked in that order (a folder's name sorts as if it
 * ended in "/"), so files are found in their final order and hashing can start on the first ones
 * while the walk goes on.
 *
 * Symlinks inside a folder are followed only while they stay inside it. A link that leaves the
 * folder (`pw -> /etc/passwd`, `od -> /srv/other`) is refused with an error naming it, rather
 * than skipped: every server on the LAN would otherwise receive a file from elsewhere on this
 * machine, and a silently smaller release is a surprise too. The path the user gave may itself
 * be a link: that is their explicit choice.
 */
import { lstatSync, readdirSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import path from 'node:path'
import { SwarmdropError } from '../../shared/errors.js'
import { nativeAddon, type NativeStreamHandle } from './native-addon.js'

export interface SourceFile {
  /** Path components inside the release; empty for a single-file release. */
  path: string[]
  absPath: string
  length: number
  mtimeMs: number
  /** Inode number: with size and mtime, what tells a file from a same-size replacement. */
  ino: number
}

export interface Source {
  root: string
  name: string
  isDirectory: boolean
  files: SourceFile[]
  totalSize: number
  /**
   * Several unrelated files and folders published as one release: each is a top-level entry of
   * a virtual root (the release's name), and lives where it is on disk. Absent for one path.
   */
  roots?: SourceRoot[]
}

export interface SourceRoot {
  /** The top-level name inside the release. */
  name: string
  /** Where it is on disk: the file itself, or the folder whose content is under `name`. */
  path: string
}

/**
 * Several paths as one release under a virtual root called `name`: each path's base name becomes
 * a top-level entry. One path is just scanSource.
 */
export async function scanSources(inputs: string[], name: string): Promise<Source> {
  if (inputs.length === 1) return scanSource(inputs[0] as string)
  const roots: SourceRoot[] = []
  const files: SourceFile[] = []
  for (const input of inputs) {
    const source = await scanSource(input)
    if (roots.some((r) => r.name === source.name)) {
      throw new SwarmdropError('INVALID_ARGUMENT', `Two of the paths are both called "${source.name}" (${roots.find((r) => r.name === source.name)?.path} and ${source.root}): a release cannot hold both. Rename one, or put them in folders.`)
    }
    roots.push({ name: source.name, path: source.root })
    for (const f of source.files) files.push({ ...f, path: [source.name, ...f.path] })
  }
  const sorted = sortByPathBytes(files)
  return { root: path.dirname(roots[0]?.path ?? '/'), name, isDirectory: true, files: sorted, totalSize: sorted.reduce((sum, f) => sum + f.length, 0), roots }
}

/** Receives the files found since the last call, in torrent order, while a folder is walked. */
export type FoundFiles = (files: readonly SourceFile[]) => void

export async function scanSource(input: string, onFiles?: FoundFiles): Promise<Source> {
  const root = path.resolve(input)
  const st = statFollow(root, root)
  const name = path.basename(root)
  if (st.isFile()) {
    if (st.size === 0) throw new SwarmdropError('EMPTY_INPUT', `${root} is an empty file: there is nothing to publish.`)
    return { root, name, isDirectory: false, files: [{ path: [], absPath: root, length: st.size, mtimeMs: st.mtimeMs, ino: st.ino }], totalSize: st.size }
  }
  if (!st.isDirectory()) throw notRegular(root)

  const files: SourceFile[] = []
  const realRoot = realpathOf(root)
  const state: WalkState = { sinceYield: 0, realRoot, onFiles, handedOver: 0 }
  await walk(root, [], new Set([dirKey(st)]), files, state)
  handOver(files, state, 0)
  let totalSize = 0
  for (const f of files) totalSize += f.length
  // Already in torrent order: the walk visits each folder's entries sorted (see orderOf).
  return folderSource(root, files, totalSize)
}

/** A folder as the native walk found it. */
export interface NativeScan {
  source: Source
  /** source.files.length, without making the file objects. */
  fileCount: number
  /** The info dictionary's "files" list, bencoded by the walk; null when JavaScript must encode it (a name that is not UTF-8, an older addon). */
  encodedFiles: Buffer | null
}

/**
 * A folder walked on a native thread (native/hash_stream.c), in the same order, with the same
 * stats, while JavaScript builds nothing per entry; `feed` receives the files as they are found.
 * Null without the addon, or when the walk gave up on something this module handles itself (a
 * symlink, a device, an unreadable entry): then scanSource walks the folder and reports it.
 *
 * The source's file objects are made on first use: `create` on 10,000 files never needs them, and
 * in a fresh process making them took as long as hashing the files (their garbage collection
 * competes with the hashing threads for the cores).
 */
export async function scanFolderNatively(input: string, feed: NativeStreamHandle | null): Promise<NativeScan | null> {
  const walkFolder = nativeAddon?.walkFolder
  if (!walkFolder) return null
  const root = path.resolve(input)
  const walked = await new Promise<[string, Float64Array, Buffer?] | null>((resolve) => walkFolder(root, feed, resolve))
  if (!walked) return null
  const [joined, meta, encoded] = walked
  const count = meta.length / 3
  let totalSize = 0
  for (let i = 0; i < count; i++) totalSize += meta[i * 3] as number
  const prefix = root.endsWith(path.sep) ? root : root + path.sep
  const makeFiles = (listed: { joined: string; meta: Float64Array }): SourceFile[] => {
    const rels = count === 0 ? [] : listed.joined.split('\0')
    const files: SourceFile[] = new Array<SourceFile>(count)
    for (let i = 0; i < count; i++) {
      const rel = rels[i] as string
      const at = i * 3
      files[i] = { path: rel.split('/'), absPath: prefix + rel, length: listed.meta[at] as number, mtimeMs: listed.meta[at + 1] as number, ino: listed.meta[at + 2] as number }
    }
    return files
  }
  checkFolderSize(root, count, totalSize)
  let files: SourceFile[] | null = null
  // The walk's own listing, until the file objects are made from it (then it is garbage).
  let listed: { joined: string; meta: Float64Array } | null = { joined, meta }
  const source: Source = {
    root,
    name: path.basename(root),
    isDirectory: true,
    get files(): SourceFile[] {
      if (!files) {
        files = makeFiles(listed as { joined: string; meta: Float64Array })
        listed = null
      }
      return files
    },
    set files(replaced: SourceFile[]) {
      files = replaced
      listed = null
    },
    totalSize,
  }
  return { source, fileCount: count, encodedFiles: encoded ?? null }
}

function folderSource(root: string, files: SourceFile[], totalSize: number): Source {
  checkFolderSize(root, files.length, totalSize)
  return { root, name: path.basename(root), isDirectory: true, files, totalSize }
}

function checkFolderSize(root: string, count: number, totalSize: number): void {
  if (count === 0) throw new SwarmdropError('EMPTY_INPUT', `The folder ${root} contains no files: there is nothing to publish.`)
  if (totalSize === 0) {
    throw new SwarmdropError('EMPTY_INPUT', `Every file in ${root} is empty (${count} files, 0 bytes): there is nothing to publish.`)
  }
}

/**
 * Orders files by the UTF-8 bytes of their full path. JavaScript's string order (UTF-16 code
 * units) is the same order unless a path holds both astral characters and U+E000–U+FFFF, so the
 * cheap comparison is used whenever that cannot happen.
 */
export function sortByPathBytes(files: SourceFile[]): SourceFile[] {
  const keyed = files.map((f) => ({ f, key: f.path.join('/') }))
  if (!keyed.some((k) => /[\uE000-\uFFFF]/.test(k.key))) {
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  } else {
    const bytes = new Map(keyed.map((k) => [k, Buffer.from(k.key, 'utf8')]))
    keyed.sort((a, b) => Buffer.compare(bytes.get(a) as Buffer, bytes.get(b) as Buffer))
  }
  return keyed.map((k) => k.f)
}

/**
 * A folder's entries in the order their paths take in the torrent: the full paths below one
 * folder share its prefix, so they compare as the entry names do, with "/" after a folder's name
 * (the next byte of every path inside it). Walking in this order yields the global byte order.
 */
function orderOf(listing: Listing): number[] {
  const { names, stats } = listing
  const keys = names.map((name, i) => (stats[i * STAT_WIDTH] === KIND_DIR ? `${name}/` : name))
  const order = keys.map((_, i) => i)
  if (!keys.some((k) => /[\uE000-\uFFFF]/.test(k))) {
    return order.sort((a, b) => ((keys[a] as string) < (keys[b] as string) ? -1 : (keys[a] as string) > (keys[b] as string) ? 1 : 0))
  }
  const bytes = keys.map((k) => Buffer.from(k, 'utf8'))
  return order.sort((a, b) => Buffer.compare(bytes[a] as Buffer, bytes[b] as Buffer))
}

/**
 * Synchronous stat calls are several times cheaper than async ones for thousands of small files;
 * yielding every few thousand entries keeps the event loop responsive in a long-running process.
 */
const ENTRIES_PER_YIELD = 2000

interface WalkState {
  sinceYield: number
  /** The folder's real path: every link must resolve below it. */
  realRoot: string
  onFiles: FoundFiles | undefined
  /** Files already passed to onFiles. */
  handedOver: number
}

/** Files handed to onFiles at a time: enough per call to be cheap, few enough to start hashing early. */
const HAND_OVER_FILES = 128

function handOver(out: SourceFile[], state: WalkState, atLeast: number): void {
  if (!state.onFiles || out.length - state.handedOver <= atLeast) return
  state.onFiles(out.slice(state.handedOver))
  state.handedOver = out.length
}

async function walk(dir: string, rel: string[], ancestors: Set<string>, out: SourceFile[], state: WalkState): Promise<void> {
  // `dir` is already absolute and normalised, and a name has no separator: plain concatenation
  // gives path.join's result at a fraction of its cost, which shows over 10,000 files.
  const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep
  const listing = listNative(dir, prefix, state) ?? listWithNodeFs(dir, prefix, state)
  const { names, stats } = listing
  for (const i of orderOf(listing)) {
    if (++state.sinceYield >= ENTRIES_PER_YIELD) {
      state.sinceYield = 0
      handOver(out, state, 0)
      await yieldToLoop()
    }
    const entryName = names[i] as string
    const abs = prefix + entryName
    const at = i * STAT_WIDTH
    const kind = stats[at]
    if (kind === KIND_DIR) {
      const key = `${stats[at + 4]}:${stats[at + 3]}`
      if (ancestors.has(key)) {
        let target = abs
        try {
          target = realpathSync(abs)
        } catch {
          // keep the link's own path in the message
        }
        throw new SwarmdropError('SYMLINK_LOOP', `Symlink loop: ${abs} leads back to ${target}, which contains it. Remove the link or publish a folder without it.`)
      }
      handOver(out, state, HAND_OVER_FILES)
      await walk(abs, [...rel, entryName], new Set(ancestors).add(key), out, state)
    } else if (kind === KIND_FILE) {
      out.push({ path: [...rel, entryName], absPath: abs, length: stats[at + 1] as number, mtimeMs: stats[at + 2] as number, ino: stats[at + 3] as number })
    } else {
      throw notRegular(abs)
    }
  }
}

/**
 * A folder's entry names, and per entry STAT_WIDTH numbers (following links, as statSync does):
 * kind, size, mtimeMs, ino, dev. Numbers rather than objects: over 10,000 files the objects cost
 * more garbage collection than the stat calls cost.
 */
interface Listing {
  names: string[]
  stats: Float64Array
}

const STAT_WIDTH = 5
const KIND_FILE = 1
const KIND_DIR = 2
/** The native listing adds a sixth number per entry: 1 when the entry itself is a symlink. */
const NATIVE_WIDTH = 6

/** A folder's entries with their stats, in one native call; null without the addon or when it cannot read the folder. */
function listNative(dir: string, prefix: string, state: WalkState): Listing | null {
  const listed = nativeAddon?.listFolder?.(dir)
  if (!listed) return null
  const [joined, native] = listed
  const count = native.length / NATIVE_WIDTH
  const names = count === 0 ? [] : joined.split('\0')
  const stats = new Float64Array(count * STAT_WIDTH)
  for (let i = 0; i < count; i++) {
    const from = i * NATIVE_WIDTH
    if (native[from + 5] === 1) refuseLinkOutside(prefix + (names[i] as string), state.realRoot)
    if ((native[from] as number) < 0) {
      // The stat failed: node:fs does it again, and its error names the cause.
      const abs = prefix + (names[i] as string)
      putStat(stats, i, statFollow(abs, abs))
    } else {
      stats.set(native.subarray(from, from + STAT_WIDTH), i * STAT_WIDTH)
    }
  }
  return { names, stats }
}

function listWithNodeFs(dir: string, prefix: string, state: WalkState): Listing {
  let entries: Dirent[]
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch (err) {
    throw fsError(err, dir)
  }
  const batch = statBatch(prefix, entries)
  const stats = batch ?? new Float64Array(entries.length * STAT_WIDTH)
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as Dirent
    const abs = prefix + entry.name
    if (entry.isSymbolicLink()) refuseLinkOutside(abs, state.realRoot)
    if (!batch || (stats[i * STAT_WIDTH] as number) < 0) putStat(stats, i, statFollow(abs, abs))
  }
  return { names: entries.map((e) => e.name), stats }
}

function putStat(stats: Float64Array, i: number, st: Stats): void {
  const kind = st.isFile() ? KIND_FILE : st.isDirectory() ? KIND_DIR : 0
  stats.set([kind, st.size, st.mtimeMs, st.ino, st.dev], i * STAT_WIDTH)
}

/**
 * One native call stats every entry of a folder (following links, like statSync). Null without
 * the addon; an entry whose stat failed (kind -1) is stated again through node:fs, whose error is
 * reported.
 */
function statBatch(prefix: string, entries: Dirent[]): Float64Array | null {
  if (!nativeAddon || entries.length === 0) return null
  const out = new Float64Array(entries.length * STAT_WIDTH)
  const done = nativeAddon.statPaths(entries.map((e) => prefix + e.name).join('\0'), out)
  return done === entries.length ? out : null
}

function statFollow(abs: string, shown: string): Stats {
  try {
    return statSync(abs)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      let isLink = false
      try {
        isLink = lstatSync(abs).isSymbolicLink()
      } catch {
        // not there at all
      }
      if (isLink) throw new SwarmdropError('PATH_NOT_FOUND', `${shown} is a symlink to a path that does not exist.`)
    }
    throw fsError(err, shown)
  }
}

function realpathOf(p: string): string {
  try {
    return realpathSync(p)
  } catch (err) {
    throw fsError(err, p)
  }
}

/** A link whose target is outside the folder being published (or missing) is an error naming both. */
function refuseLinkOutside(abs: string, realRoot: string): void {
  let target: string
  try {
    target = realpathSync(abs)
  } catch {
    return // dangling or looping: statFollow reports it with its own message
  }
  if (target === realRoot || target.startsWith(realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep)) return
  throw new SwarmdropError(
    'LINK_OUTSIDE_RELEASE',
    `${abs} is a symlink to ${target}, outside the folder being published. Swarmdrop does not publish it, because every server would receive a file from elsewhere on this machine. Remove the link, or copy what it points to into the folder.`,
  )
}

function dirKey(st: Stats): string {
  return `${st.dev}:${st.ino}`
}

function notRegular(abs: string): SwarmdropError {
  return new SwarmdropError('NOT_A_FILE', `${abs} is not a regular file or folder (a device, socket or pipe); remove it from the release.`)
}

export function fsError(err: unknown, p: string): SwarmdropError {
  const code = (err as NodeJS.ErrnoException).code
  switch (code) {
    case 'ENOENT':
      return new SwarmdropError('PATH_NOT_FOUND', `${p} does not exist.`, { cause: err })
    case 'EACCES':
    case 'EPERM':
      return new SwarmdropError('PATH_UNREADABLE', `${p} cannot be read: permission denied. Check its owner and mode.`, { cause: err })
    case 'ELOOP':
      return new SwarmdropError('SYMLINK_LOOP', `${p} is a symlink loop (it resolves to itself).`, { cause: err })
    case 'ENOTDIR':
      return new SwarmdropError('PATH_NOT_FOUND', `${p} does not exist (a parent is not a folder).`, { cause: err })
    case 'EMFILE':
    case 'ENFILE':
      return new SwarmdropError('INTERNAL', `Too many open files while reading ${p}; raise the open-file limit (ulimit -n).`, { cause: err })
    default:
      return new SwarmdropError('PATH_UNREADABLE', `${p} cannot be read: ${(err as Error).message}`, { cause: err })
  }
}
