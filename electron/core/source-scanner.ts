/**
 * Turns a dropped file or folder into the ordered file list of a torrent. The order is the byte
 * order of the full relative path (what mktorrent uses), so the same folder always yields the
 * same info-hash.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises'
import type { Stats } from 'node:fs'
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
  const st = await statFollow(root, root)
  const name = path.basename(root)
  if (st.isFile()) {
    if (st.size === 0) throw new SwarmdropError('EMPTY_INPUT', `${root} is an empty file: there is nothing to publish.`)
    return { root, name, isDirectory: false, files: [{ path: [], absPath: root, length: st.size, mtimeMs: st.mtimeMs }], totalSize: st.size }
  }
  if (!st.isDirectory()) throw notRegular(root)

  const files: SourceFile[] = []
  await walk(root, [], new Set([dirKey(st)]), files)
  if (files.length === 0) throw new SwarmdropError('EMPTY_INPUT', `The folder ${root} contains no files: there is nothing to publish.`)
  const keyed = files.map((f) => ({ f, key: Buffer.from(f.path.join('/'), 'utf8') }))
  keyed.sort((a, b) => Buffer.compare(a.key, b.key))
  const sorted = keyed.map((k) => k.f)
  const totalSize = sorted.reduce((sum, f) => sum + f.length, 0)
  if (totalSize === 0) {
    throw new SwarmdropError('EMPTY_INPUT', `Every file in ${root} is empty (${sorted.length} files, 0 bytes): there is nothing to publish.`)
  }
  return { root, name, isDirectory: true, files: sorted, totalSize }
}

async function walk(dir: string, rel: string[], ancestors: Set<string>, out: SourceFile[]): Promise<void> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    throw fsError(err, dir)
  }
  // stat in parallel: thousands of small files are dominated by syscall latency, not CPU.
  const entries = await Promise.all(
    names.map(async (entryName) => {
      const abs = path.join(dir, entryName)
      return { entryName, abs, st: await statFollow(abs, abs) }
    }),
  )
  for (const { entryName, abs, st } of entries) {
    if (st.isDirectory()) {
      const key = dirKey(st)
      if (ancestors.has(key)) {
        const target = await realpath(abs).catch(() => abs)
        throw new SwarmdropError('SYMLINK_LOOP', `Symlink loop: ${abs} leads back to ${target}, which contains it. Remove the link or publish a folder without it.`)
      }
      const next = new Set(ancestors).add(key)
      await walk(abs, [...rel, entryName], next, out)
    } else if (st.isFile()) {
      out.push({ path: [...rel, entryName], absPath: abs, length: st.size, mtimeMs: st.mtimeMs })
    } else {
      throw notRegular(abs)
    }
  }
}

async function statFollow(abs: string, shown: string): Promise<Stats> {
  try {
    return await stat(abs)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      const isLink = await lstat(abs).then((l) => l.isSymbolicLink(), () => false)
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
