import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { SwarmdropError } from '../../shared/errors.js'
import { validateRequest } from '../../shared/request-validation.js'
import { ExternalTrackerLink, NOTHING_PUBLISHED } from '../../electron/engine/external-tracker.js'
import { parseInstanceFlags } from '../../electron/engine/instance.js'
import { validateSettings } from '../../electron/engine/settings-store.js'
import { tempDir } from '../support/temp.js'

const message = (fn: () => unknown): string => {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof SwarmdropError)
    assert.equal(err.code, 'INVALID_ARGUMENT')
    return err.message
  }
  throw new Error('expected INVALID_ARGUMENT')
}

test('externalTracker: URLs, paths and pids are checked, each error naming the field', () => {
  const ok = validateSettings({ externalTracker: { announceUrl: 'http://10.0.0.1:6969/announce', whitelistFile: '/srv/ot/whitelist', reloadPid: 4242 } })
  assert.deepEqual(ok.externalTracker, { announceUrl: 'http://10.0.0.1:6969/announce', whitelistFile: '/srv/ot/whitelist', reloadPid: 4242 })
  assert.equal(validateSettings({ externalTracker: null }).externalTracker, null)
  assert.match(message(() => validateSettings({ externalTracker: { announceUrl: 'opentracker:6969', whitelistFile: null, reloadPid: null } })), /announceUrl "opentracker:6969" is not a tracker URL/)
  assert.match(message(() => validateSettings({ externalTracker: { announceUrl: 'ftp://x/announce', whitelistFile: null, reloadPid: null } })), /not a tracker URL/)
  assert.match(message(() => validateSettings({ externalTracker: { announceUrl: 'udp://x', whitelistFile: null, reloadPid: null } })), /needs a port/)
  assert.match(message(() => validateSettings({ externalTracker: { announceUrl: 'udp://x:6969', whitelistFile: 'whitelist', reloadPid: null } })), /whitelistFile must be an absolute file path/)
  assert.match(message(() => validateSettings({ externalTracker: { announceUrl: 'udp://x:6969', whitelistFile: null, reloadPid: 7 } })), /reloadPid needs a whitelistFile/)
  // The wire contract checks the JSON shape before the settings store sees it.
  assert.match(message(() => validateRequest('settings.update', { externalTracker: { announceUrl: 'http://x/a', port: 1 } })), /"externalTracker" has no field "port"/)
})

test('serve flags: --external-tracker with its whitelist and pid; the others need it', () => {
  const flags = parseInstanceFlags(['--external-tracker', 'http://10.0.0.1:6969/announce', '--tracker-whitelist', 'ot/wl', '--tracker-reload-pid', '99'], { strict: true })
  assert.deepEqual(flags.overrides.externalTracker, { announceUrl: 'http://10.0.0.1:6969/announce', whitelistFile: path.resolve('ot/wl'), reloadPid: 99 })
  assert.match(message(() => parseInstanceFlags(['--tracker-whitelist', '/x'], { strict: true })), /--tracker-whitelist needs --external-tracker URL/)
  assert.match(message(() => parseInstanceFlags(['--external-tracker', 'http://x/a', '--tracker-whitelist', '/x', '--tracker-reload-pid', 'abc'], { strict: true })), /must be a process id/)
})

test('the whitelist: sorted hashes, the all-zero hash when empty, and an unwritable path named', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const file = path.join(dir, 'whitelist')
    let published = ['bb'.repeat(20), 'aa'.repeat(20)]
    const link = new ExternalTrackerLink({ config: { announceUrl: 'http://127.0.0.1:1/announce', whitelistFile: file, reloadPid: null }, seeder: () => ({ peerId: '00'.repeat(20), port: 1 }), published: () => published, log: () => undefined })
    await link.sync()
    assert.equal(await readFile(file, 'utf8'), `${'aa'.repeat(20)}\n${'bb'.repeat(20)}\n`)
    published = []
    await link.sync()
    assert.equal(await readFile(file, 'utf8'), `${NOTHING_PUBLISHED}\n`)

    const missing = path.join(dir, 'no-such-dir', 'whitelist')
    const broken = new ExternalTrackerLink({ config: { announceUrl: 'http://127.0.0.1:1/announce', whitelistFile: missing, reloadPid: null }, seeder: () => ({ peerId: '00'.repeat(20), port: 1 }), published: () => [], log: () => undefined })
    await assert.rejects(broken.sync(), (err: unknown) => err instanceof SwarmdropError && err.code === 'WRITE_FAILED' && err.message.includes(missing))
  } finally {
    await cleanup()
  }
})
