/**
 * Seeding in place means the published files can change under us. A file is opened, then
 * checked on that descriptor against what was published (size, mtime, inode), so a replacement
 * or a symlink swapped in is caught without a race between checking and reading. Used by the
 * seeder's chunk store and the web seed alike.
 */
import type { Stats } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { SwarmdropError } from '../../shared/errors.js'

/** What a file was when published. mtime and inode are absent in records older than them. */
export interface PublishedIdentity {
  length: number
  mtimeMs?: number
  ino?: number
}

/** Why `st` is not the published file, or null when it still is. */
export function identityChange(st: Pick<Stats, 'isFile' | 'size' | 'ino' | 'mtimeMs'>, expected: PublishedIdentity): string | null {
  if (!st.isFile()) return 'it is no longer a regular file'
  if (st.size !== expected.length) return `${st.size} bytes, published with ${expected.length}`
  if (expected.ino !== undefined && st.ino !== expected.ino) return 'it was replaced by another file'
  if (expected.mtimeMs !== undefined && st.mtimeMs !== expected.mtimeMs) return 'it was modified'
  return null
}

/** Errors that mean the source itself is gone or unreadable; too many open files is not one. */
const GONE = ['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'ELOOP']

/** Opens a published file for reading; FILE_CHANGED ("Source changed: ...") when it is not that file any more. */
export async function openPublished(absPath: string, expected: PublishedIdentity): Promise<{ handle: FileHandle; stat: Stats }> {
  let handle: FileHandle
  try {
    handle = await open(absPath, 'r')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? ''
    if (GONE.includes(code)) throw new SwarmdropError('FILE_CHANGED', `Source changed: ${absPath} is missing or unreadable (${code}).`, { cause: err })
    throw err
  }
  try {
    const stat = await handle.stat()
    const changed = identityChange(stat, expected)
    if (changed) throw new SwarmdropError('FILE_CHANGED', `Source changed: ${absPath} is not the file that was published (${changed}).`)
    return { handle, stat }
  } catch (err) {
    await handle.close().catch(() => undefined)
    throw err
  }
}
