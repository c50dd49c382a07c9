import { afterEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { button, click, fakeBackend, fromCore, hasButton, mount, text, type Mounted } from './mount.js'
import { App } from '../../renderer/App.js'
import { FakeSwarmdropApi, FEED_URL, makeRelease, makeSnapshot, makeSwarm } from '../support/fake-api.js'
import type { ReleaseSummary } from '../../shared/contract.js'

let view: Mounted | null = null
afterEach(async () => {
  await view?.unmount()
  view = null
})

function row(container: Element, release: ReleaseSummary): Element {
  const tr = container.querySelector(`tr[data-release="${release.infoHash}"]`)
  if (!tr) throw new Error(`no row for ${release.name}`)
  return tr
}

const seeding = makeRelease(1, { name: 'app-2.4.1' })
const paused = makeRelease(2, { name: 'db-migrations', state: 'paused' })
const hashing = makeRelease(3, { name: 'big-iso', state: 'hashing' })
const failed = makeRelease(4, {
  name: 'broken',
  state: 'error',
  error: { code: 'PATH_NOT_FOUND', message: 'The source folder /srv/broken is gone. Restore it or retire the release.' },
})

function fleetApi(): FakeSwarmdropApi {
  const MiB = 1024 * 1024
  const api = new FakeSwarmdropApi(
    makeSnapshot({
      releases: [seeding, paused, hashing, failed],
      swarms: [makeSwarm(seeding.infoHash, { peers: 12, uploadRate: 3 * MiB, downloadRate: 0, uploaded: 512 * MiB, distributedCopies: 4.25 })],
    }),
  )
  const setState = (state: ReleaseSummary['state']) => (req: { infoHash: string }) => {
    const r = api.snapshot.releases.find((x) => x.infoHash === req.infoHash)
    if (!r) throw { code: 'UNKNOWN_RELEASE', message: 'No such release.' }
    return { ...r, state }
  }
  api.handle('release.pause', setState('paused')).handle('release.resume', setState('seeding')).handle('release.retire', setState('retired'))
  return api
}

describe('releases list', () => {
  test('a damaged release record is named in an alert, with where it was kept, while the others show', async () => {
    const api = new FakeSwarmdropApi(
      makeSnapshot({
        releases: [seeding],
        damagedReleases: [{ name: `${'c'.repeat(40)}.json`, keptAt: '/data/releases/damaged/cccc.json.2026-11-30', reason: 'it is not complete JSON; the file was probably cut short' }],
      }),
    )
    view = await mount(<App initialView="releases" />, fakeBackend(api))
    const alert = view.container.querySelector('[role="alert"]')
    assert.ok(alert, 'an alert is shown')
    assert.match(text(alert), /A release record is damaged and was not loaded; every other release runs\./)
    assert.match(text(alert), new RegExp(`${'c'.repeat(40)}\\.json ?: it is not complete JSON; the file was probably cut short ?\\. Kept at /data/releases/damaged/cccc\\.json\\.2026-11-30 ?\\.`))
    assert.ok(row(view.container, seeding), 'the good release is listed')
  })

  test('shows each release with its state, peers, rates, uploaded total and copies', async () => {
    view = await mount(<App initialView="releases" />, fakeBackend(fleetApi()))
    const c = view.container
    assert.equal(text(row(c, seeding)), 'app-2.4.1 64.0 MiB · 3 files Seeding 12 0 B/s 3.00 MiB/s 512 MiB 4.25 Pause Retire')
    assert.match(text(row(c, paused)), /db-migrations .* Paused 0 .* Resume Retire/)
    assert.match(text(row(c, hashing)), /big-iso .* Hashing /)
    assert.ok(!hasButton(row(c, hashing), 'Pause'), 'a release that is still hashing cannot be paused')
    assert.match(text(row(c, failed)), /The source folder \/srv\/broken is gone\. Restore it or retire the release\. Error/)
    assert.match(text(c.querySelector('nav') as Element), /Releases 4/)
  })

  test('pause asks first: Cancel does nothing, Confirm calls the core', async () => {
    const api = fleetApi()
    view = await mount(<App initialView="releases" />, fakeBackend(api))
    const r = row(view.container, seeding)
    await click(button(r, 'Pause'))
    assert.match(text(r), /Pause seeding app-2\.4\.1\? Servers still downloading it will stall\./)
    assert.equal(api.callsOf('release.pause').length, 0)
    await click(button(r, 'Cancel'))
    assert.equal(api.callsOf('release.pause').length, 0)
    assert.ok(hasButton(r, 'Pause'))

    await click(button(r, 'Pause'))
    await click(button(r.querySelector('.confirm') as Element, 'Pause'))
    assert.deepEqual(api.callsOf('release.pause'), [{ infoHash: seeding.infoHash }])
  })

  test('resume acts at once; retire asks first', async () => {
    const api = fleetApi()
    view = await mount(<App initialView="releases" />, fakeBackend(api))
    await click(button(row(view.container, paused), 'Resume'))
    assert.deepEqual(api.callsOf('release.resume'), [{ infoHash: paused.infoHash }])

    const r = row(view.container, paused)
    await click(button(r, 'Retire'))
    assert.match(text(r), /Retire db-migrations\? It leaves the feed and stops seeding\./)
    assert.equal(api.callsOf('release.retire').length, 0)
    await click(button(r.querySelector('.confirm') as Element, 'Retire'))
    assert.deepEqual(api.callsOf('release.retire'), [{ infoHash: paused.infoHash }])
  })

  test('a failed command shows the core\'s message in an alert', async () => {
    const api = fleetApi()
    api.fail('release.resume', { code: 'PORT_IN_USE', message: 'Peer port 6881 is in use by another program. Stop it or change the peer port in Settings.' })
    view = await mount(<App initialView="releases" />, fakeBackend(api))
    await click(button(row(view.container, paused), 'Resume'))
    const alert = view.container.querySelector('[role="alert"]') as Element
    assert.match(text(alert), /^Peer port 6881 is in use by another program\. Stop it or change the peer port in Settings\. Dismiss$/)
    await click(button(alert, 'Dismiss'))
    assert.equal(view.container.querySelector('[role="alert"]'), null)
  })

  test('with no releases the empty state teaches the workflow and names the feed URL', async () => {
    view = await mount(<App initialView="releases" />, fakeBackend(new FakeSwarmdropApi()))
    const empty = view.container.querySelector('.empty-state') as Element
    assert.match(text(empty), /No releases yet Drop an update here/)
    assert.match(text(empty), new RegExp(`subscribe your servers' BitTorrent clients to ${FEED_URL.replace(/\./g, '\\.')}`))
  })

  test('new snapshots replace the rows: the list mirrors the core', async () => {
    const api = fleetApi()
    view = await mount(<App initialView="releases" />, fakeBackend(api))
    await fromCore(() => api.push(makeSnapshot({ releases: [{ ...seeding, state: 'paused' }] })))
    assert.equal(view.container.querySelectorAll('tbody tr').length, 1)
    assert.match(text(row(view.container, seeding)), /Paused .* Resume Retire/)
  })
})
