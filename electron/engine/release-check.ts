/**
 * Before a stored release seeds again after a restart: a quick check (every file's size, mtime
 * and inode), and when one moved, a full re-verify against the pieces in the info dictionary.
 * A release whose files changed or vanished must not be seeded: servers would reject every piece.
 */
import { stat } from 'node:fs/promises'
import { SwarmdropError } from '../../shared/errors.js'
import { hashPieces } from './hasher.js'
import { absPathOf, pieceHashesOf, type ReleaseRecord, type StoredFileEntry } from './release-store.js'

export type CheckOutcome =
  | { ok: true; rehashed: boolean; files: StoredFileEntry[] }
  | { ok: false; error: SwarmdropError }

const STAT_CONCURRENCY = 64

export async function checkRelease(record: ReleaseRecord, options: { signal?: AbortSignal } = {}): Promise<CheckOutcome> {
  const files = record.source.files
  const current: StoredFileEntry[] = new Array<StoredFileEntry>(files.length)
  let moved = false
  let next = 0
  let failure: SwarmdropError | null = null
  const worker = async (): Promise<void> => {
    while (failure === null && next < files.length) {
      const index = next++
      const file = files[index] as StoredFileEntry
      const abs = absPathOf(record, file)
      try {
        const st = await stat(abs)
        if (!st.isFile() || st.size !== file.length) {
          failure = new SwarmdropError(
            'FILE_CHANGED',
            `${abs} changed since "${record.title}" was published (${st.isFile() ? `${st.size} bytes, was ${file.length}` : 'no longer a file'}). Restore the original or retire the release and publish again.`,
          )
          return
        }
        // A same-size copy put in its place counts as moved too: its content must be re-verified.
        if (st.mtimeMs !== file.mtimeMs || (file.ino !== undefined && st.ino !== file.ino)) moved = true
        current[index] = { path: file.path, length: file.length, mtimeMs: st.mtimeMs, ino: st.ino }
      } catch (err) {
        failure = new SwarmdropError(
          'PATH_NOT_FOUND',
          `${abs} is missing or unreadable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): "${record.title}" cannot seed. Restore the file or retire the release.`,
        )
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(STAT_CONCURRENCY, files.length) }, worker))
  if (failure) return { ok: false, error: failure }
  if (!moved) return { ok: true, rehashed: false, files: current }

  const expected = pieceHashesOf(record)
  const actual = await hashPieces(
    { files: current.map((f) => ({ absPath: absPathOf(record, f), length: f.length, mtimeMs: f.mtimeMs })), pieceLength: record.pieceLength, totalSize: record.totalSize },
    { signal: options.signal },
  ).catch((err: unknown) => (err instanceof SwarmdropError ? err : new SwarmdropError('FILE_CHANGED', (err as Error).message)))
  if (actual instanceof SwarmdropError) return { ok: false, error: actual }
  if (actual.equals(expected)) return { ok: true, rehashed: true, files: current }
  let bad = 0
  let first = -1
  for (let i = 0; i < record.pieceCount; i++) {
    if (!actual.subarray(i * 20, i * 20 + 20).equals(expected.subarray(i * 20, i * 20 + 20))) {
      bad++
      if (first < 0) first = i
    }
  }
  const where = fileAtByte(record, current, first * record.pieceLength)
  return {
    ok: false,
    error: new SwarmdropError(
      'FILE_CHANGED',
      `The content of "${record.title}" changed since it was published: ${bad} of ${record.pieceCount} pieces differ, the first in ${where}. Restore the original files or retire the release and publish again.`,
    ),
  }
}

function fileAtByte(record: ReleaseRecord, files: StoredFileEntry[], byte: number): string {
  let offset = 0
  for (const f of files) {
    if (f.length > 0 && byte < offset + f.length) return absPathOf(record, f)
    offset += f.length
  }
  return record.source.root
}
