import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { acquireLock, adminToken, defaultDataDir, resolveDataDir } from '../../electron/engine/data-dir.js'
import { ReleaseStore, type ReleaseRecord } from '../../electron/engine/release-store.js'
import { encodeInfo, infoHashOf } from '../../electron/engine/torrent-file.js'
import { generateFeedKey, SettingsStore } from '../../electron/engine/settings-store.js'
import type { SwarmdropError } from '../../shared/errors.js'
import { tempDir } from '../support/temp.js'

/** A complete, valid record for a made-up 3-byte file: its info-hash really is its info's SHA-1. */
function record(name: string, publishedAt: string): ReleaseRecord {
  const info = encodeInfo({ name, files: null, length: 3, pieceLength: 16384, pieces: Buffer.alloc(20, 7), private: true })
  return {
    version: 1,
    infoHash: infoHashOf(info),
    name,
    title: `${name} release`,
    channel: 'default',
    comment: null,
    private: true,
    webSeed: false,
    pieceLength: 16384,
    pieceCount: 1,
    totalSize: 3,
    source: { root: `/srv/${name}`, isDirectory: false, files: [{ path: [], length: 3, mtimeMs: 1, ino: 42 }] },
    info: info.toString('base64'),
    creationDate: 1,
    createdAt: publishedAt,
    publishedAt,
    state: 'seeding',
  }
}

test('the release library survives a reopen and leaves no temp files', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    await mkdir(path.join(dir, 'releases'))
    const store = await ReleaseStore.open(dir)
    const a = record('a.bin', '2025-01-01T00:00:00.000Z')
    const b = record('b.bin', '2025-01-02T00:00:00.000Z')
    await store.put(b)
    await store.put(a)
    await store.update(b.infoHash, { state: 'retired' })
    // A write killed between its temp file and the rename leaves this behind.
    await writeFile(path.join(dir, 'releases', `.${a.infoHash}.json.1234.abcd0123.tmp`), '{"version":1')
    const again = await ReleaseStore.open(dir)
    assert.deepEqual(again.all().map((r) => r.infoHash), [a.infoHash, b.infoHash], 'oldest publication first')
    assert.deepEqual(again.get(a.infoHash), a, 'every field survives')
    assert.equal(again.get(b.infoHash)?.state, 'retired')
    assert.deepEqual(again.damaged, [])
    assert.deepEqual((await readdir(path.join(dir, 'releases'))).sort(), [`${a.infoHash}.json`, `${b.infoHash}.json`].sort(), 'the leftover temp file is gone')
    assert.throws(() => again.require('d'.repeat(40)), (err: SwarmdropError) => err.code === 'UNKNOWN_RELEASE')
  } finally {
    await cleanup()
  }
})

test('a truncated or incomplete record is named, kept aside and never stops the others', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    await mkdir(path.join(dir, 'releases'))
    const good = record('good.bin', '2025-01-01T00:00:00.000Z')
    const truncated = record('truncated.bin', '2025-01-02T00:00:00.000Z')
    const noFiles = record('nofiles.bin', '2025-01-03T00:00:00.000Z')
    const lying = record('lying.bin', '2025-01-04T00:00:00.000Z')
    const store = await ReleaseStore.open(dir)
    await store.put(good)
    const file = (r: ReleaseRecord): string => path.join(dir, 'releases', `${r.infoHash}.json`)
    await writeFile(file(truncated), JSON.stringify(truncated).slice(0, 120))
    const { files: _dropped, ...sourceWithoutFiles } = noFiles.source
    await writeFile(file(noFiles), JSON.stringify({ ...noFiles, source: sourceWithoutFiles }))
    await writeFile(file(lying), JSON.stringify({ ...lying, totalSize: 99 }))

    const again = await ReleaseStore.open(dir)
    assert.deepEqual(again.all().map((r) => r.infoHash), [good.infoHash], 'the good record still loads')
    const reasons = Object.fromEntries(again.damaged.map((d) => [d.name, d.reason]))
    assert.match(reasons[`${truncated.infoHash}.json`] ?? '', /not complete JSON .* cut short/)
    assert.match(reasons[`${noFiles.infoHash}.json`] ?? '', /"source\.files" is not a list of files/)
    assert.match(reasons[`${lying.infoHash}.json`] ?? '', /"totalSize" is not the sum of the file lengths/)
    for (const d of again.damaged) {
      assert.ok(d.keptAt?.startsWith(path.join(dir, 'releases', 'damaged', d.name)), `kept aside: ${d.keptAt}`)
      assert.ok((await stat(d.keptAt as string)).isFile())
    }
    assert.deepEqual((await readdir(path.join(dir, 'releases'))).sort(), ['damaged', `${good.infoHash}.json`].sort())
    // Set aside once: the next start is clean.
    assert.deepEqual((await ReleaseStore.open(dir)).damaged, [])
  } finally {
    await cleanup()
  }
})

test('data dir: Electron userData defaults, flag and env override, one lock, stale lock taken over, token 0600', async () => {
  assert.equal(defaultDataDir('linux', {}, '/home/ops'), '/home/ops/.config/Swarmdrop')
  assert.equal(defaultDataDir('linux', { XDG_CONFIG_HOME: '/cfg' }, '/home/ops'), '/cfg/Swarmdrop')
  assert.equal(defaultDataDir('darwin', {}, '/Users/ops'), '/Users/ops/Library/Application Support/Swarmdrop')
  assert.equal(defaultDataDir('win32', { APPDATA: 'C:\\Users\\ops\\AppData\\Roaming' }, 'C:\\Users\\ops'), 'C:\\Users\\ops\\AppData\\Roaming\\Swarmdrop')
  assert.equal(resolveDataDir('/x/flag', { SWARMDROP_DATA_DIR: '/x/env' }), '/x/flag')
  assert.equal(resolveDataDir(undefined, { SWARMDROP_DATA_DIR: '/x/env' }), '/x/env')

  const { dir, cleanup } = await tempDir()
  try {
    const lock = await acquireLock(dir)
    await assert.rejects(acquireLock(dir), (err: SwarmdropError) => {
      assert.equal(err.code, 'ALREADY_RUNNING')
      assert.match(err.message, new RegExp(`already running for ${dir} \\(pid ${process.pid}\\)`))
      return true
    })
    await lock.release()
    // A lock left by a process that no longer exists.
    await writeFile(path.join(dir, 'lock'), '2147483646\n')
    const taken = await acquireLock(dir)
    assert.equal((await readFile(path.join(dir, 'lock'), 'utf8')).trim(), String(process.pid))
    await taken.release()

    const token = await adminToken(dir)
    assert.ok(token.length >= 32)
    assert.equal(await adminToken(dir), token, 'created once')
    assert.equal((await stat(path.join(dir, 'admin-token'))).mode & 0o777, 0o600)

    const settings = await SettingsStore.open(dir)
    assert.equal(settings.settings.httpPort, 7070)
    assert.equal(settings.settings.peerPort, 6881)
    assert.equal(settings.settings.utp, false)
    const key = 'k-1-a-long-enough-feed-key'
    await settings.update({ uploadLimit: 1000, feedKey: key })
    assert.equal((await SettingsStore.open(dir)).settings.feedKey, key)
    // A short key is refused, and a generated one is long and random.
    await assert.rejects(settings.update({ feedKey: 'k-1' }), /feedKey must be at least 22 characters \(about 128 bits when random\), got 3; generate one instead/)
    const generated = generateFeedKey()
    assert.match(generated, /^[A-Za-z0-9_-]{32}$/)
    assert.notEqual(generateFeedKey(), generated)
    await assert.rejects(settings.update({ httpPort: 70000 }), /httpPort must be a port number/)
  } finally {
    await cleanup()
  }
})
