import { afterEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { blur, button, byLabel, click, fakeBackend, fromCore, mount, submit, text, typeInto, type Mounted } from './mount.js'
import { App } from '../../renderer/App.js'
import { FakeSwarmdropApi, makeSnapshot } from '../support/fake-api.js'
import type { Settings } from '../../shared/contract.js'

let view: Mounted | null = null
afterEach(async () => {
  await view?.unmount()
  view = null
})

/** Settings the (fake) core needs a restart for, like the real one does for listening ports. */
const RESTART: (keyof Settings)[] = ['httpPort', 'peerPort']

function settingsApi(): FakeSwarmdropApi {
  const api = new FakeSwarmdropApi()
  api.handle('settings.update', (patch) => {
    const settings = { ...api.snapshot.settings, ...patch }
    api.snapshot = { ...api.snapshot, settings }
    return { settings, restartRequired: RESTART.filter((k) => k in patch) }
  })
  return api
}

const status = (c: Element, key: string) => text(c.querySelector(`[data-setting="${key}"] .field-status`) as Element)

describe('settings', () => {
  test('the weekly schedule: mark hours on the grid, set the alternative limit, save', async () => {
    const api = settingsApi()
    view = await mount(<App initialView="settings" />, fakeBackend(api))
    const cell = (label: string) => view?.container.querySelector(`button[aria-label="${label}"]`) as HTMLButtonElement
    for (const label of ['Mon 09:00', 'Mon 10:00', 'Fri 17:00']) {
      await fromCore(() => cell(label).dispatchEvent(new MouseEvent('mousedown', { bubbles: true })))
      await fromCore(() => cell(label).dispatchEvent(new MouseEvent('mouseup', { bubbles: true })))
    }
    assert.equal(cell('Mon 09:00').getAttribute('aria-pressed'), 'true')
    assert.equal(cell('Tue 09:00').getAttribute('aria-pressed'), 'false')
    await typeInto(byLabel(view.container, 'Alternative limit (KiB/s)'), '20480')
    await click(button(view.container, 'Save schedule'))
    const [patch] = api.callsOf('settings.update') as { uploadSchedule: { altLimit: number; hours: boolean[] } }[]
    assert.equal(patch?.uploadSchedule.altLimit, 20480 * 1024)
    assert.deepEqual(patch?.uploadSchedule.hours.flatMap((on, h) => (on ? [h] : [])), [9, 10, 4 * 24 + 17])
    assert.match(text(view.container), /Saved: the schedule applies from now on\./)
  })

  test('a short feed key is refused before it is sent; Generate asks the core for a random one', async () => {
    const api = settingsApi()
    const generated = 'Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4eHk'
    api.handle('settings.generateFeedKey', () => {
      const settings = { ...api.snapshot.settings, feedKey: generated }
      api.snapshot = { ...api.snapshot, settings }
      return { settings, restartRequired: [] }
    })
    view = await mount(<App initialView="settings" />, fakeBackend(api))
    const key = byLabel(view.container, 'Feed key')
    await typeInto(key, 'k3y')
    await submit(key)
    assert.equal(api.callsOf('settings.update').length, 0, 'nothing sent')
    assert.equal(status(view.container, 'feedKey'), 'A feed key needs at least 22 characters to stay secret; use Generate for a random one.')
    await click(view.container.querySelector('[data-setting="feedKey"] button') as HTMLButtonElement)
    assert.deepEqual(api.callsOf('settings.generateFeedKey'), [{}])
    assert.equal(status(view.container, 'feedKey'), 'Applied. Re-subscribe your servers with the new feed URL.')
  })

  test('shows the current settings and the firewall hint', async () => {
    view = await mount(<App initialView="settings" />, fakeBackend(settingsApi()))
    assert.equal(byLabel(view.container, 'HTTP port').value, '8080')
    assert.equal(byLabel(view.container, 'Address').value, '')
    assert.match(text(view.container), /In use now: 10\.0\.0\.5 \. Firewall: allow TCP and UDP 8080 .* TCP and UDP 6881/)
  })

  test('a change that applies live says so', async () => {
    const api = settingsApi()
    view = await mount(<App initialView="settings" />, fakeBackend(api))
    const limit = byLabel(view.container, 'Upload limit (KiB/s)')
    await typeInto(limit, '2048')
    await submit(limit)
    assert.deepEqual(api.callsOf('settings.update'), [{ uploadLimit: 2048 * 1024 }])
    assert.equal(status(view.container, 'uploadLimit'), 'Applied.')
  })

  test('a change that needs a restart says so plainly (committed on blur)', async () => {
    const api = settingsApi()
    view = await mount(<App initialView="settings" />, fakeBackend(api))
    const port = byLabel(view.container, 'HTTP port')
    await typeInto(port, '9090')
    await blur(port)
    assert.deepEqual(api.callsOf('settings.update'), [{ httpPort: 9090 }])
    assert.equal(status(view.container, 'httpPort'), 'Saved. This takes effect after Swarmdrop restarts.')
  })

  test('an empty address means "auto" and is sent as null; the uTP box applies on change', async () => {
    const api = settingsApi()
    api.snapshot = makeSnapshot({ settings: { ...api.snapshot.settings, address: 'publisher.lan' } })
    view = await mount(<App initialView="settings" />, fakeBackend(api))
    const address = byLabel(view.container, 'Address')
    assert.equal(address.value, 'publisher.lan')
    await typeInto(address, '  ')
    await submit(address)
    await click(byLabel(view.container, 'uTP'))
    assert.deepEqual(api.callsOf('settings.update'), [{ address: null }, { utp: false }])
    assert.equal(status(view.container, 'utp'), 'Applied.')
  })

  test('invalid input is caught before the core; a refusal from the core is shown as its message', async () => {
    const api = settingsApi()
    view = await mount(<App initialView="settings" />, fakeBackend(api))
    const port = byLabel(view.container, 'Peer port')
    await typeInto(port, '70000')
    await submit(port)
    assert.equal(api.callsOf('settings.update').length, 0)
    assert.equal(status(view.container, 'peerPort'), 'The peer port must be a whole number from 1 to 65535.')

    api.fail('settings.update', { code: 'PORT_IN_USE', message: 'Port 6882 is already in use by another program. Choose another peer port.' })
    await typeInto(port, '6882')
    await submit(port)
    assert.equal(status(view.container, 'peerPort'), 'Port 6882 is already in use by another program. Choose another peer port.')
  })

  test('while a field is being edited, incoming snapshots do not overwrite it', async () => {
    const api = settingsApi()
    view = await mount(<App initialView="settings" />, fakeBackend(api))
    const interval = byLabel(view.container, 'Announce interval (seconds)')
    await typeInto(interval, '45')
    await fromCore(() => api.push(makeSnapshot({ settings: { ...api.snapshot.settings, announceIntervalSeconds: 60 } })))
    assert.equal(interval.value, '45')
  })

  test('hooks: a command and a webhook are saved together; empty boxes mean none; a refusal from the core is shown', async () => {
    const api = settingsApi()
    view = await mount(<App initialView="settings" />, fakeBackend(api))
    await typeInto(byLabel(view.container, 'Command'), '  /usr/local/bin/notify-deploy --channel ops ')
    await typeInto(byLabel(view.container, 'Timeout (seconds)'), '30')
    await click(button(view.container, 'Save hooks'))
    assert.deepEqual(api.callsOf('settings.update'), [{ hooks: { command: '/usr/local/bin/notify-deploy --channel ops', webhookUrl: null, timeoutSeconds: 30 } }])
    assert.match(status(view.container, 'hooks'), /Saved: hooks run on the next rollout complete or stall\./)

    await typeInto(byLabel(view.container, 'Timeout (seconds)'), 'soon')
    await click(button(view.container, 'Save hooks'))
    assert.equal(api.callsOf('settings.update').length, 1, 'a timeout that is not a number is refused before it is sent')
    assert.match(status(view.container, 'hooks'), /whole number of seconds/)

    api.fail('settings.update', { code: 'INVALID_ARGUMENT', message: 'hooks.webhookUrl must be an http:// or https:// URL, or null for none' })
    await typeInto(byLabel(view.container, 'Timeout (seconds)'), '30')
    await typeInto(byLabel(view.container, 'Webhook URL'), 'ftp://chat.example/hook')
    await click(button(view.container, 'Save hooks'))
    assert.match(status(view.container, 'hooks'), /hooks\.webhookUrl must be an http:\/\/ or https:\/\/ URL/)
  })

  test('retention: add a rule for a known channel, set keep-last and age, save; a rule that keeps everything is refused', async () => {
    const api = settingsApi()
    api.snapshot = makeSnapshot({ settings: { ...api.snapshot.settings, watchFolders: [{ dir: '/srv/drop', channel: 'nightly' }] } })
    view = await mount(<App initialView="settings" />, fakeBackend(api))
    assert.match(text(view.container), /No rules: every release is kept until you retire it\./)
    const picker = view.container.querySelector('select[aria-label="Channel for a new rule"]') as HTMLSelectElement
    assert.deepEqual(Array.from(picker.options).map((o) => o.value), ['', 'default', 'nightly'])
    await fromCore(() => {
      Object.getOwnPropertyDescriptor(window.HTMLSelectElement.prototype, 'value')?.set?.call(picker, 'nightly')
      picker.dispatchEvent(new window.Event('change', { bubbles: true }))
    })
    const keep = view.container.querySelector('input[aria-label="Keep last (nightly)"]') as HTMLInputElement
    const age = view.container.querySelector('input[aria-label="Older than, days (nightly)"]') as HTMLInputElement
    assert.equal(keep.value, '5', 'a new rule starts at keep the last 5')
    await typeInto(keep, '')
    await click(button(view.container, 'Save retention'))
    assert.equal(api.callsOf('settings.update').length, 0)
    assert.match(status(view.container, 'retention'), /The rule for "nightly" keeps everything/)
    await typeInto(keep, '3')
    await typeInto(age, '14')
    await click(button(view.container, 'Save retention'))
    assert.deepEqual(api.callsOf('settings.update'), [{ retention: [{ channel: 'nightly', keepLast: 3, olderThanDays: 14 }] }])
    assert.match(status(view.container, 'retention'), /Saved: applied now and every hour\./)
  })
})
