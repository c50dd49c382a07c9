/**
 * The engine's side of the fleet: names from an injected resolver (a fake here, named as such:
 * tests never ask a real DNS server), the roster by host name, history saved and loaded, a
 * damaged history file never fatal, and only changed rows per tick, with `since`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { FleetTracker, type HostResolver } from '../../electron/engine/fleet-tracker.js'
import { tempDir } from '../support/temp.js'

const A = 'a'.repeat(40)

/** FAKE resolver: a fixed table instead of DNS. */
const fakeResolver: HostResolver = {
  reverse: async (ip) => ({ '10.0.0.11': 'web-01.lan', '10.0.0.12': 'web-02.lan' })[ip] ?? null,
  lookup: async (host) => ({ 'web-01.lan': '10.0.0.11', 'db-01.lan': '10.0.0.21' })[host] ?? null,
}

test('names, roster by host name, history across a restart, and deltas with since', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const lines: string[] = []
  const fleet = new FleetTracker({ dataDir: dir, resolver: fakeResolver, log: (l) => lines.push(l) })
  fleet.setReleases([{ infoHash: A, totalSize: 1000, publishedAt: Date.now() }])

  const roster = await fleet.setRoster(['web-01.lan', '10.0.0.12', 'db-01.lan', 'ghost.lan', ' '])
  assert.deepEqual(roster, { expected: 3, unresolved: ['ghost.lan'] })
  fleet.onRequest({ at: Date.now(), ip: '::ffff:10.0.0.12', method: 'GET', path: '/feed.xml', kind: 'feed', infoHash: null, status: 200, bytes: 900, userAgent: 'qBittorrent/4.5.2', range: null })
  fleet.onAnnounce({ infoHash: A, ip: '10.0.0.12', port: 6881, peerId: Buffer.from('-qB4520-aaaaaaaaaaaa').toString('hex'), event: 'completed', left: 0, downloaded: 1000 })
  await new Promise((resolve) => setTimeout(resolve, 20))

  const first = fleet.tick(() => [])
  assert.ok(first.changed)
  assert.equal(first.changed.since, 0)
  const rows = new Map(first.changed.rows.map((r) => [r.ip, r]))
  assert.equal(rows.get('10.0.0.11')?.name, 'web-01.lan', 'the roster name')
  assert.equal(rows.get('10.0.0.12')?.name, 'web-02.lan', 'from the (fake) reverse lookup')
  assert.equal(rows.get('10.0.0.12')?.cells[A]?.state, 'complete')
  assert.equal(rows.get('10.0.0.21')?.lastSeen, null, 'expected, never seen')
  // Nothing changed since: nothing to send.
  assert.equal(fleet.tick(() => []).changed, null)

  await fleet.close()
  const saved = JSON.parse(await readFile(path.join(dir, 'fleet.json'), 'utf8')) as { servers: { ip: string; completions: unknown[] }[] }
  assert.equal(saved.servers.find((s) => s.ip === '10.0.0.12')?.completions.length, 1)

  const again = new FleetTracker({ dataDir: dir, resolver: fakeResolver, log: (l) => lines.push(l) })
  await again.load()
  again.setReleases([{ infoHash: A, totalSize: 1000, publishedAt: Date.now() }])
  const { rows: restored } = again.rows()
  assert.equal(restored.find((r) => r.ip === '10.0.0.12')?.cells[A]?.state, 'complete')
  assert.equal(restored.filter((r) => r.expected).length, 3)

  // A damaged history is said in one line and replaced, never fatal.
  await writeFile(path.join(dir, 'fleet.json'), '{"version":1,"servers":[{"ip":')
  const fresh = new FleetTracker({ dataDir: dir, resolver: fakeResolver, log: (l) => lines.push(l) })
  await fresh.load()
  assert.deepEqual(fresh.rows().rows, [])
  assert.match(lines.at(-1) ?? '', /^error: the fleet history .*fleet\.json is damaged \(.*\); starting a new one$/)
})

test('stalls: reported once per server and release, after the injected stall time, and again once the release is forgotten', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  let now = 1_000_000
  const fleet = new FleetTracker({ dataDir: dir, resolver: fakeResolver, log: () => undefined, now: () => now, stallAfterMs: 10_000 })
  fleet.setReleases([{ infoHash: A, totalSize: 1000, publishedAt: now }])
  const announce = (ip: string, left: number): void =>
    fleet.onAnnounce({ infoHash: A, ip, port: 6881, peerId: Buffer.from('-qB4520-aaaaaaaaaaaa').toString('hex'), event: 'update', left, downloaded: 1000 - left })
  announce('10.0.0.11', 600)
  announce('10.0.0.12', 900)
  now += 10_000
  assert.deepEqual(fleet.tick(() => []).stalled, [], 'not before the stall time has passed')
  now += 1
  const first = fleet.tick(() => []).stalled
  assert.deepEqual(
    first.map((s) => [s.ip, s.infoHash, s.percent, s.stalledForMs]),
    [
      ['10.0.0.11', A, 0.4, 10_001],
      ['10.0.0.12', A, 0.1, 10_001],
    ],
  )
  // One moves on and stalls again: its cell turns stalled a second time, the report does not repeat.
  announce('10.0.0.11', 300)
  now += 10_001
  assert.deepEqual(fleet.tick(() => []).stalled, [])
  assert.equal(fleet.rows().rows.find((r) => r.ip === '10.0.0.11')?.cells[A]?.state, 'stalled')
  // A release retired and published again is a new rollout: its stalls count anew.
  fleet.forgetRelease(A)
  announce('10.0.0.11', 200)
  now += 10_001
  assert.deepEqual(fleet.tick(() => []).stalled.map((s) => s.ip), ['10.0.0.11'])
  await fleet.close()
})

test('a rollout complete before a restart is not reported again after it (hooks and notifications run once)', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const publishedAt = Date.now()
  const start = async (): Promise<FleetTracker> => {
    const fleet = new FleetTracker({ dataDir: dir, resolver: fakeResolver, log: () => undefined })
    await fleet.load()
    fleet.setReleases([{ infoHash: A, totalSize: 1000, publishedAt }])
    return fleet
  }
  const summaries = (fleet: FleetTracker) => () => [fleet.model.summary(A, 0)].filter((s) => s !== null)
  const first = await start()
  await first.setRoster(['10.0.0.12'])
  first.onAnnounce({ infoHash: A, ip: '10.0.0.12', port: 6881, peerId: Buffer.from('-qB4520-aaaaaaaaaaaa').toString('hex'), event: 'completed', left: 0, downloaded: 1000 })
  assert.deepEqual(first.tick(summaries(first)).completed.map((s) => s.infoHash), [A])
  assert.deepEqual(first.tick(summaries(first)).completed, [])
  await first.close()

  const second = await start()
  assert.equal(second.model.summary(A, 0)?.expectedComplete, 1, 'the completion came back from fleet.json')
  assert.deepEqual(second.tick(summaries(second)).completed, [], 'reported by the earlier run')
  // A rollout completed during this run is still reported: a second server joins the roster and completes.
  await second.setRoster(['10.0.0.12', '10.0.0.11'])
  second.forgetRelease(A)
  second.setReleases([{ infoHash: A, totalSize: 1000, publishedAt }])
  for (const ip of ['10.0.0.12', '10.0.0.11']) second.onAnnounce({ infoHash: A, ip, port: 6881, peerId: Buffer.from('-qB4520-aaaaaaaaaaaa').toString('hex'), event: 'completed', left: 0, downloaded: 1000 })
  assert.deepEqual(second.tick(summaries(second)).completed.map((s) => s.infoHash), [A])
  await second.close()
})
