/**
 * Write-then-rename with fsync, so a crash or power cut leaves either the old file or the new
 * one, never a truncated mix: the release library and settings must survive a killed process.
 */
import { open, readdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { SwarmdropError } from '../../shared/errors.js'

/** `.<name>.<pid>.<8 hex>.tmp`: the temp files this module writes, and nothing else. */
const TEMP_NAME = /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/

export async function writeFileAtomic(target: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    const fh = await open(tmp, 'w', mode)
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, target)
    // fsync the directory too, so the rename itself is durable.
    const dir = await open(path.dirname(target), 'r').catch(() => null)
    if (dir) {
      await dir.sync().catch(() => undefined)
      await dir.close()
    }
  } catch (err) {
    await rm(tmp, { force: true })
    throw new SwarmdropError('WRITE_FAILED', `Cannot write ${target}: ${(err as Error).message}. Check that the data folder is writable and the disk is not full.`, { cause: err })
  }
}

/**
 * Removes the temp files of writes that were killed between writing and renaming (the target
 * itself is intact: old or new, never half). Call it only while holding the data dir's lock, so
 * no live write is removed. Returns how many were removed.
 */
export async function removeAbandonedWrites(folder: string): Promise<number> {
  let removed = 0
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    if (!TEMP_NAME.test(name)) continue
    await rm(path.join(folder, name), { force: true })
    removed++
  }
  return removed
}
