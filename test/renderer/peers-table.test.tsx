import { afterEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { act } from 'react'
import { button, click, fakeBackend, fromCore, mount, settle, text, type Mounted } from './mount.js'
import { App } from '../../renderer/App.js'
import { ROW_HEIGHT } from '../../renderer/components/PeersTable.js'
import { FakeSwarmdropApi, makePeer, makeRelease, makeSnapshot, makeSwarm } from '../support/fake-api.js'

let view: Mounted | null = null
afterEach(async () => {
  await view?.unmount()
  view = null
})

const release = makeRelease(1)
const peers = (n: number, patch = {}) => Array.from({ length: n }, (_, i) => makePeer(i, release.infoHash, patch))
const snapshotWith = (n: number, patch = {}) =>
  makeSnapshot({ releases: [release], swarms: [makeSwarm(release.infoHash, { peers: n })], peers: peers(n, patch) })

const renderedRows = (c: Element) => c.querySelectorAll('.peers-body [role="row"]')

describe('peers table', () => {
  test('1,000 peers: only the rows in view are in the DOM, and scrolling moves the window', async () => {
    view = await mount(<App initialView="peers" />, fakeBackend(new FakeSwarmdropApi(snapshotWith(1000))))
    const table = view.container.querySelector('[role="table"]') as Element
    assert.equal(table.getAttribute('aria-rowcount'), '1001')
    const first = renderedRows(view.container)
    assert.ok(first.length > 10 && first.length < 40, `expected a window of rows, got ${first.length}`)
    assert.equal((view.container.querySelector('.peers-spacer') as HTMLElement).style.height, `${1000 * ROW_HEIGHT}px`)
    assert.equal(first[0]?.getAttribute('aria-rowindex'), '2')

    const body = view.container.querySelector('.peers-body') as HTMLElement
    await act(async () => {
      body.scrollTop = 500 * ROW_HEIGHT
      body.dispatchEvent(new window.Event('scroll'))
    })
    const later = Array.from(renderedRows(view.container))
    assert.ok(later.length < 40)
    const indices = later.map((r) => Number(r.getAttribute('aria-rowindex')))
    assert.ok(indices.includes(502), `row 500 is rendered after scrolling (got ${indices[0]}..${indices[indices.length - 1]})`)
    assert.ok(!indices.includes(2), 'row 0 is gone after scrolling')
  })

  test('a row shows the peer, client name and version, progress, rates and transport', async () => {
    const peer = makePeer(0, release.infoHash, {
      ip: '10.0.0.21',
      port: 51413,
      hostname: 'web-03.lan',
      client: 'aria2',
      clientVersion: '1.36.0',
      progress: 0.425,
      downloadRate: 2.5 * 1024 * 1024,
      uploadRate: 100 * 1024,
      transport: 'utp',
    })
    const api = new FakeSwarmdropApi(makeSnapshot({ releases: [release], peers: [peer] }))
    view = await mount(<App initialView="peers" />, fakeBackend(api))
    const rows = renderedRows(view.container)
    assert.equal(rows.length, 1)
    assert.equal(text(rows[0] as Element), 'web-03.lan aria2 1.36.0 42.5 % 2.50 MiB/s 100 KiB/s uTP')
    assert.equal(rows[0]?.querySelector('.cell-peer')?.getAttribute('title'), '10.0.0.21:51413')
  })

  test('updates are applied at most once a second', async () => {
    const api = new FakeSwarmdropApi(snapshotWith(3, { progress: 0.1 }))
    view = await mount(<App initialView="peers" />, fakeBackend(api))
    const percents = () => Array.from(view?.container.querySelectorAll('.peers-body .percent') ?? []).map((e) => text(e))
    assert.deepEqual(percents(), ['10.0 %', '10.0 %', '10.0 %'])
    // A burst: the core promises one snapshot a second, the table holds to it even if a transport bunches them.
    await fromCore(() => api.push(snapshotWith(3, { progress: 0.2 })))
    await fromCore(() => api.push(snapshotWith(3, { progress: 0.3 })))
    assert.deepEqual(percents(), ['10.0 %', '10.0 %', '10.0 %'])
    await act(async () => new Promise((resolve) => setTimeout(resolve, 1100)))
    await settle()
    assert.deepEqual(percents(), ['30.0 %', '30.0 %', '30.0 %'], 'the latest snapshot wins, nothing in between')
  })

  test('sorting by a column header; the header says how it is sorted', async () => {
    view = await mount(<App initialView="peers" />, fakeBackend(new FakeSwarmdropApi(snapshotWith(20))))
    await click(button(view.container, 'Progress'))
    const header = button(view.container, /^Progress/).closest('[role="columnheader"]')
    assert.equal(header?.getAttribute('aria-sort'), 'descending')
    const first = renderedRows(view.container)[0] as Element
    assert.match(text(first), /19\.0 %/)
  })

  test('an empty swarm says what will appear there', async () => {
    view = await mount(<App initialView="peers" />, fakeBackend(new FakeSwarmdropApi()))
    assert.match(text(view.container.querySelector('.peers-body') as Element), /No peers connected\. Servers appear here once/)
  })
})

describe('peers that leave', () => {
  const at = (s: number) => 1_700_000_000_000 + s * 1000
  const withPeers = (s: number, list: ReturnType<typeof makePeer>[]) => makeSnapshot({ at: at(s), releases: [release], peers: list })

  test('a peer that hangs up stays for a minute as "Left", and as 100 % "Done" once the core says it completed', async () => {
    const aria = makePeer(2, release.infoHash, { progress: 0.8, downloadRate: 9e6 })
    const other = makePeer(3, release.infoHash, { progress: 0.5 })
    const api = new FakeSwarmdropApi(withPeers(0, [aria, other]))
    view = await mount(<App initialView="peers" />, fakeBackend(api))
    const row = (id: string) => text(view?.container.querySelector(`[data-peer="${id}"]`) as Element)

    await act(async () => new Promise((resolve) => setTimeout(resolve, 1000)))
    await fromCore(() => api.push(withPeers(1, [other])))
    assert.match(row(aria.id), /80\.0 % 0 B\/s 0 B\/s Left$/)

    await act(async () => new Promise((resolve) => setTimeout(resolve, 1000)))
    await fromCore(() => api.emit('release.completedByServer', { infoHash: release.infoHash, name: release.name, ip: aria.ip, hostname: null }))
    assert.match(row(aria.id), /100 % 0 B\/s 0 B\/s Done$/)
    assert.match(row(other.id), /50\.0 % .* (TCP|uTP)$/, 'a connected peer keeps its own progress')

    await act(async () => new Promise((resolve) => setTimeout(resolve, 1000)))
    await fromCore(() => api.push(withPeers(62, [other])))
    assert.equal(view.container.querySelector(`[data-peer="${aria.id}"]`), null, 'gone after a minute')
  })
})
