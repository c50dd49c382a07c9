import { afterEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { button, click, fakeBackend, fromCore, mount, text, type Mounted } from './mount.js'
import { App } from '../../renderer/App.js'
import { FakeSwarmdropApi, makePeer, makeRelease, makeSnapshot, makeSwarm } from '../support/fake-api.js'
import { availabilityCells } from '../../shared/availability.js'

let view: Mounted | null = null
afterEach(async () => {
  await view?.unmount()
  view = null
})

const MiB = 1024 * 1024
// Eight pieces, so the eight availability cells below are one piece each.
const release = makeRelease(1, { name: 'app-2.4.1', pieceCount: 8, pieceLength: 8 * MiB })
const other = makeRelease(2, { name: 'other' })

function snapshotAt(second: number) {
  return makeSnapshot({
    at: 1_700_000_000_000 + second * 1000,
    releases: [release, other],
    swarms: [
      makeSwarm(release.infoHash, {
        peers: 2,
        uploadRate: second * MiB,
        downloadRate: 0,
        uploaded: 300 * MiB,
        distributedCopies: 2.5,
        availability: [0, 0, 1, 2, 2, 2, 1, 1],
      }),
      makeSwarm(other.infoHash),
    ],
    peers: [makePeer(1, release.infoHash), makePeer(2, release.infoHash), makePeer(3, other.infoHash)],
  })
}

describe('swarm detail', () => {
  test('opening a release shows its rate chart, availability bar, copies and only its peers', async () => {
    const api = new FakeSwarmdropApi(snapshotAt(0))
    view = await mount(<App initialView="releases" />, fakeBackend(api))
    for (let s = 1; s <= 5; s++) await fromCore(() => api.push(snapshotAt(s)))
    await click(button(view.container, 'app-2.4.1'))
    const c = view.container
    assert.match(text(c.querySelector('h2') as Element), /app-2\.4\.1/)
    assert.equal(text(c.querySelector('[data-testid="distributed-copies"]') as Element), '2.50')

    const up = c.querySelector('.rate-chart polyline.up')
    assert.ok(up, 'the upload series is drawn')
    assert.equal(up.getAttribute('points')?.split(' ').length, 6, 'one point per snapshot seen')
    assert.match(text(c.querySelector('.rate-chart figcaption') as Element), /Upload 5\.00 MiB\/s Download 0 B\/s/)

    const bar = c.querySelector('.availability') as Element
    assert.equal(bar.querySelectorAll('rect').length, 8)
    assert.equal(bar.querySelectorAll('rect.cell-missing').length, 2)
    assert.match(text(bar), /^2 of 8 pieces are only on the publisher$/)
    assert.equal(bar.querySelector('svg')?.getAttribute('aria-label'), 'Piece availability: 2 of 8 pieces are only on the publisher')

    assert.equal(c.querySelectorAll('.peers-body [role="row"]').length, 2, 'peers of other releases are not listed')

    await click(button(c, 'Back to releases'))
    assert.ok(c.querySelector('table.releases'))
  })

  test('with more pieces than cells, the bar and its sentence agree with the pieces a peer lacks', async () => {
    const big = makeRelease(3, { name: 'big-1.0', pieceCount: 1000 })
    const show = (counts: number[]) =>
      makeSnapshot({ releases: [big], swarms: [makeSwarm(big.infoHash, { peers: 1, availability: availabilityCells(counts) })], peers: [makePeer(1, big.infoHash)] })
    // One server at 50 %, holding the first half of the pieces.
    const api = new FakeSwarmdropApi(show(Array.from({ length: 1000 }, (_, i) => (i < 500 ? 1 : 0))))
    view = await mount(<App initialView="releases" />, fakeBackend(api))
    await click(button(view.container, 'big-1.0'))
    const bar = () => view?.container.querySelector('.availability') as Element
    assert.equal(bar().querySelectorAll('rect').length, 256)
    assert.equal(bar().querySelectorAll('rect.cell-missing').length, 128)
    assert.equal(text(bar()), '128 of 256 parts (up to 4 pieces each) include at least one piece only on the publisher')

    // The same 50 %, scattered the way rarest-first downloads are: no part is complete on the peer.
    await fromCore(() => api.push(show(Array.from({ length: 1000 }, (_, i) => i % 2))))
    assert.equal(bar().querySelectorAll('rect.cell-missing').length, 256)
    assert.equal(text(bar()), '256 of 256 parts (up to 4 pieces each) include at least one piece only on the publisher')

    // One piece still missing: its part, and only its part, is empty.
    const allButOne = new Array<number>(1000).fill(1)
    allButOne[501] = 0
    await fromCore(() => api.push(show(allButOne)))
    assert.equal(bar().querySelectorAll('rect.cell-missing').length, 1)
    assert.equal(text(bar()), '1 of 256 parts (up to 4 pieces each) includes at least one piece only on the publisher')

    await fromCore(() => api.push(show(new Array<number>(1000).fill(2))))
    assert.equal(bar().querySelectorAll('rect.cell-missing').length, 0)
    assert.equal(text(bar()), 'Every piece is on at least 2 peers')
  })

  test('the chart keeps at most five minutes of samples', async () => {
    const api = new FakeSwarmdropApi(snapshotAt(0))
    view = await mount(<App initialView="releases" />, fakeBackend(api))
    await fromCore(() => {
      for (let s = 1; s <= 320; s++) api.push(snapshotAt(s))
    })
    await click(button(view.container, 'app-2.4.1'))
    const points = view.container.querySelector('.rate-chart polyline.up')?.getAttribute('points')?.split(' ') ?? []
    assert.ok(points.length <= 301 && points.length >= 299, `got ${points.length} points`)
  })
})

describe('app shell', () => {
  test('the theme toggle cycles system, light and dark on <html data-theme>', async () => {
    view = await mount(<App />, fakeBackend(new FakeSwarmdropApi()))
    const html = document.documentElement
    assert.equal(html.dataset.theme, 'system')
    await click(button(view.container, /^◐ System$/))
    assert.equal(html.dataset.theme, 'light')
    await click(button(view.container, /^☀ Light$/))
    assert.equal(html.dataset.theme, 'dark')
    await click(button(view.container, /^☾ Dark$/))
    assert.equal(html.dataset.theme, 'system')
  })

  test('a core that cannot be reached is explained in words', async () => {
    const api = new FakeSwarmdropApi()
    api.fail('snapshot.get', { code: 'NOT_RUNNING', message: 'Lost the connection to Swarmdrop: connection closed (1006).' })
    view = await mount(<App />, fakeBackend(api))
    assert.match(text(view.container.querySelector('[role="alert"]') as Element), /^Lost the connection to Swarmdrop: connection closed \(1006\)\.$/)
  })

  test('"completed by a server" events become a notice', async () => {
    const api = new FakeSwarmdropApi()
    view = await mount(<App />, fakeBackend(api))
    await fromCore(() => api.emit('release.completedByServer', { infoHash: release.infoHash, name: 'app-2.4.1', ip: '10.0.0.21', hostname: 'web-03.lan' }))
    assert.match(text(view.container.querySelector('.banner-info') as Element), /web-03\.lan finished downloading app-2\.4\.1\./)
  })

  test('pause all asks first, then reports how many were paused', async () => {
    const api = new FakeSwarmdropApi(snapshotAt(0))
    api.handle('releases.pauseAll', () => ({ count: 2 }))
    view = await mount(<App />, fakeBackend(api))
    await click(button(view.container, 'Pause all'))
    assert.equal(api.callsOf('releases.pauseAll').length, 0)
    await click(button(view.container.querySelector('.topbar .confirm') as Element, 'Pause all'))
    assert.equal(api.callsOf('releases.pauseAll').length, 1)
    assert.match(text(view.container.querySelector('.banner-info') as Element), /Paused 2 releases\./)
  })
})
