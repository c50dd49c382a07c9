/**
 * Turns a dropped file or folder into the ordered file list of a torrent. The order is the byte
 * order of the full relative path (what mktorrent uses), so the same folder always yields the
 * same info-hash.
 */
import { lstatSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import path from 'node:path'
import { SwarmdropError } from '../../shared/errors.js'

export interface SourceFile {
  /** Path components inside the release; empty for a single-file release. */
  path: string[]
  absPath: string
  length: number
  mtimeMs: number
}

export interface Source {
  root: string
  name: string
  isDirectory: boolean
  files: SourceFile[]
  totalSize: number
}

export async function scanSource(input: string): Promise<Source> {
  const root = path.resolve(input)
  const st = statFollow(root, root)
  const name = path.basename(root)
  if (st.isFile()) {
    if (st.size === 0) throw new SwarmdropError('EMPTY_INPUT', `${root} is an empty file: there is nothing to publish.`)
    return { root, name, isDirectory: false, files: [{ path: [], absPath: root, length: st.size, mtimeMs: st.mtimeMs }], totalSize: st.size }
  }
  if (!st.isDirectory()) throw notRegular(root)

  const files: SourceFile[] = []
  await walk(root, [], new Set([dirKey(st)]), files, { sinceYield: 0 })
  if (files.length === 0) throw new SwarmdropError('EMPTY_INPUT', `The folder ${root} contains no files: there is nothing to publish.`)
  const sorted = sortByPathBytes(files)
  const totalSize = sorted.reduce((sum, f) => sum + f.length, 0)
  if (totalSize === 0) {
    throw new SwarmdropError('EMPTY_INPUT', `Every file in ${root} is empty (${sorted.length} files, 0 bytes): there is nothing to publish.`)
  }
  return { root, name, isDirectory: true, files: sorted, totalSize }
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
 * Synchronous stat calls are several times cheaper than async ones for thousands of small files;
 * yielding every few thousand entries keeps the event loop responsive in a long-running process.
 */
const ENTRIES_PER_YIELD = 2000

async function walk(dir: string, rel: string[], ancestors: Set<string>, out: SourceFile[], budget: { sinceYield: number }): Promise<void> {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (err) {
    throw fsError(err, dir)
  }
  for (const entryName of names) {
    if (++budget.sinceYield >= ENTRIES_PER_YIELD) {
      budget.sinceYield = 0
      await yieldToLoop()
    }
    const abs = path.join(dir, entryName)
    const st = statFollow(abs, abs)
    if (st.isDirectory()) {
      const key = dirKey(st)
      if (ancestors.has(key)) {
        let target = abs
        try {
          target = realpathSync(abs)
        } catch {
          // keep the link's own path in the message
        }
        throw new SwarmdropError('SYMLINK_LOOP', `Symlink loop: ${abs} leads back to ${target}, which contains it. Remove the link or publish a folder without it.`)
      }
      await walk(abs, [...rel, entryName], new Set(ancestors).add(key), out, budget)
    } else if (st.isFile()) {
      out.push({ path: [...rel, entryName], absPath: abs, length: st.size, mtimeMs: st.mtimeMs })
    } else {
      throw notRegular(abs)
    }
  }
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
