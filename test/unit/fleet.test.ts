/**
 * The fleet model: the five signals of a server's own client, combined per server and release,
 * with a clock the test moves. Completion from the wire alone (rTorrent never announces it),
 * IPv4-mapped addresses meeting under one key, stalls, servers that stop early, the firewall hint,
 * the rollout summary, history that survives a restart, and only changed rows at 5,000 servers.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FleetModel, STALL_AFTER_MS, clientOfUserAgent, type AnnounceSignal } from '../../electron/engine/fleet.js'

const MiB = 1024 * 1024
const A = 'a'.repeat(40)
const B = 'b'.repeat(40)
const T0 = Date.parse('2026-11-30T10:00:00Z')

function clock(): { now: () => number; advance(ms: number): void } {
  let t = T0
  return { now: () => t, advance: (ms) => void (t += ms) }
}

/** qBittorrent 4.5.2's peer id prefix, as hex with the random tail. */
const QBT = Buffer.concat([Buffer.from('-qB4520-'), Buffer.alloc(12, 1)]).toString('hex')
const RTORRENT = Buffer.concat([Buffer.from('-lt0D80-'), Buffer.alloc(12, 2)]).toString('hex')

function announce(ip: string, infoHash: string, left: number, event: AnnounceSignal['event'] = 'update', downloaded = 0): AnnounceSignal {
  return { infoHash, ip, port: 51413, peerId: QBT, event, left, downloaded }
}

function fleet(): { model: FleetModel; clock: ReturnType<typeof clock> } {
  const c = clock()
  const model = new FleetModel(c.now)
  model.setReleases([
    { infoHash: A, totalSize: 100 * MiB, publishedAt: T0 },
    { infoHash: B, totalSize: 10 * MiB, publishedAt: T0 },
  ])
  return { model, clock: c }
}

const cell = (model: FleetModel, ip: string, infoHash: string) => model.rows().find((r) => r.ip === ip)?.cells[infoHash]

test('a server goes polled → picked up → downloading → complete, named by its client', () => {
  const { model, clock } = fleet()
  model.feedPolled('10.0.0.11', 'qBittorrent/4.5.2')
  assert.equal(cell(model, '10.0.0.11', A)?.state, 'polled')
  assert.equal(model.rows()[0]?.firewallHint, true, 'polls the feed, never announced yet')
  clock.advance(1000)
  model.torrentFetched('10.0.0.11', A, 'qBittorrent/4.5.2')
  assert.equal(cell(model, '10.0.0.11', A)?.state, 'picked-up')
  assert.equal(cell(model, '10.0.0.11', B)?.state, 'polled')
  assert.equal(cell(model, '10.0.0.11', A)?.startedAt, null, 'fetching the .torrent is not downloading yet')
  model.announced(announce('10.0.0.11', A, 60 * MiB, 'started'))
  assert.equal(cell(model, '10.0.0.11', A)?.startedAt, T0 + 1000, 'its first announce with bytes left starts its download')
  assert.deepEqual({ state: cell(model, '10.0.0.11', A)?.state, percent: cell(model, '10.0.0.11', A)?.percent }, { state: 'downloading', percent: 0.4 })
  assert.equal(model.rows()[0]?.firewallHint, false)
  clock.advance(30_000)
  model.announced(announce('10.0.0.11', A, 0, 'completed', 100 * MiB))
  const done = cell(model, '10.0.0.11', A)
  assert.equal(done?.state, 'complete')
  assert.equal(done?.completedAt, T0 + 31_000)
  assert.equal(done?.startedAt, T0 + 1000, 'completion keeps the start: the download took 30 s')
  assert.deepEqual(model.rows()[0]?.clients, ['qBittorrent 4.5.2'])
  assert.deepEqual(
    model.timeline('10.0.0.11').map((e) => e.kind),
    ['polled', 'fetched', 'started', 'progress', 'completed'],
  )
})

test('rTorrent: completion from the wire alone, and an IPv4-mapped wire meets the announce under one key', () => {
  const { model } = fleet()
  model.announced({ ...announce('10.0.0.14', A, 100 * MiB, 'started'), peerId: RTORRENT })
  model.wires(A, [{ ip: '::ffff:10.0.0.14', peerId: RTORRENT, progress: 0.5, rate: 4 * MiB, uploaded: 50 * MiB, wire: 1 }])
  assert.equal(model.rows().length, 1, 'one server, not two')
  assert.deepEqual({ state: cell(model, '10.0.0.14', A)?.state, percent: cell(model, '10.0.0.14', A)?.percent, rate: cell(model, '10.0.0.14', A)?.rate }, { state: 'downloading', percent: 0.5, rate: 4 * MiB })
  model.wires(A, [{ ip: '::ffff:10.0.0.14', peerId: RTORRENT, progress: 1, rate: 0, uploaded: 100 * MiB, wire: 1, closed: true }])
  assert.equal(cell(model, '10.0.0.14', A)?.state, 'complete', 'no "completed" announce needed')
  assert.equal(cell(model, '10.0.0.14', A)?.fromPublisher, 100 * MiB)
})

test('rTorrent completing silently: what the publisher did not send came from other servers', () => {
  const { model } = fleet()
  // Its one announce ("started") says it downloaded nothing; it then sends no HAVEs to a peer it
  // takes for a seed, so the last wire progress seen is 30 %.
  model.announced({ ...announce('10.0.0.14', A, 100 * MiB, 'started'), peerId: RTORRENT })
  model.wires(A, [{ ip: '10.0.0.14', peerId: RTORRENT, progress: 0.3, rate: 4 * MiB, uploaded: 20 * MiB, wire: 1 }])
  model.wires(A, [{ ip: '10.0.0.14', peerId: RTORRENT, progress: 1, rate: 0, uploaded: 35 * MiB, wire: 1, closed: true }])
  const done = cell(model, '10.0.0.14', A)
  assert.deepEqual({ state: done?.state, fromPublisher: done?.fromPublisher, fromOthers: done?.fromOthers }, { state: 'complete', fromPublisher: 35 * MiB, fromOthers: 65 * MiB })
  // Its "stopped" announce later, with a session counter that missed the start, lowers nothing.
  model.announced({ ...announce('10.0.0.14', A, 0, 'stopped', 50 * MiB), peerId: RTORRENT })
  assert.equal(cell(model, '10.0.0.14', A)?.fromOthers, 65 * MiB)
})

test('bytes from the publisher and from other servers; a web-seed reader is downloading', () => {
  const { model } = fleet()
  model.wires(A, [{ ip: '10.0.0.12', peerId: QBT, progress: 0.2, rate: 1, uploaded: 20 * MiB, wire: 1 }])
  // The wire dropped (its last word: 22 MiB) and came back as a new one, whose counter starts at 0.
  model.wires(A, [{ ip: '10.0.0.12', peerId: QBT, progress: 0.22, rate: 0, uploaded: 22 * MiB, wire: 1, closed: true }])
  model.wires(A, [{ ip: '10.0.0.12', peerId: QBT, progress: 0.3, rate: 1, uploaded: 5 * MiB, wire: 2 }])
  model.wires(A, [{ ip: '10.0.0.12', peerId: QBT, progress: 0.4, rate: 1, uploaded: 10 * MiB, wire: 2 }])
  model.announced(announce('10.0.0.12', A, 60 * MiB, 'update', 40 * MiB))
  assert.equal(cell(model, '10.0.0.12', A)?.fromPublisher, 32 * MiB)
  assert.equal(cell(model, '10.0.0.12', A)?.fromOthers, 8 * MiB)
  // Two wires from one server at once (it dialed us while we dialed it), one closing first: each
  // byte is counted once (the sum of the two dropping would otherwise look like a reconnect).
  model.wires(A, [
    { ip: '10.0.0.15', peerId: QBT, progress: 0.1, rate: 1, uploaded: 6 * MiB, wire: 3 },
    { ip: '10.0.0.15', peerId: QBT, progress: 0.1, rate: 1, uploaded: 4 * MiB, wire: 4 },
  ])
  model.wires(A, [{ ip: '10.0.0.15', peerId: QBT, progress: 0.1, rate: 0, uploaded: 4 * MiB, wire: 4, closed: true }])
  model.wires(A, [{ ip: '10.0.0.15', peerId: QBT, progress: 0.2, rate: 1, uploaded: 9 * MiB, wire: 3 }])
  assert.equal(cell(model, '10.0.0.15', A)?.fromPublisher, 13 * MiB)
  model.webSeedServed('10.0.0.13', B, 4 * MiB)
  assert.deepEqual({ state: cell(model, '10.0.0.13', B)?.state, fromPublisher: cell(model, '10.0.0.13', B)?.fromPublisher }, { state: 'downloading', fromPublisher: 4 * MiB })
})

test('stalled after a while with no progress; gone when it stops before completing', () => {
  const { model, clock } = fleet()
  model.announced(announce('10.0.0.11', A, 50 * MiB, 'started'))
  clock.advance(STALL_AFTER_MS - 1000)
  model.tick()
  assert.equal(cell(model, '10.0.0.11', A)?.state, 'downloading')
  clock.advance(2000)
  model.tick()
  assert.equal(cell(model, '10.0.0.11', A)?.state, 'stalled')
  model.announced(announce('10.0.0.11', A, 40 * MiB))
  assert.equal(cell(model, '10.0.0.11', A)?.state, 'downloading', 'progress again clears the stall')
  model.announced(announce('10.0.0.11', A, 40 * MiB, 'stopped'))
  assert.equal(cell(model, '10.0.0.11', A)?.state, 'gone')
  // aria2 --seed-time=0: straight to "stopped" with nothing left is a completion, not "gone".
  model.announced(announce('10.0.0.12', A, 10 * MiB, 'started'))
  model.announced(announce('10.0.0.12', A, 0, 'stopped'))
  assert.equal(cell(model, '10.0.0.12', A)?.state, 'complete')
})

test('the roster: listed servers never seen show as such; the rollout summary counts them', () => {
  const { model, clock } = fleet()
  model.setRoster([
    { ip: '10.0.0.11', name: null },
    { ip: '10.0.0.12', name: 'db-01' },
    { ip: '10.0.0.19', name: null },
  ])
  const never = model.rows().find((r) => r.ip === '10.0.0.19')
  assert.deepEqual({ expected: never?.expected, state: never?.cells[A]?.state, lastSeen: never?.lastSeen }, { expected: true, state: 'not-seen', lastSeen: null })
  assert.equal(model.rows().find((r) => r.ip === '10.0.0.12')?.name, 'db-01')
  clock.advance(10_000)
  model.announced(announce('10.0.0.11', A, 0, 'completed'))
  clock.advance(20_000)
  model.announced(announce('10.0.0.12', A, 0, 'completed'))
  clock.advance(5_000)
  model.announced(announce('10.0.0.50', A, 0, 'completed'))
  assert.deepEqual(model.summary(A, 150 * MiB), {
    infoHash: A,
    complete: 3,
    expected: 3,
    expectedComplete: 2,
    firstCompletionMs: 10_000,
    medianCompletionMs: 30_000,
    lastCompletionMs: 35_000,
    uploadedCopies: 1.5,
  })
  // What the web seed sent left the publisher too: it counts towards the copies uploaded.
  model.webSeedServed('10.0.0.11', A, 25 * MiB)
  assert.equal(model.summary(A, 150 * MiB)?.uploadedCopies, 1.75)
})

test('history survives a restart: completions, first and last seen, names and the roster', () => {
  const { model, clock } = fleet()
  model.setRoster([{ ip: '10.0.0.11', name: 'web-01' }])
  model.feedPolled('10.0.0.11', 'Transmission/3.00')
  clock.advance(5000)
  model.announced(announce('10.0.0.11', A, 0, 'completed'))
  // Its peer id tells its wire from other clients' on one host (loopback); a finished server is
  // not one to dial back.
  assert.deepEqual(model.knownPeers(A).map((p) => [p.ip, p.port, typeof p.peerId]), [['10.0.0.11', 51413, 'string']])
  assert.deepEqual(model.knownPeers(A, true), [])
  const saved = JSON.parse(JSON.stringify(model.toJSON())) as ReturnType<FleetModel['toJSON']>
  const { model: again } = fleet()
  again.restore(saved)
  const row = again.rows()[0]
  assert.deepEqual(
    { name: row?.name, expected: row?.expected, state: row?.cells[A]?.state, completedAt: row?.cells[A]?.completedAt, firstSeen: row?.firstSeen, clients: row?.clients },
    { name: 'web-01', expected: true, state: 'complete', completedAt: T0 + 5000, firstSeen: T0, clients: ['Transmission 3.00', 'qBittorrent 4.5.2'] },
  )
  // Where its client listens, so a restarted publisher can dial it before its next announce.
  assert.deepEqual(again.knownPeers(A), [{ ip: '10.0.0.11', port: 51413 }])
  assert.equal(again.rows()[0]?.firewallHint, false, 'it announced before the restart')
})

test('5,000 servers × 20 releases: every one is kept, and a change sends one row, not the matrix', () => {
  const c = clock()
  const model = new FleetModel(c.now)
  const releases = Array.from({ length: 20 }, (_, i) => ({ infoHash: i.toString(16).padStart(40, '0'), totalSize: 100 * MiB, publishedAt: T0 }))
  model.setReleases(releases)
  for (let s = 0; s < 5000; s++) {
    const ip = `10.${(s >> 8) & 255}.${s & 255}.1`
    for (const r of releases) model.announced(announce(ip, r.infoHash, (s % 100) * MiB, 'started'))
  }
  const all = model.rows()
  assert.equal(all.length, 5000)
  assert.ok(all.every((r) => Object.keys(r.cells).length === 20))
  const version = model.currentVersion
  model.announced(announce('10.0.7.1', (releases[3] as { infoHash: string }).infoHash, 0, 'completed'))
  const delta = model.changedSince(version)
  assert.deepEqual(delta.map((r) => r.ip), ['10.0.7.1'])
  const bytes = JSON.stringify(delta).length
  assert.ok(bytes < 8000, `one changed row is ${bytes} bytes`)
})

test('user agents name the client', () => {
  assert.equal(clientOfUserAgent('qBittorrent/4.5.2'), 'qBittorrent 4.5.2')
  assert.equal(clientOfUserAgent('Transmission/3.00'), 'Transmission 3.00')
  assert.equal(clientOfUserAgent('aria2/1.36.0'), 'aria2 1.36.0')
  assert.equal(clientOfUserAgent('rtorrent/0.9.8/0.13.8'), 'rTorrent 0.9.8')
  assert.equal(clientOfUserAgent('curl'), null)
})
