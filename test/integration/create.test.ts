import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createTorrent } from '../../electron/engine/create.js'
import { parseTorrent } from '../support/torrent-parser.js'
import { sortByPathBytes } from '../../electron/engine/source-scanner.js'
import { choosePieceLength } from '../../shared/piece-length.js'
import type { SwarmdropError } from '../../shared/errors.js'
import { makeTree, pseudoRandom } from '../support/fixtures.js'
import { BIN, runCli, runProcess } from '../support/run-cli.js'
import { tempDir } from '../support/temp.js'
import { toolPath } from '../support/tools.js'
import { parseWithWebtorrent } from '../support/webtorrent-parser.js'

async function mktorrentInfoHash(target: string, out: string, pieceLength: number, isPrivate: boolean): Promise<string> {
  const args = ['-l', String(Math.log2(pieceLength)), '-o', out, ...(isPrivate ? ['-p'] : []), target]
  const r = await runProcess(toolPath('mktorrent'), args)
  assert.equal(r.code, 0, `mktorrent failed: ${r.stderr}`)
  return parseTorrent(await readFile(out)).infoHash
}

test('single file: same info-hash as mktorrent for each piece length and private flag', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    // An odd size, so the last piece is short.
    const file = path.join(dir, 'vendor-update-1.2.3.bin')
    await writeFile(file, pseudoRandom(5 * 1024 * 1024 + 12345, 'single'))
    // mktorrent accepts 32 KiB and up.
    for (const pieceLength of [32768, 262144, 1048576]) {
      for (const isPrivate of [true, false]) {
        const expected = await mktorrentInfoHash(file, path.join(dir, `m-${pieceLength}-${isPrivate}.torrent`), pieceLength, isPrivate)
        const created = await createTorrent(file, { pieceLength, private: isPrivate })
        assert.equal(created.infoHash, expected, `piece length ${pieceLength}, private ${isPrivate}`)
      }
    }
  } finally {
    await cleanup()
  }
})

test('CLI: create prints the info-hash, writes a torrent transmission-show and webtorrent accept', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const file = path.join(dir, 'patch.tar')
    await writeFile(file, pseudoRandom(3 * 1024 * 1024 + 7, 'cli'))
    const out = path.join(dir, 'patch.torrent')
    const r = await runCli(['create', file, '-o', out, '--piece-length', '65536', '--announce', 'http://10.0.0.5:8080/announce', '--announce', 'udp://10.0.0.5:8080', '--web-seed', 'http://10.0.0.5:8080/webseed/'])
    assert.equal(r.code, 0, r.stderr)
    const infoHash = r.stdout.trim()
    assert.match(infoHash, /^[0-9a-f]{40}$/)
    assert.equal(infoHash, await mktorrentInfoHash(file, path.join(dir, 'm.torrent'), 65536, true))

    const torrent = await readFile(out)
    const show = await runProcess(toolPath('transmission-show'), [out])
    assert.equal(show.code, 0, show.stderr)
    assert.match(show.stdout, new RegExp(`Hash: ${infoHash}`))
    assert.match(show.stdout, /Privacy: Private torrent/)
    assert.match(show.stdout, /http:\/\/10\.0\.0\.5:8080\/announce/)
    assert.match(show.stdout, /udp:\/\/10\.0\.0\.5:8080/)

    const wt = await parseWithWebtorrent(torrent)
    assert.equal(wt.infoHash, infoHash)
    assert.equal(wt.private, true)
    assert.equal(wt.pieceLength, 65536)
    assert.equal(wt.length, 3 * 1024 * 1024 + 7)
    assert.deepEqual(wt.announce, ['http://10.0.0.5:8080/announce', 'udp://10.0.0.5:8080'])
    assert.deepEqual(wt.urlList, ['http://10.0.0.5:8080/webseed/'])

    const json = await runCli(['create', file, '-o', out, '--public', '--json'])
    assert.equal(json.code, 0, json.stderr)
    const parsed = JSON.parse(json.stdout) as { ok: boolean; infoHash: string; private: boolean; torrentFile: string; pieceLength: number }
    assert.equal(parsed.ok, true)
    assert.equal(parsed.private, false)
    assert.equal(parsed.torrentFile, out)
    assert.equal(parsed.pieceLength, choosePieceLength(3 * 1024 * 1024 + 7))
  } finally {
    await cleanup()
  }
})

test('private by default and never a public tracker: no announce unless given', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const file = path.join(dir, 'a.bin')
    await writeFile(file, pseudoRandom(100_000, 'priv'))
    const created = await createTorrent(file)
    const parsed = parseTorrent(created.torrent)
    assert.equal(parsed.private, true)
    assert.deepEqual(parsed.announce, [])
    assert.deepEqual(parsed.urlList, [])
    assert.doesNotMatch(created.torrent.toString('latin1'), /announce|openbittorrent|opentrackr|webtorrent\.dev/)
  } finally {
    await cleanup()
  }
})

test('automatic piece length keeps 1k–2k pieces within 16 KiB–16 MiB', () => {
  assert.equal(choosePieceLength(1000), 16384)
  assert.equal(choosePieceLength(2 * 1024 ** 3), 1024 * 1024)
  assert.equal(choosePieceLength(1024 ** 4), 16 * 1024 * 1024)
  for (const size of [50e6, 700e6, 4.7e9, 20e9]) {
    const pieces = Math.ceil(size / choosePieceLength(size))
    assert.ok(pieces > 1024 && pieces <= 2048, `${size} bytes -> ${pieces} pieces`)
  }
})

test('2,000-file nested folder with empty and unicode files round-trips through aria2c and transmission-show', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const root = path.join(dir, 'release-2000')
    const entries = await makeTree(root, 2000)
    const out = path.join(dir, 'release.torrent')
    const r = await runCli(['create', root, '-o', out, '--json', '--piece-length', '32768'])
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout) as { infoHash: string; fileCount: number; totalSize: number }
    assert.equal(result.fileCount, 2000)
    const expectedTotal = entries.reduce((s, e) => s + e.length, 0)
    assert.equal(result.totalSize, expectedTotal)

    // mktorrent orders a folder's files by full path too, so even folder info-hashes agree.
    const parsed = parseTorrent(await readFile(out))
    assert.equal(result.infoHash, await mktorrentInfoHash(root, path.join(dir, 'm.torrent'), parsed.pieceLength, true))

    const expected = new Map(entries.map((e) => [`release-2000/${e.path}`, e.length]))

    // aria2c -S lists the files of a .torrent with their sizes.
    const aria = await runProcess(toolPath('aria2c'), ['-S', out])
    assert.equal(aria.code, 0, aria.stderr)
    const ariaFiles = new Map<string, number>()
    const lines = aria.stdout.split('\n')
    for (let i = 0; i < lines.length; i++) {
      const m = /^\s*\d+\|\.\/(.+)$/.exec(lines[i] as string)
      const size = /^\s*\|[^(]*\(([\d,]+)\)/.exec(lines[i + 1] ?? '')
      if (m && size) ariaFiles.set(m[1] as string, Number((size[1] as string).replaceAll(',', '')))
    }
    assert.equal(ariaFiles.size, 2000)
    assert.deepEqual(new Map([...ariaFiles].sort()), new Map([...expected].sort()))

    const show = await runProcess(toolPath('transmission-show'), [out], { env: { ...process.env, LC_ALL: 'C.UTF-8' } })
    assert.equal(show.code, 0, show.stderr)
    const filesSection = show.stdout.split(/^FILES\s*$/m)[1] ?? ''
    const listed = filesSection.split('\n').filter((l) => l.trim().length > 0)
    assert.equal(listed.length, 2000)
    for (const e of entries.slice(0, 50)) assert.ok(filesSection.includes(`release-2000/${e.path} (`), `transmission-show lists ${e.path}`)

    const wt = await parseWithWebtorrent(await readFile(out))
    assert.equal(wt.files.length, 2000)
    assert.deepEqual(
      new Map(wt.files.map((f) => [f.path, f.length])),
      new Map([...expected].map(([p, l]) => [p, l])),
    )
  } finally {
    await cleanup()
  }
})

test('file order is deterministic, whatever order the files were written in', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const a = path.join(dir, 'a', 'rel')
    const b = path.join(dir, 'b', 'rel')
    const names = ['z.txt', 'a.txt', 'a/b.txt', 'a.b', 'B.txt', 'é.txt', 'a-b/c']
    for (const [root, order] of [[a, names], [b, [...names].reverse()]] as const) {
      for (const n of order) {
        await mkdir(path.dirname(path.join(root, n)), { recursive: true })
        await writeFile(path.join(root, n), `content of ${n}`)
      }
    }
    const ta = await createTorrent(a, { creationDate: 0 })
    const tb = await createTorrent(b, { creationDate: 0 })
    assert.equal(ta.infoHash, tb.infoHash)
    assert.deepEqual(ta.torrent, tb.torrent)
    assert.deepEqual(
      parseTorrent(ta.torrent).files.map((f) => f.path.join('/')),
      ['B.txt', 'a-b/c', 'a.b', 'a.txt', 'a/b.txt', 'z.txt', 'é.txt'],
    )
  } finally {
    await cleanup()
  }
})

async function expectError(promise: Promise<unknown>, code: string, messagePart: RegExp): Promise<void> {
  await assert.rejects(promise, (err: SwarmdropError) => {
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`)
    assert.match(err.message, messagePart)
    return true
  })
}

test('bad input: missing path, empty folder, empty file, symlink loops, bad piece length', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    await expectError(createTorrent(path.join(dir, 'nope')), 'PATH_NOT_FOUND', /nope does not exist/)

    await mkdir(path.join(dir, 'empty', 'sub', 'deeper'), { recursive: true })
    await expectError(createTorrent(path.join(dir, 'empty')), 'EMPTY_INPUT', /contains no files/)

    await mkdir(path.join(dir, 'zeros'))
    await writeFile(path.join(dir, 'zeros', 'a'), '')
    await expectError(createTorrent(path.join(dir, 'zeros')), 'EMPTY_INPUT', /Every file .* is empty/)
    await expectError(createTorrent(path.join(dir, 'zeros', 'a')), 'EMPTY_INPUT', /empty file/)

    await mkdir(path.join(dir, 'loop', 'inner'), { recursive: true })
    await writeFile(path.join(dir, 'loop', 'inner', 'f'), 'x')
    await symlink('..', path.join(dir, 'loop', 'inner', 'up'))
    await expectError(createTorrent(path.join(dir, 'loop')), 'SYMLINK_LOOP', /Symlink loop: .*inner\/up/)

    await mkdir(path.join(dir, 'self'))
    await symlink('me', path.join(dir, 'self', 'me'))
    await expectError(createTorrent(path.join(dir, 'self')), 'SYMLINK_LOOP', /me is a symlink loop/)

    await mkdir(path.join(dir, 'dangling'))
    await symlink('missing-target', path.join(dir, 'dangling', 'link'))
    await expectError(createTorrent(path.join(dir, 'dangling')), 'PATH_NOT_FOUND', /link is a symlink to a path that does not exist/)

    await writeFile(path.join(dir, 'ok.bin'), 'data')
    await expectError(createTorrent(path.join(dir, 'ok.bin'), { pieceLength: 1000 }), 'INVALID_ARGUMENT', /power of two/)

    const cli = await runCli(['create', path.join(dir, 'empty')])
    assert.equal(cli.code, 1)
    assert.match(cli.stderr, /^swarmdrop: error EMPTY_INPUT: .*contains no files/m)
    assert.doesNotMatch(cli.stderr, /at .*\.js:\d+/, 'no stack trace')
  } finally {
    await cleanup()
  }
})

test('bad input: an unreadable file is named in the error', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    await chmod(dir, 0o755)
    const root = path.join(dir, 'rel')
    await mkdir(root)
    await writeFile(path.join(root, 'readable.txt'), 'fine')
    await writeFile(path.join(root, 'secret.key'), 'no')
    await chmod(root, 0o755)
    await chmod(path.join(root, 'readable.txt'), 0o644)
    await chmod(path.join(root, 'secret.key'), 0o000)
    // Root reads everything: as root the CLI runs without the DAC-override capabilities (still
    // uid 0, so the checkout itself stays readable wherever CI clones it) to meet a real EACCES.
    const args = ['create', root, '-o', path.join(dir, 'x.torrent')]
    const r =
      process.getuid?.() === 0
        ? await runProcess(toolPath('setpriv'), ['--bounding-set=-dac_override,-dac_read_search', process.execPath, BIN, ...args], { cwd: dir })
        : await runCli(args, { cwd: dir })
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /error PATH_UNREADABLE: .*secret\.key cannot be read: permission denied/)
  } finally {
    await cleanup()
  }
})

test('bad input: a file that changes size while it is hashed', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const file = path.join(dir, 'growing.log')
    await writeFile(file, pseudoRandom(64 * 1024 * 1024, 'grow'))
    let truncated = false
    await expectError(
      createTorrent(file, {
        pieceLength: 262144,
        // Main thread only: progress then arrives after each slice, so the file changes mid-hash.
        threads: { workers: 0, mainThread: true },
        onProgress: () => {
          if (!truncated) {
            truncated = true
            void truncate(file, 1024 * 1024)
          }
        },
      }),
      'FILE_CHANGED',
      /growing\.log changed while it was being hashed/,
    )
    assert.ok(truncated)
  } finally {
    await cleanup()
  }
})

test('hashing reports progress and can be cancelled', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const file = path.join(dir, 'big.bin')
    await writeFile(file, pseudoRandom(48 * 1024 * 1024, 'cancel'))
    const ticks: number[] = []
    // The CLI's configuration (a worker plus the main thread in slices) reports after every slice.
    const full = await createTorrent(file, { pieceLength: 65536, threads: { mainThread: true }, onProgress: (p) => ticks.push(p.hashedBytes) })
    assert.ok(ticks.length >= 4, `got ${ticks.length} progress events`)
    assert.deepEqual([...ticks].sort((x, y) => x - y), ticks, 'progress never goes backwards')
    assert.equal(ticks.at(-1), full.totalSize)

    const controller = new AbortController()
    await expectError(
      createTorrent(file, { pieceLength: 65536, threads: { mainThread: true }, signal: controller.signal, onProgress: () => controller.abort() }),
      'CANCELLED',
      /cancelled/,
    )
  } finally {
    await cleanup()
  }
})

test('file order is UTF-8 byte order even where UTF-16 order differs (astral vs U+E000–U+FFFF)', () => {
  const names = ['\u{1F4E6}.txt', '\uFF21.txt', 'a.txt', 'é.txt']
  const files = names.map((n) => ({ path: [n], absPath: n, length: 1, mtimeMs: 0, ino: 0 }))
  const bytesOrder = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
  assert.deepEqual(sortByPathBytes(files).map((f) => f.path[0]), bytesOrder)
  // JavaScript's own order would put the astral character first: the two really differ here.
  assert.notDeepEqual([...names].sort(), bytesOrder)
})
