import { afterEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { act } from 'react'
import { button, byLabel, click, fakeBackend, fromCore, mount, settle, submit, text, typeInto, type Mounted } from './mount.js'
import { App } from '../../renderer/App.js'
import { FLEET_ROW_HEIGHT } from '../../renderer/components/FleetMatrix.js'
import type { FleetRow, TimelineEntry } from '../../shared/contract.js'
import { FakeSwarmdropApi, makeCell, makeFleetRow, makeRelease, makeRollout, makeSnapshot } from '../support/fake-api.js'

let view: Mounted | null = null
afterEach(async () => {
  await view?.unmount()
  view = null
})

// r1 is the newer release, so it is the first release column and the one selected by default.
const r1 = makeRelease(1, { name: 'app-2.4.1', createdAt: '2025-11-25T07:00:00.000Z' })
const r2 = makeRelease(2, { name: 'app-2.4.0', createdAt: '2025-11-20T07:00:00.000Z' })
const retired = makeRelease(3, { name: 'app-1.0.0', state: 'retired', createdAt: '2025-12-01T07:00:00.000Z' })
const MINUTE = 60_000

function fleet(): FleetRow[] {
  const done = makeCell({ state: 'complete', percent: 1, startedAt: Date.now() - MINUTE - 93_000, completedAt: Date.now() - MINUTE })
  return [
    makeFleetRow(0, { [r1.infoHash]: done, [r2.infoHash]: done }, { name: 'web-01.lan', hostname: 'web-01.lan', expected: true }),
    makeFleetRow(1, { [r1.infoHash]: makeCell({ state: 'downloading', percent: 0.426, rate: 2 * 1024 * 1024, startedAt: Date.now() - 30_000 }), [r2.infoHash]: done }, { name: 'web-02.lan', expected: true, lastSeen: Date.now() - 5 * MINUTE }),
    makeFleetRow(2, { [r1.infoHash]: makeCell({ state: 'stalled', percent: 0.3 }) }, { name: 'db-01', clients: ['Transmission 3.00', 'aria2 1.36.0'] }),
    makeFleetRow(3, { [r1.infoHash]: makeCell({ state: 'gone' }) }, { name: 'db-02' }),
    makeFleetRow(4, { [r1.infoHash]: makeCell({ state: 'picked-up' }) }, { name: 'cache-1' }),
    // Polls the feed, never announces: no cells from traffic at all, and a firewall hint.
    makeFleetRow(5, {}, { name: 'edge-1', clients: [], firewallHint: true, lastSeen: Date.now() - 20_000, lastFeedPoll: Date.now() - 20_000 }),
    // On the roster, never seen.
    makeFleetRow(6, {}, { name: '10.1.0.7', hostname: null, clients: [], expected: true, firstSeen: null, lastSeen: null, lastFeedPoll: null }),
  ]
}

function fleetApi(rows: FleetRow[] = fleet(), version = 10): FakeSwarmdropApi {
  const api = new FakeSwarmdropApi(makeSnapshot({ releases: [r2, r1, retired] }))
  api.handle('fleet.get', () => ({ version, rows }))
  return api
}

const bodyRows = (c: Element) => Array.from(c.querySelectorAll('.fleet-body [role="row"]'))
const order = (c: Element) => bodyRows(c).map((r) => r.querySelector('.server-name')?.textContent)
const row = (c: Element, ip: string) => c.querySelector(`.fleet-body [data-ip="${ip}"]`) as Element
const cell = (c: Element, ip: string, infoHash: string) => row(c, ip).querySelector(`.fleet-cell[data-release="${infoHash}"]`) as HTMLElement
const nextSecond = () => act(async () => new Promise((resolve) => setTimeout(resolve, 1100)))

describe('servers matrix', () => {
  test('rows are servers, columns the published releases (newest first), each cell a state with its colour', async () => {
    view = await mount(<App initialView="servers" />, fakeBackend(fleetApi()))
    const c = view.container
    assert.deepEqual(
      Array.from(c.querySelectorAll('.fleet-head [role="columnheader"]')).map((h) => text(h)),
      ['Server ↑', 'Clients', 'Last seen', 'Feed poll', 'app-2.4.1', 'app-2.4.0'],
      'the retired release has no column',
    )
    const states = (ip: string) => [cell(c, ip, r1.infoHash), cell(c, ip, r2.infoHash)].map((el) => `${el.dataset.state}:${text(el)}`)
    assert.deepEqual(states('10.1.0.1'), ['complete:Done', 'complete:Done'])
    assert.deepEqual(states('10.1.0.2'), ['downloading:42 %', 'complete:Done'])
    assert.deepEqual(states('10.1.0.3'), ['stalled:Stalled 30 %', 'polled:Polled'], 'a release the row has no cell for yet: polled, since it reads the feed')
    assert.deepEqual(states('10.1.0.4'), ['gone:Gone', 'polled:Polled'])
    assert.deepEqual(states('10.1.0.5'), ['picked-up:Picked up', 'polled:Polled'])
    assert.deepEqual(states('10.1.0.7'), ['not-seen:–', 'not-seen:–'])
    assert.equal(cell(c, '10.1.0.2', r1.infoHash).getAttribute('aria-label'), 'app-2.4.1: downloading it now, 42 %, 2.00 MiB/s')
    assert.equal((cell(c, '10.1.0.2', r1.infoHash).querySelector('.fleet-cell-fill') as HTMLElement).style.width, '42%')

    assert.equal(text(row(c, '10.1.0.3')), 'db-01 10.1.0.3 Transmission 3.00, aria2 1.36.0 1 min ago 1 min ago Stalled 30 % Polled')
    assert.equal(text(row(c, '10.1.0.7')), '10.1.0.7 – never never – –', 'a roster entry never seen: its IP once, "never"')
    const hint = row(c, '10.1.0.6').querySelector('.firewall-hint') as Element
    assert.equal(hint.getAttribute('title'), 'Polls the feed but never announces: open TCP+UDP 8080 and TCP 6881 from this server.')
    assert.match(text(row(c, '10.1.0.6')), /^edge-1 10\.1\.0\.6 Firewall : Polls the feed but never announces: open TCP\+UDP 8080 and TCP 6881 from this server\. – 20 s ago 20 s ago/)
    assert.equal(c.querySelectorAll('.firewall-hint').length, 1)
  })

  test('filters: not complete (for the selected release), never seen, firewall hint, each with its count', async () => {
    view = await mount(<App initialView="servers" />, fakeBackend(fleetApi()))
    const c = view.container
    assert.deepEqual(
      Array.from(c.querySelectorAll('[data-filter]')).map((b) => text(b)),
      ['All 7', 'Not complete 6', 'Never seen 1', 'Firewall hint 1'],
    )
    await click(button(c, /^Not complete/))
    assert.equal(button(c, /^Not complete/).getAttribute('aria-pressed'), 'true')
    assert.deepEqual(order(c), ['10.1.0.7', 'cache-1', 'db-01', 'db-02', 'edge-1', 'web-02.lan'])

    // Another release selected: "not complete" is about it now.
    const select = c.querySelector('.fleet-toolbar select') as HTMLSelectElement
    await act(async () => {
      select.value = r2.infoHash
      select.dispatchEvent(new window.Event('change', { bubbles: true }))
    })
    assert.deepEqual(order(c), ['10.1.0.7', 'cache-1', 'db-01', 'db-02', 'edge-1'])
    assert.equal(text(button(c, /^Not complete/)), 'Not complete 5')

    await click(button(c, /^Never seen/))
    assert.deepEqual(order(c), ['10.1.0.7'])
    await click(button(c, /^Firewall hint/))
    assert.deepEqual(order(c), ['edge-1'])
    await click(button(c, /^All/))
    assert.equal(bodyRows(c).length, 7)
  })

  test('sorting by name, last seen and % of a release; the header says how it is sorted', async () => {
    view = await mount(<App initialView="servers" />, fakeBackend(fleetApi()))
    const c = view.container
    const header = (b: Element) => b.closest('[role="columnheader"]')?.getAttribute('aria-sort')
    assert.deepEqual(order(c), ['10.1.0.7', 'cache-1', 'db-01', 'db-02', 'edge-1', 'web-01.lan', 'web-02.lan'])
    await click(button(c, /^Server( [↑↓])?$/))
    assert.equal(header(button(c, /^Server( [↑↓])?$/)), 'descending')
    assert.deepEqual(order(c)[0], 'web-02.lan')

    await click(button(c, /^Last seen/))
    assert.equal(header(button(c, /^Last seen/)), 'ascending')
    assert.deepEqual(order(c).slice(0, 2), ['10.1.0.7', 'web-02.lan'], 'never seen first, then the longest silent')

    const release = c.querySelector(`.release-head button[data-release="${r1.infoHash}"]`) as Element
    await click(release)
    assert.equal(header(release), 'ascending')
    assert.deepEqual(order(c), ['10.1.0.7', 'cache-1', 'db-02', 'edge-1', 'db-01', 'web-02.lan', 'web-01.lan'], 'furthest behind first, ties by name')
    await click(release)
    assert.equal(header(release), 'descending')
    assert.deepEqual(order(c).slice(0, 3), ['web-01.lan', 'web-02.lan', 'db-01'])
  })
})

describe('fleet deltas', () => {
  test('a fleet.changed delta replaces one row, once a second at most; stale and duplicate versions change nothing', async () => {
    const api = fleetApi()
    view = await mount(<App initialView="servers" />, fakeBackend(api))
    const c = view.container
    const untouched = row(c, '10.1.0.1')
    const before = fleet()[1] as FleetRow
    const moved = { ...before, version: 11, cells: { ...before.cells, [r1.infoHash]: makeCell({ state: 'downloading', percent: 0.9 }) } }

    await fromCore(() => api.emit('fleet.changed', { since: 10, version: 11, rows: [moved] }))
    assert.equal(text(cell(c, '10.1.0.2', r1.infoHash)), '42 %', 'held back: the first second is not over')
    await nextSecond()
    await settle()
    assert.equal(text(cell(c, '10.1.0.2', r1.infoHash)), '90 %')
    assert.equal(row(c, '10.1.0.1'), untouched, 'other rows are left alone')

    // An event the copy is already past (it raced fleet.get) is ignored.
    const old = { ...before, version: 9, cells: { [r1.infoHash]: makeCell({ state: 'gone' }) } }
    await fromCore(() => api.emit('fleet.changed', { since: 8, version: 9, rows: [old] }))
    const { fleet: copy } = view.context.dashboard.getState()
    assert.equal(copy.version, 11)
    assert.equal(copy.rows.get('10.1.0.2')?.cells[r1.infoHash]?.percent, 0.9)
    assert.equal(api.callsOf('fleet.get').length, 1)
    // A delta that starts past the copy means one was missed: the whole fleet is fetched again.
    await fromCore(() => api.emit('fleet.changed', { since: 15, version: 16, rows: [{ ...moved, version: 16 }] }))
    assert.equal(api.callsOf('fleet.get').length, 2, 'a gap in versions refetches')
  })

  test('rows: [] with a newer version makes the dashboard fetch the whole fleet again; a new server appears', async () => {
    let rows = fleet()
    const api = new FakeSwarmdropApi(makeSnapshot({ releases: [r1] }))
    let version = 10
    api.handle('fleet.get', () => ({ version, rows }))
    view = await mount(<App initialView="servers" />, fakeBackend(api))
    assert.equal(bodyRows(view.container).length, 7)
    rows = [...rows, makeFleetRow(7, {}, { name: 'new-1', version: 30 })]
    version = 30
    await fromCore(() => api.emit('fleet.changed', { since: 29, version: 30, rows: [] }))
    assert.equal(api.callsOf('fleet.get').length, 2)
    // The matrix shows it on its next second (the delta test above waits for that); the copy has it now.
    const { fleet: copy } = view.context.dashboard.getState()
    assert.equal(copy.version, 30)
    assert.equal(copy.rows.get('10.1.0.8')?.name, 'new-1')
    assert.equal(copy.rows.size, 8)
    // No refetch for an empty list the copy is already past.
    await fromCore(() => api.emit('fleet.changed', { since: 29, version: 30, rows: [] }))
    assert.equal(api.callsOf('fleet.get').length, 2)
  })

  test('changes that arrive while fleet.get is on its way are applied after it, by version', async () => {
    const api = new FakeSwarmdropApi(makeSnapshot({ releases: [r1] }))
    let answer: (value: { version: number; rows: FleetRow[] }) => void = () => {}
    api.handle('fleet.get', () => new Promise((resolve) => (answer = resolve)))
    view = await mount(<App initialView="servers" />, fakeBackend(api))
    assert.match(text(view.container), /Loading the fleet/)
    const base = makeFleetRow(0, { [r1.infoHash]: makeCell({ state: 'downloading', percent: 0.2 }) }, { version: 4 })
    const newer = { ...base, version: 12, cells: { [r1.infoHash]: makeCell({ state: 'complete', percent: 1 }) } }
    const older = { ...base, version: 3, cells: { [r1.infoHash]: makeCell({ state: 'gone' }) } }
    await fromCore(() => api.emit('fleet.changed', { since: 4, version: 5, rows: [older] }))
    await fromCore(() => api.emit('fleet.changed', { since: 5, version: 12, rows: [newer] }))
    await fromCore(() => answer({ version: 10, rows: [base] }))
    assert.equal(text(cell(view.container, base.ip, r1.infoHash)), 'Done')
    assert.equal(view.context.dashboard.getState().fleet.version, 12)
  })
})

describe('fleet errors', () => {
  test('a fleet that cannot be fetched is said in place, with a way to try again', async () => {
    const api = new FakeSwarmdropApi(makeSnapshot({ releases: [r1] }))
    api.fail('fleet.get', { code: 'NOT_RUNNING', message: 'Lost the connection to Swarmdrop.' })
    view = await mount(<App initialView="servers" />, fakeBackend(api))
    const c = view.container
    assert.equal(text(c.querySelector('.servers [role="alert"]') as Element), 'Cannot load the fleet Lost the connection to Swarmdrop. Try again')
    assert.equal(c.querySelector('.banner-error'), null, 'not a notice for the whole app')
    api.handle('fleet.get', () => ({ version: 1, rows: fleet() }))
    await click(button(c, 'Try again'))
    assert.equal(bodyRows(c).length, 7)
  })
})

describe('server page', () => {
  const timeline = (): TimelineEntry[] => {
    const t0 = Date.now() - 10 * MINUTE
    return [
      { at: t0, kind: 'fetched', infoHash: r1.infoHash, percent: null },
      { at: t0 + 1000, kind: 'started', infoHash: r1.infoHash, percent: 0 },
      { at: t0 + 60_000, kind: 'progress', infoHash: r1.infoHash, percent: 0.1 },
      { at: t0 + 120_000, kind: 'progress', infoHash: r1.infoHash, percent: 0.4 },
      { at: t0 + 400_000, kind: 'stalled', infoHash: r1.infoHash, percent: 0.4 },
    ]
  }

  test("a server's page says how long each release took it, and how long a running download has run", async () => {
    const api = fleetApi()
    const rows = fleet()
    api.handle('fleet.server', ({ ip }) => ({ row: rows.find((r) => r.ip === ip) as FleetRow, timeline: [] }))
    view = await mount(<App initialView="servers" />, fakeBackend(api))
    const c = view.container
    await click(row(c, '10.1.0.2').querySelector('.server-name') as Element)
    const took = Array.from(c.querySelectorAll('.server-cells tbody tr')).map((tr) => [text(tr.querySelector('th') as Element), text(tr.querySelector('td:last-child') as Element)])
    assert.deepEqual(took, [
      ['app-2.4.1', '30 s so far'],
      ['app-2.4.0', '1 min 33 s'],
    ])
    assert.match((c.querySelector('.server-cells tbody tr:last-child td:last-child') as HTMLElement).title, /^Started /)
  })

  test('clicking a row opens its page: facts, firewall hint, cells, percent over time and the timeline; rename sends the name', async () => {
    const api = fleetApi()
    const rows = fleet()
    api.handle('fleet.server', ({ ip }) => ({ row: rows.find((r) => r.ip === ip) as FleetRow, timeline: timeline() }))
    api.handle('fleet.rename', ({ ip, name }) => ({ ...(rows.find((r) => r.ip === ip) as FleetRow), name: name ?? 'db-01', version: 50 }))
    view = await mount(<App initialView="servers" />, fakeBackend(api))
    const c = view.container
    await click(row(c, '10.1.0.3').querySelector('.server-name') as Element)
    assert.deepEqual(api.callsOf('fleet.server'), [{ ip: '10.1.0.3' }])
    assert.equal(text(c.querySelector('h2') as Element), 'db-01')
    assert.match(text(c.querySelector('.facts') as Element), /Clients Transmission 3\.00, aria2 1\.36\.0 .*Last seen 1 min ago Last feed poll 1 min ago/)

    const cells = Array.from(c.querySelectorAll('.server-cells tbody tr'))
    assert.deepEqual(
      cells.map((tr) => [text(tr.querySelector('th') as Element), (tr.querySelector('.fleet-cell') as HTMLElement).dataset.state]),
      [
        ['app-2.4.1', 'stalled'],
        ['app-2.4.0', 'polled'],
      ],
    )
    const curve = cells[0]?.querySelector('svg.progress-curve polyline')
    assert.ok(curve, 'percent over time is drawn for the release with progress')
    assert.equal(cells[1]?.querySelector('svg'), null)

    const kinds = Array.from(c.querySelectorAll('.timeline li')).map((li) => `${li.getAttribute('data-kind')}|${text(li.querySelector('.timeline-text') as Element)}`)
    assert.deepEqual(kinds, [
      'polled|Polled the feed (latest poll)',
      'stalled|Stalled at 40 %',
      'progress|Reached 40 %',
      'progress|Reached 10 %',
      'started|Started downloading (at 0 %)',
      'fetched|Fetched the .torrent',
    ])

    await typeInto(byLabel(c, 'Name'), '  db-01 (old rack) ')
    await submit(byLabel(c, 'Name') as HTMLElement)
    assert.deepEqual(api.callsOf('fleet.rename'), [{ ip: '10.1.0.3', name: 'db-01 (old rack)' }])
    assert.equal(text(c.querySelector('h2') as Element), 'db-01 (old rack)')

    await typeInto(byLabel(c, 'Name'), '')
    await submit(byLabel(c, 'Name') as HTMLElement)
    assert.deepEqual(api.callsOf('fleet.rename')[1], { ip: '10.1.0.3', name: null }, 'empty goes back to the automatic name')

    await click(button(c, 'Back to servers'))
    assert.ok(c.querySelector('.fleet-table'))
  })

  test('a server with the firewall hint says which ports to open', async () => {
    const api = fleetApi()
    const rows = fleet()
    api.handle('fleet.server', ({ ip }) => ({ row: rows.find((r) => r.ip === ip) as FleetRow, timeline: [] }))
    view = await mount(<App initialView="servers" />, fakeBackend(api))
    await click(row(view.container, '10.1.0.6'))
    assert.equal(text(view.container.querySelector('.firewall-warning') as Element), 'Polls the feed but never announces: open TCP+UDP 8080 and TCP 6881 from this server.')
  })
})

describe('roster editor', () => {
  test('sends the pasted list (lines or commas, each once) and names what did not resolve', async () => {
    const api = fleetApi()
    api.handle('fleet.roster.set', ({ servers }) => ({ expected: servers.length - 1, unresolved: ['web-04.lan'] }))
    view = await mount(<App initialView="servers" />, fakeBackend(api))
    const c = view.container
    const box = byLabel(c, 'Expected servers')
    assert.equal(box.value, '10.1.0.1\n10.1.0.2\n10.1.0.7', 'starts from the current roster')
    await typeInto(box, '10.0.0.21\nweb-03.lan, web-04.lan\n\n10.0.0.21,WEB-03.lan ')
    assert.match(text(c.querySelector('.roster-actions') as Element), /^3 entries Save roster$/)
    await submit(box as HTMLElement)
    assert.deepEqual(api.callsOf('fleet.roster.set'), [{ servers: ['10.0.0.21', 'web-03.lan', 'web-04.lan'] }])
    assert.equal(text(c.querySelector('.roster-outcome') as Element), '2 servers on the roster.')
    assert.match(text(c.querySelector('.unresolved') as Element), /^This name did not resolve, so it is not on the roster: web-04\.lan/)
    assert.equal(box.value, '10.0.0.21\nweb-03.lan, web-04.lan\n\n10.0.0.21,WEB-03.lan ', 'what was typed stays')
  })
})

describe('a large fleet', () => {
  test('5,000 servers × 20 releases: only the rows in view are in the DOM, and scrolling moves the window', async () => {
    const releases = Array.from({ length: 20 }, (_, i) => makeRelease(100 + i, { name: `rel-${i}`, createdAt: new Date(Date.UTC(2025, 0, 1 + i)).toISOString() }))
    const states = ['complete', 'downloading', 'stalled', 'gone', 'picked-up', 'polled', 'not-seen'] as const
    const rows = Array.from({ length: 5000 }, (_, i) => {
      const cells: Record<string, ReturnType<typeof makeCell>> = {}
      releases.forEach((r, j) => (cells[r.infoHash] = makeCell({ state: states[(i + j) % states.length], percent: ((i * 7 + j) % 100) / 100 })))
      return makeFleetRow(i, cells, { name: `srv-${String(i).padStart(4, '0')}` })
    })
    const api = new FakeSwarmdropApi(makeSnapshot({ releases }))
    api.handle('fleet.get', () => ({ version: 5000, rows }))
    const started = Date.now()
    view = await mount(<App initialView="servers" />, fakeBackend(api))
    const c = view.container
    assert.ok(Date.now() - started < 5000, `mounting took ${Date.now() - started} ms`)
    assert.equal(c.querySelector('.fleet-table')?.getAttribute('aria-rowcount'), '5001')
    const rendered = bodyRows(c)
    assert.ok(rendered.length > 10 && rendered.length < 40, `expected a window of rows, got ${rendered.length}`)
    assert.equal(c.querySelectorAll('.fleet-body .fleet-cell').length, rendered.length * 20)
    assert.equal((c.querySelector('.fleet-spacer') as HTMLElement).style.height, `${5000 * FLEET_ROW_HEIGHT}px`)

    const body = c.querySelector('.fleet-body') as HTMLElement
    await act(async () => {
      body.scrollTop = 2500 * FLEET_ROW_HEIGHT
      body.dispatchEvent(new window.Event('scroll'))
    })
    const later = bodyRows(c)
    assert.ok(later.length < 40)
    assert.ok(later.some((r) => text(r.querySelector('.server-name') as Element) === 'srv-2500'), 'row 2,500 is rendered after scrolling')
    assert.ok(!later.some((r) => text(r.querySelector('.server-name') as Element) === 'srv-0000'), 'row 0 is gone')
  })
})

describe('release rollout', () => {
  const rolloutSnapshot = (rollout: ReturnType<typeof makeRollout>) => makeSnapshot({ releases: [r1], rollouts: [rollout] })

  test('the release page shows the share of expected servers updated and the ones still missing it', async () => {
    const api = new FakeSwarmdropApi(rolloutSnapshot(makeRollout(r1.infoHash, { complete: 2, expected: 3, expectedComplete: 1, firstCompletionMs: 45_000, medianCompletionMs: 45_000, lastCompletionMs: 192_000, uploadedCopies: 1.5 })))
    const rows = fleet()
    api.handle('fleet.get', () => ({ version: 10, rows }))
    api.handle('fleet.server', ({ ip }) => ({ row: rows.find((r) => r.ip === ip) as FleetRow, timeline: [] }))
    view = await mount(<App initialView="releases" />, fakeBackend(api))
    const c = view.container
    await click(button(c, 'app-2.4.1'))
    const rollout = c.querySelector('[data-testid="rollout"]') as Element
    assert.equal(rollout.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow'), '33')
    assert.equal(text(rollout.querySelector('.rollout-summary') as Element), '33 % of servers updated: 1 of 3 expected servers, plus 1 server not on the roster.')
    assert.equal(text(rollout.querySelector('.rollout-facts') as Element), 'Completions after publishing: first after 45 s, median 45 s, last after 3 min 12 s. Uploaded 1.50 copies from this machine.')
    assert.deepEqual(
      Array.from(rollout.querySelectorAll('.missing-list li')).map((li) => text(li)),
      ['10.1.0.7 Not seen', 'web-02.lan 10.1.0.2 42 %'],
    )
    await click(button(rollout, 'web-02.lan'))
    assert.equal(text(c.querySelector('.tab[aria-current="page"]') as Element), 'Servers 7')
    assert.equal(text(c.querySelector('h2') as Element), 'web-02.lan')
  })

  test('without a roster: how many servers have it, and no fleet is fetched for it', async () => {
    const api = new FakeSwarmdropApi(rolloutSnapshot(makeRollout(r1.infoHash, { complete: 4 })))
    view = await mount(<App initialView="releases" />, fakeBackend(api))
    await click(button(view.container, 'app-2.4.1'))
    const rollout = view.container.querySelector('[data-testid="rollout"]') as Element
    assert.equal(rollout.querySelector('[role="progressbar"]'), null)
    assert.match(text(rollout), /^Servers updated 4 servers have it\. No roster of expected servers yet/)
    assert.equal(api.callsOf('fleet.get').length, 0)
  })

  test('"rollout complete" events become a notice', async () => {
    const api = new FakeSwarmdropApi()
    view = await mount(<App />, fakeBackend(api))
    await fromCore(() => api.emit('release.rolloutComplete', { infoHash: r1.infoHash, name: 'app-2.4.1', servers: 20, tookMs: 192_000 }))
    assert.equal(text(view.container.querySelector('.banner-info span') as Element), 'app-2.4.1 reached all 20 servers in 3 min 12 s.')
  })
})
