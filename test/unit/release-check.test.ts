/**
 * checkRelease decides, after every restart, whether a stored release may seed again. Seeding
 * files that changed would make every server reject every piece, and re-hashing every release on
 * every start would take minutes, so: untouched files pass on size, mtime and inode alone; a
 * moved mtime or inode triggers a full re-verify against the stored pieces; a changed size, a
 * missing file or changed content is a clear error naming the file and the release. Records are
 * built from real files by createTorrent, exactly as the engine stores them.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { appendFile, mkdir, open, rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { checkRelease, type CheckOutcome } from '../../electron/engine/release-check.js'
import { createTorrent } from '../../electron/engine/create.js'
import { bdecode, bencode } from '../../electron/engine/bencode.js'
import { newReleaseRecord, type ReleaseRecord, type StoredFileEntry } from '../../electron/engine/release-store.js'
import { SwarmdropError, type ErrorCode } from '../../shared/errors.js'
import { pseudoRandom } from '../support/fixtures.js'
import { tempDir } from '../support/temp.js'

const PIECE = 16 * 1024
/** Whole seconds, so a test can put an mtime back exactly as it was. */
const PUBLISHED_AT_S = 1_700_000_000
const TITLE = 'nightly 42'

interface Release {
  record: ReleaseRecord
  /** Absolute path of each stored file, in torrent order. */
  paths: string[]
  content: Buffer
}

/** Names sort the same as UTF-8 bytes, so this is also the torrent's file order. */
const TREE: { rel: string; length: number }[] = [
  { rel: 'a.bin', length: 20000 },
  { rel: 'empty.txt', length: 0 },
  { rel: 'sub/b.bin', length: PIECE },
  { rel: 'sub/c.bin', length: 1 },
  { rel: 'sub/d.bin', length: 50000 },
  ...Array.from({ length: 40 }, (_, i) => ({ rel: `z/many/f${String(i).padStart(3, '0')}.dat`, length: i % 7 === 0 ? 0 : (i * 53) % 300 })),
]

function toRecord(created: Awaited<ReturnType<typeof createTorrent>>): ReleaseRecord {
  const publishedAt = new Date(PUBLISHED_AT_S * 1000)
  return newReleaseRecord(created, { title: TITLE, channel: 'default', comment: null, webSeed: false, publishedAt })
}

function storedPieces(record: ReleaseRecord): Buffer {
  const info = bdecode(Buffer.from(record.info, 'base64')).value
  assert.ok(typeof info === 'object' && !Buffer.isBuffer(info) && !Array.isArray(info))
  const pieces = info.pieces
  assert.ok(Buffer.isBuffer(pieces))
  return pieces
}

function referencePieces(content: Buffer): Buffer {
  const digests: Buffer[] = []
  for (let start = 0; start < content.length; start += PIECE) digests.push(createHash('sha1').update(content.subarray(start, start + PIECE)).digest())
  return Buffer.concat(digests)
}

async function publish(t: TestContext, entries: { rel: string; length: number }[], single = false): Promise<Release> {
  const { dir, cleanup } = await tempDir('swarmdrop-release-check-')
  t.after(cleanup)
  const root = single ? path.join(dir, 'bundle.bin') : path.join(dir, 'release')
  const paths: string[] = []
  const parts: Buffer[] = []
  for (const e of entries) {
    const abs = single ? root : path.join(root, ...e.rel.split('/'))
    const bytes = pseudoRandom(e.length, e.rel)
    await mkdir(path.dirname(abs), { recursive: true })
    await writeFile(abs, bytes)
    await utimes(abs, PUBLISHED_AT_S, PUBLISHED_AT_S)
    paths.push(abs)
    parts.push(bytes)
  }
  const record = toRecord(await createTorrent(root, { pieceLength: PIECE, threads: { workers: 0, mainThread: true }, creationDate: PUBLISHED_AT_S }))
  const content = Buffer.concat(parts)
  // The fixture itself: the stored pieces are node:crypto's, over the files in this order.
  assert.deepEqual(record.source.files.map((f) => f.path.join('/')), single ? [''] : entries.map((e) => e.rel))
  assert.ok(record.source.files.every((f) => f.mtimeMs === PUBLISHED_AT_S * 1000))
  assert.deepEqual(storedPieces(record), referencePieces(content))
  return { record, paths, content }
}

function pathOf(release: Release, rel: string): string {
  const i = TREE.findIndex((e) => e.rel === rel)
  assert.ok(i >= 0, rel)
  return release.paths[i] as string
}

/** Overwrites bytes in place: same size, so only a re-hash can see it. */
async function overwrite(file: string, position: number, bytes: Buffer): Promise<void> {
  const handle = await open(file, 'r+')
  try {
    await handle.write(bytes, 0, bytes.length, position)
  } finally {
    await handle.close()
  }
}

function failure(outcome: CheckOutcome, code: ErrorCode, namesRelease = true): string {
  assert.equal(outcome.ok, false, 'the check must fail')
  if (outcome.ok) return ''
  assert.ok(outcome.error instanceof SwarmdropError)
  assert.equal(outcome.error.code, code, outcome.error.message)
  if (namesRelease) assert.ok(outcome.error.message.includes(`"${TITLE}"`), `names the release: ${outcome.error.message}`)
  return outcome.error.message
}

test('untouched files pass on size, mtime and inode alone, without re-hashing', async (t) => {
  const release = await publish(t, TREE)
  assert.deepEqual(await checkRelease(release.record), { ok: true, rehashed: false, files: release.record.source.files })
})

test('the quick check trusts size, mtime and inode: content rewritten in place with its mtime put back is not looked at', async (t) => {
  // The trade-off that keeps restarts fast; checked so that it stays a deliberate one.
  const release = await publish(t, TREE)
  const a = pathOf(release, 'a.bin')
  await overwrite(a, 100, Buffer.from('different'))
  await utimes(a, PUBLISHED_AT_S, PUBLISHED_AT_S)
  assert.deepEqual(await checkRelease(release.record), { ok: true, rehashed: false, files: release.record.source.files })
})

/** Puts a same-size file with the published mtime in place of `file`: only its inode differs. */
async function replaceWithCopy(file: string, bytes: Buffer): Promise<void> {
  const copy = `${file}.copy`
  await writeFile(copy, bytes)
  await utimes(copy, PUBLISHED_AT_S, PUBLISHED_AT_S)
  await rename(copy, file)
}

test('a same-size copy put in place with the mtime kept is re-verified, because its inode moved', async (t) => {
  for (const tamper of [false, true]) {
    // A fresh release each time: a second swap may be given the freed original inode back.
    const release = await publish(t, TREE)
    const b = pathOf(release, 'sub/b.bin')
    const published = release.record.source.files[2] as StoredFileEntry
    assert.equal(published.path.join('/'), 'sub/b.bin')
    assert.equal(typeof published.ino, 'number', 'the record keeps the inode')
    const bytes = Buffer.from(release.content.subarray(20000, 20000 + PIECE))
    if (tamper) bytes[5] = 0xff ^ (bytes[5] as number)
    await replaceWithCopy(b, bytes)
    const newIno = (await stat(b)).ino
    assert.notEqual(newIno, published.ino)

    if (!tamper) {
      const expected = release.record.source.files.map((f) => (f === published ? { ...f, ino: newIno } : f))
      assert.deepEqual(await checkRelease(release.record), { ok: true, rehashed: true, files: expected }, 'same bytes: passes after a re-hash, with the new inode to store')
      // Records written before inodes were kept: size and mtime are all there is to compare.
      const legacy: ReleaseRecord = { ...release.record, source: { ...release.record.source, files: release.record.source.files.map(({ ino: _ino, ...f }) => f) } }
      const legacyOutcome = await checkRelease(legacy)
      assert.equal(legacyOutcome.ok && legacyOutcome.rehashed, false, 'no inode on record, no re-hash')
    } else {
      const message = failure(await checkRelease(release.record), 'FILE_CHANGED')
      // Byte 20,005 is in piece 1, which starts in a.bin.
      assert.ok(message.includes(`1 of ${release.record.pieceCount} pieces differ, the first in ${pathOf(release, 'a.bin')}.`), message)
    }
  }
})

test('a moved mtime with the same content: re-verified, and the new mtimes are returned to be stored', async (t) => {
  const release = await publish(t, TREE)
  const later = PUBLISHED_AT_S + 3600
  await utimes(pathOf(release, 'sub/b.bin'), later, later)
  await utimes(pathOf(release, 'empty.txt'), later, later)
  const outcome = await checkRelease(release.record)
  const expected: StoredFileEntry[] = release.record.source.files.map((f) => {
    const moved = ['sub/b.bin', 'empty.txt'].includes(f.path.join('/'))
    return { path: f.path, length: f.length, mtimeMs: moved ? later * 1000 : f.mtimeMs, ino: f.ino }
  })
  assert.deepEqual(outcome, { ok: true, rehashed: true, files: expected })
  assert.notDeepEqual(expected, release.record.source.files)
})

test('changed content behind a moved mtime: FILE_CHANGED with how many pieces differ and the file of the first', async (t) => {
  const release = await publish(t, TREE)
  const a = pathOf(release, 'a.bin')
  const d = pathOf(release, 'sub/d.bin')
  const flip = (byte: number): Buffer => Buffer.from([0xff ^ (release.content[byte] as number)])
  // Piece 1 starts in a.bin (bytes 0-19999), piece 3 in d.bin (from byte 36385): two bad pieces,
  // the first of them in a.bin, though d.bin is the file whose mtime is checked last.
  await overwrite(a, PIECE + 10, flip(PIECE + 10))
  const dStart = 20000 + 0 + PIECE + 1
  await overwrite(d, 3 * PIECE + 10 - dStart, flip(3 * PIECE + 10))
  await utimes(a, PUBLISHED_AT_S + 1, PUBLISHED_AT_S + 1)
  await utimes(d, PUBLISHED_AT_S + 2, PUBLISHED_AT_S + 2)
  const message = failure(await checkRelease(release.record), 'FILE_CHANGED')
  assert.ok(message.includes(`2 of ${release.record.pieceCount} pieces differ, the first in ${a}.`), message)
})

test('a changed size is FILE_CHANGED with both sizes, found without hashing', async (t) => {
  const release = await publish(t, TREE)
  const c = pathOf(release, 'sub/c.bin')
  await appendFile(c, 'x')
  // The mtime is put back: the size alone must be enough.
  await utimes(c, PUBLISHED_AT_S, PUBLISHED_AT_S)
  const message = failure(await checkRelease(release.record), 'FILE_CHANGED')
  assert.ok(message.startsWith(`${c} changed since "${TITLE}" was published (2 bytes, was 1).`), message)
})

test('a file replaced by a folder is FILE_CHANGED: no longer a file', async (t) => {
  const release = await publish(t, TREE)
  const c = pathOf(release, 'sub/c.bin')
  await rm(c)
  await mkdir(c)
  const message = failure(await checkRelease(release.record), 'FILE_CHANGED')
  assert.ok(message.includes(`${c} changed`) && message.includes('no longer a file'), message)
})

test('a missing file, even an empty one, is PATH_NOT_FOUND naming the file', async (t) => {
  for (const rel of ['sub/b.bin', 'empty.txt']) {
    const release = await publish(t, TREE)
    const gone = pathOf(release, rel)
    await rm(gone)
    const message = failure(await checkRelease(release.record), 'PATH_NOT_FOUND')
    assert.ok(message.startsWith(`${gone} is missing or unreadable (ENOENT)`), message)
  }
})

test('a single-file release: re-verified after a touch, FILE_CHANGED naming the file once its content differs', async (t) => {
  const release = await publish(t, [{ rel: 'bundle.bin', length: 3 * PIECE + 123 }], true)
  const file = release.record.source.root
  assert.equal(release.record.source.isDirectory, false)
  assert.equal(file, release.paths[0])
  await utimes(file, PUBLISHED_AT_S + 60, PUBLISHED_AT_S + 60)
  assert.deepEqual(await checkRelease(release.record), { ok: true, rehashed: true, files: [{ path: [], length: 3 * PIECE + 123, mtimeMs: (PUBLISHED_AT_S + 60) * 1000, ino: release.record.source.files[0]?.ino }] })

  await overwrite(file, 3 * PIECE + 122, Buffer.from([0xff ^ (release.content[3 * PIECE + 122] as number)]))
  const message = failure(await checkRelease(release.record), 'FILE_CHANGED')
  assert.ok(message.includes(`1 of 4 pieces differ, the first in ${file}.`), message)
})

test('an aborted re-verify is CANCELLED; the signal does not matter when nothing moved', async (t) => {
  const release = await publish(t, TREE)
  const signal = AbortSignal.abort()
  assert.deepEqual(await checkRelease(release.record, { signal }), { ok: true, rehashed: false, files: release.record.source.files })
  await utimes(pathOf(release, 'a.bin'), PUBLISHED_AT_S + 5, PUBLISHED_AT_S + 5)
  assert.equal(failure(await checkRelease(release.record, { signal }), 'CANCELLED', false), 'Hashing was cancelled.')
})

test('a stored info dictionary without pieces is an INTERNAL error once a re-verify is needed', async (t) => {
  const release = await publish(t, TREE)
  const broken: ReleaseRecord = { ...release.record, info: bencode({ name: 'release', 'piece length': PIECE }).toString('base64') }
  assert.equal((await checkRelease(broken)).ok, true, 'the quick check does not read the info dictionary')
  await utimes(pathOf(release, 'a.bin'), PUBLISHED_AT_S + 5, PUBLISHED_AT_S + 5)
  await assert.rejects(checkRelease(broken), (err: unknown) => {
    assert.ok(err instanceof SwarmdropError)
    assert.equal(err.code, 'INTERNAL')
    assert.ok(err.message.includes(broken.infoHash), err.message)
    return true
  })
})
