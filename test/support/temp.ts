import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'

/**
 * A fresh temporary folder, removed by the returned cleanup. node:test runs a test's `after`
 * hooks in the order they were registered, so a cleanup registered first runs while the engine or
 * a client the test started later may still be writing in the folder ("ENOTEMPTY" on rmdir). Such
 * an error would replace the test's own failure in the report, so what cannot be removed then
 * goes when the process exits, once every later hook has stopped its writer.
 */
export async function tempDir(prefix = 'swarmdrop-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix))
  const cleanup = async (): Promise<void> => {
    try {
      await rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 })
    } catch {
      process.once('exit', () => {
        try {
          rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
        } catch {
          // A leftover temporary folder is not worth a failed run.
        }
      })
    }
  }
  return { dir, cleanup }
}
