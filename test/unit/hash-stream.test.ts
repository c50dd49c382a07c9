/**
 * HashStream: native threads that hash pieces while the scan still adds files. Its digests must be
 * node:crypto's whatever the batches, threads and piece length; a file that is missing or changed
 * must give null (create then hashes again through HashPool, which names it); stop must settle.
 * The native folder walk that feeds it must list exactly what the JavaScript walk lists.
 * With SWARMDROP_NATIVE_SHA1=avx2 the same tests run the AVX2 kernel.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { utimesSync } from 'node:fs'
import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { HashStream, type StreamedFile } from '../../electron/engine/hash-stream.js'
import { sha1Lanes } from '../../electron/engine/sha1-lanes.js'
import { scanFolderNatively, scanSource } from '../../electron/engine/source-scanner.js'
import { encodeFileList } from '../../electron/engine/torrent-file.js'
import { makeTree, pseudoRandom } from '../support/fixtures.js'
import { tempDir } from '../support/temp.js'

const KIB = 1024

async function layout(t: TestContext, lengths: number[]): Promise<{ files: StreamedFile[]; content: Buffer }> {
  const { dir, cleanup } = await tempDir('swarmdrop-hash-stream-')
  t.after(cleanup)
  const content = pseudoRandom(lengths.reduce((a, b) => a + b, 0), `stream:${lengths.length}`)
  const files: StreamedFile[] = []
  let offset = 0
  for (const [i, length] of lengths.entries()) {
    const absPath = path.join(dir, `f${String(i).padStart(4, '0')}`)
    await writeFile(absPath, content.subarray(offset, offset + length))
    offset += length
    files.push({ absPath, length, mtimeMs: (await stat(absPath)).mtimeMs })
  }
  return { files, content }
}

function expected(content: Buffer, pieceLength: number): Buffer {
  const out: Buffer[] = []
  for (let at = 0; at < content.length; at += pieceLength) out.push(createHash('sha1').update(content.subarray(at, at + pieceLength)).digest())
  return Buffer.concat(out)
}

/** Adds the files in batches of the given sizes (cycling), letting the threads run in between. */
async function feed(stream: HashStream, files: StreamedFile[], batches: number[]): Promise<void> {
  for (let at = 0, b = 0; at < files.length; b++) {
    const size = batches[b % batches.length] as number
    stream.add(files.slice(at, at + size))
    at += size
    await yieldToLoop()
  }
}

/** Small files (some empty) around one file of many pieces: pieces straddle files everywhere. */
const LENGTHS = [
  ...Array.from({ length: 300 }, (_, i) => (i % 13 === 0 ? 0 : (i * 2654435761) % 9000)),
  3 * 1024 * KIB + 5,
  ...Array.from({ length: 40 }, (_, i) => 1 + i * 301),
]

test('without the native kernels there is no stream (create uses HashPool)', () => {
  if (sha1Lanes) assert.equal(HashStream.supported, true, 'the addon with its kernels should offer the stream')
  else assert.equal(HashStream.open(16 * KIB), null)
})

test('digests equal node:crypto for any batches, thread count and piece length', async (t) => {
  if (!HashStream.supported) return
  const { files, content } = await layout(t, LENGTHS)
  for (const pieceLength of [16 * KIB, 64 * KIB, 1024 * KIB]) {
    for (const threads of [1, 2, 4]) {
      for (const batches of [[1], [7, 50, 2], [files.length]]) {
        const stream = HashStream.open(pieceLength, threads) as HashStream
        await feed(stream, files, batches)
        const digests = await stream.end()
        assert.deepEqual(digests, expected(content, pieceLength), `${pieceLength} B pieces, ${threads} threads, batches ${batches.join('/')}`)
        assert.equal(stream.hashedBytes(), content.length, 'progress ends at the total')
      }
    }
  }
})

test('only empty files: no pieces at all', async (t) => {
  if (!HashStream.supported) return
  const { files } = await layout(t, [0, 0, 0])
  const stream = HashStream.open(16 * KIB) as HashStream
  stream.add(files)
  assert.equal((await stream.end())?.length, 0)
})

test('a file that changed since the scan, or vanished, gives null', async (t) => {
  if (!HashStream.supported) return
  const { files } = await layout(t, LENGTHS)
  const changed = files[120] as StreamedFile
  utimesSync(changed.absPath, new Date(), new Date(changed.mtimeMs + 5000))
  const first = HashStream.open(16 * KIB, 2) as HashStream
  await feed(first, files, [64])
  assert.equal(await first.end(), null)

  const second = HashStream.open(16 * KIB, 2) as HashStream
  const fresh = files.map((f) => (f === changed ? { ...f, mtimeMs: changed.mtimeMs + 5000 } : f))
  await rm((fresh[200] as StreamedFile).absPath)
  await feed(second, fresh, [64])
  assert.equal(await second.end(), null)
})

test('stop settles the stream with no digests, even while it waits for files', async (t) => {
  if (!HashStream.supported) return
  const { files } = await layout(t, LENGTHS)
  const stream = HashStream.open(16 * KIB, 2) as HashStream
  stream.add(files.slice(0, 10))
  await stream.stop()
  assert.equal(await stream.result, null)
  // Adding or ending afterwards is harmless.
  stream.add(files.slice(10))
  assert.equal(await stream.end(), null)
})

test('the native folder walk lists what the JavaScript walk lists, and feeds the stream while it runs', async (t) => {
  if (!HashStream.supported) return
  const { dir, cleanup } = await tempDir('swarmdrop-native-walk-')
  t.after(cleanup)
  const root = path.join(dir, 'release')
  await makeTree(root, 400)
  // Names where a folder's "/" decides the order, and UTF-16 and UTF-8 orders differ.
  for (const f of ['a-b', 'a.txt', 'a/x', 'ab', '\u{1F4E6}.txt', '\uFF21.txt']) {
    await mkdir(path.dirname(path.join(root, f)), { recursive: true })
    await writeFile(path.join(root, f), f)
  }
  const byJs = await scanSource(root)
  const stream = HashStream.open(16 * KIB, 2) as HashStream
  const byNative = await scanFolderNatively(root, stream.handle)
  assert.ok(byNative, 'nothing in this folder makes the native walk give up')
  assert.equal(byNative.fileCount, byJs.files.length)
  assert.deepEqual(byNative.source, byJs)
  assert.deepEqual(byNative.encodedFiles, encodeFileList(byJs.files), 'the walk bencodes the file list as JavaScript does')
  // The walk ended the stream itself; end() just collects the digests.
  const content = Buffer.concat(await Promise.all(byJs.files.map((f) => readFile(f.absPath))))
  assert.deepEqual(await stream.end(), expected(content, 16 * KIB))
  assert.deepEqual((await scanFolderNatively(root, null))?.source, byJs, 'it also lists without a stream')
})

test('a name that is not UTF-8 leaves the file list to JavaScript', async (t) => {
  if (!HashStream.supported) return
  const { dir, cleanup } = await tempDir('swarmdrop-native-walk-')
  t.after(cleanup)
  const root = path.join(dir, 'release')
  await mkdir(root)
  await writeFile(path.join(root, 'ok.txt'), 'ok')
  // Latin-1 "café": what an old archive can leave on disk. 0xed 0xa0 0x80 is a UTF-16 surrogate.
  for (const name of [[0x63, 0x61, 0x66, 0xe9], [0x73, 0xed, 0xa0, 0x80]]) {
    const bad = Buffer.concat([Buffer.from(`${root}/`), Buffer.from(name)])
    await writeFile(bad, 'old')
    const walked = await scanFolderNatively(root, null)
    assert.ok(walked)
    assert.equal(walked.encodedFiles, null)
    await rm(bad)
  }
  assert.deepEqual((await scanFolderNatively(root, null))?.encodedFiles, encodeFileList([{ path: ['ok.txt'], length: 2 }]))
})

test('the native walk gives up on a symlink or a folder it cannot open, and stops its stream', async (t) => {
  if (!HashStream.supported) return
  const { dir, cleanup } = await tempDir('swarmdrop-native-walk-')
  t.after(cleanup)
  const root = path.join(dir, 'release')
  await mkdir(path.join(root, 'bin'), { recursive: true })
  await writeFile(path.join(root, 'bin', 'tool'), 'tool')
  await symlink('bin/tool', path.join(root, 'tool-latest'))
  const stream = HashStream.open(16 * KIB, 2) as HashStream
  assert.equal(await scanFolderNatively(root, stream.handle), null, 'symlinks are the JavaScript walk\'s to judge')
  assert.equal(await stream.result, null)
  assert.equal(await scanFolderNatively(path.join(dir, 'missing'), null), null)
  // Empty folders are still refused with the scanner's own message.
  await mkdir(path.join(dir, 'empty'))
  await assert.rejects(scanFolderNatively(path.join(dir, 'empty'), null), /contains no files/)
})

test('more folders at once than the libuv pool has threads all finish', { timeout: 60_000 }, async (t) => {
  if (!HashStream.supported) return
  // Each job is a walk on a pool thread feeding a stream whose last step also takes a pool thread
  // (4 by default): a step that waited on the pool for a walk could take every thread and hang.
  const { dir, cleanup } = await tempDir('swarmdrop-native-walk-')
  t.after(cleanup)
  const roots = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      const root = path.join(dir, `release-${i}`)
      await makeTree(root, 40 + i)
      return root
    }),
  )
  // Every stream first, then every walk: the order in which pool jobs queued at open would win.
  const streams = roots.map(() => HashStream.open(16 * KIB, 2) as HashStream)
  const results = await Promise.all(
    roots.map(async (root, i) => {
      const stream = streams[i] as HashStream
      const source = (await scanFolderNatively(root, stream.handle))?.source
      return { source, digests: await stream.end() }
    }),
  )
  for (const { source, digests } of results) {
    assert.ok(source)
    const content = Buffer.concat(await Promise.all(source.files.map((f) => readFile(f.absPath))))
    assert.deepEqual(digests, expected(content, 16 * KIB))
  }
})
