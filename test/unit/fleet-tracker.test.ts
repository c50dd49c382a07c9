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
