import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { acquireLock, adminToken, defaultDataDir, resolveDataDir } from '../../electron/engine/data-dir.js'
import { ReleaseStore, type ReleaseRecord } from '../../electron/engine/release-store.js'
import { SettingsStore } from '../../electron/engine/settings-store.js'
import type { SwarmdropError } from '../../shared/errors.js'
import { tempDir } from '../support/temp.js'

function record(infoHash: string, publishedAt: string): ReleaseRecord {
  return {
    version: 1,
    infoHash,
    name: 'a.bin',
    title: `a ${infoHash.slice(0, 4)}`,
    channel: 'default',
    comment: null,
    private: true,
    webSeed: false,
    pieceLength: 16384,
    pieceCount: 1,
    totalSize: 3,
    source: { root: '/srv/a.bin', isDirectory: false, files: [{ path: [], length: 3, mtimeMs: 1 }] },
    info: Buffer.from('d4:name5:a.bine').toString('base64'),
    creationDate: 1,
    createdAt: publishedAt,
    publishedAt,
    state: 'seeding',
  }
}

test('the release library survives a reopen, skips damaged files and leaves no temp files', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    await mkdir(path.join(dir, 'releases'))
    const store = await ReleaseStore.open(dir)
    await store.put(record('b'.repeat(40), '2025-01-02T00:00:00.000Z'))
    await store.put(record('a'.repeat(40), '2025-01-01T00:00:00.000Z'))
    await store.update('b'.repeat(40), { state: 'retired' })
    await writeFile(path.join(dir, 'releases', `${'c'.repeat(40)}.json`), '{"version":1, trunc')
    const again = await ReleaseStore.open(dir)
    assert.deepEqual(again.all().map((r) => r.infoHash), ['a'.repeat(40), 'b'.repeat(40)], 'oldest publication first')
    assert.equal(again.get('b'.repeat(40))?.state, 'retired')
    assert.equal(again.damaged.length, 1)
    assert.ok((await readdir(path.join(dir, 'releases'))).every((n) => !n.endsWith('.tmp')))
    assert.throws(() => again.require('d'.repeat(40)), (err: SwarmdropError) => err.code === 'UNKNOWN_RELEASE')
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
    await settings.update({ uploadLimit: 1000, feedKey: 'k-1' })
    assert.equal((await SettingsStore.open(dir)).settings.feedKey, 'k-1')
    await assert.rejects(settings.update({ httpPort: 70000 }), /httpPort must be a port number/)
  } finally {
    await cleanup()
  }
})
