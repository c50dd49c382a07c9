import { afterEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { button, byLabel, click, fakeBackend, fromCore, mount, submit, text, typeInto, type Mounted } from './mount.js'
import { App } from '../../renderer/App.js'
import { FakeSwarmdropApi, makeSnapshot } from '../support/fake-api.js'
import type { WatchFolder, WatchFolderStatus } from '../../shared/contract.js'

let view: Mounted | null = null
afterEach(async () => {
  await view?.unmount()
  view = null
})

const status = (folder: WatchFolder, patch: Partial<WatchFolderStatus>): WatchFolderStatus => ({
  ...folder,
  state: 'watching',
  entry: null,
  stableMs: null,
  settleMs: 10_000,
  pending: 0,
  message: 'watching for new files and folders',
  ...patch,
})

/** A fake core whose watch folders follow settings.update, each shown as "watching". */
function watchApi(folders: WatchFolder[], statuses: WatchFolderStatus[]): FakeSwarmdropApi {
  const api = new FakeSwarmdropApi(makeSnapshot())
  api.snapshot = { ...api.snapshot, settings: { ...api.snapshot.settings, watchFolders: folders }, watchFolders: statuses }
  api.handle('settings.update', (patch) => {
    const settings = { ...api.snapshot.settings, ...patch }
    api.snapshot = { ...api.snapshot, settings, watchFolders: settings.watchFolders.map((f) => status(f, {})) }
    return { settings, restartRequired: [] }
  })
  return api
}

const row = (c: Element, dir: string): Element => c.querySelector(`[data-watch-folder="${dir}"]`) as Element
const panel = (c: Element): Element => c.querySelector('.watch-folders') as Element

describe('watch folders', () => {
  test('each folder shows its state and line from the snapshot', async () => {
    const drop = { dir: '/srv/drop', channel: 'default' }
    const beta = { dir: '/srv/beta', channel: 'beta' }
    const api = watchApi(
      [drop, beta],
      [
        status(drop, { state: 'settling', entry: 'app.tar', stableMs: 4000, pending: 1, message: 'waiting for "app.tar" to settle (unchanged for 4 s of 10 s)' }),
        status(beta, { state: 'error', message: 'The watch folder /srv/beta does not exist: create it, or remove it from the watch folders.' }),
      ],
    )
    view = await mount(<App initialView="settings" />, fakeBackend(api))
    assert.equal(text(row(view.container, '/srv/drop')), '/srv/drop default Settling waiting for "app.tar" to settle (unchanged for 4 s of 10 s) Remove')
    assert.match(text(row(view.container, '/srv/beta')), /beta Error The watch folder \/srv\/beta does not exist/)
    await fromCore(() => api.push({ ...api.snapshot, watchFolders: [status(drop, { state: 'published', entry: 'app.tar', message: 'published "app.tar"' }), api.snapshot.watchFolders[1] as WatchFolderStatus] }))
    assert.match(text(row(view.container, '/srv/drop')), /Published published "app\.tar"/)
  })

  test('adding and removing a folder are settings changes; a refusal shows the core’s message', async () => {
    const drop = { dir: '/srv/drop', channel: 'default' }
    const api = watchApi([drop], [status(drop, {})])
    view = await mount(<App initialView="settings" />, fakeBackend(api))
    await typeInto(byLabel(panel(view.container), 'Folder to watch'), ' /srv/nightly ')
    await typeInto(byLabel(panel(view.container), 'Channel'), 'nightly')
    await submit(byLabel(panel(view.container), 'Folder to watch'))
    assert.deepEqual(api.callsOf('settings.update'), [{ watchFolders: [drop, { dir: '/srv/nightly', channel: 'nightly' }] }])
    assert.match(text(view.container), /Watching \/srv\/nightly\./)
    assert.equal(byLabel(panel(view.container), 'Folder to watch').value, '')

    await click(button(view.container, 'Stop watching /srv/drop'))
    assert.deepEqual(api.callsOf('settings.update')[1], { watchFolders: [{ dir: '/srv/nightly', channel: 'nightly' }] })
    assert.match(text(view.container), /Stopped watching \/srv\/drop\. Its releases keep seeding\./)

    api.fail('settings.update', { code: 'INVALID_ARGUMENT', message: 'Invalid setting: watchFolders[1].dir must be an absolute path, got "drop".' })
    await typeInto(byLabel(panel(view.container), 'Folder to watch'), 'drop')
    await submit(byLabel(panel(view.container), 'Folder to watch'))
    assert.match(text(view.container), /must be an absolute path, got "drop"/)
    assert.equal(byLabel(panel(view.container), 'Folder to watch').value, 'drop', 'kept for fixing')
  })
})
