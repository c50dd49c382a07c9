import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { inflateSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import type { PeerInfo, ReleaseState, ReleaseSummary, RolloutSummary, Snapshot, SwarmStats } from '../../shared/contract.js'
import { startingTrayModel, TRAY_ICON_STATES, trayIconFileName, trayModel, type TrayMenuItem } from '../../electron/shell/tray-state.js'

const ASSETS = fileURLToPath(new URL('../../../assets/', import.meta.url))

function release(name: string, state: ReleaseState, n: number): ReleaseSummary {
  const infoHash = n.toString(16).padStart(40, '0')
  return {
    infoHash,
    name,
    channel: 'stable',
    comment: null,
    private: true,
    state,
    error: state === 'error' ? { code: 'PATH_UNREADABLE', message: `Cannot read /srv/updates/${name}: permission denied. Fix its permissions and resume the release.` } : null,
    totalSize: 734_003_200,
    pieceLength: 524_288,
    pieceCount: 1400,
    fileCount: 12,
    createdAt: '2025-11-25T07:00:00.000Z',
    torrentUrl: `http://192.168.1.20:8080/torrents/${infoHash}.torrent`,
    magnet: `magnet:?xt=urn:btih:${infoHash}`,
    webSeedUrl: null,
  }
}

function swarm(r: ReleaseSummary, uploadRate: number, peers = 0): SwarmStats {
  return { infoHash: r.infoHash, peers, uploadRate, downloadRate: 0, uploaded: 0, distributedCopies: 1, availability: [1, 1, 1] }
}

function peer(r: ReleaseSummary, ip: string, progress: number, uploadRate = 0): PeerInfo {
  return {
    id: `${ip}:51413`,
    infoHash: r.infoHash,
    ip,
    port: 51413,
    hostname: null,
    client: 'qBittorrent',
    clientVersion: '4.5.2',
    progress,
    downloadRate: 0,
    uploadRate,
    transport: 'tcp',
  }
}

function snapshot(releases: ReleaseSummary[], swarms: SwarmStats[] = [], peers: PeerInfo[] = [], feedUrl = 'http://192.168.1.20:8080/feed.xml?key=k3y'): Snapshot {
  return {
    at: Date.now(),
    releases,
    damagedReleases: [],
    uploadLimitNow: { limit: 0, source: "normal" },
    watchFolders: [],
    rollouts: [],
    swarms,
    peers,
    settings: { address: null, httpPort: 8080, peerPort: 6881, feedKey: 'k3y', announceIntervalSeconds: 60, uploadLimit: 0, utp: true, peerConnectionsPerAddress: 32, hooks: { command: null, webhookUrl: null, timeoutSeconds: 10 }, retention: [], uploadSchedule: null, watchFolders: [], externalTracker: null },
    endpoints: { address: '192.168.1.20', httpPort: 8080, peerPort: 6881, feedUrl, channels: [], announceUrls: ['http://192.168.1.20:8080/announce'], dashboardUrl: null },
  }
}

function item(menu: TrayMenuItem[], id: string): Extract<TrayMenuItem, { type: 'item' }> {
  const found = menu.find((m) => m.type === 'item' && m.id === id)
  assert.ok(found && found.type === 'item', `menu has "${id}"`)
  return found
}

test('no releases: idle, zero counts, pause/resume disabled, feed URL copyable', () => {
  const model = trayModel(snapshot([]))
  assert.equal(model.icon, 'idle')
  assert.equal(model.tooltip, 'Swarmdrop: 0 releases seeding\n0 servers downloading\nUpload 0 B/s')
  assert.equal(item(model.menu, 'pause-all').enabled, false)
  assert.equal(item(model.menu, 'resume-all').enabled, false)
  assert.deepEqual(item(model.menu, 'copy-feed-url').action, { kind: 'copyFeedUrl', url: 'http://192.168.1.20:8080/feed.xml?key=k3y' })
  assert.deepEqual(
    model.menu.map((m) => (m.type === 'item' ? m.id : '-')),
    ['open', 'copy-feed-url', '-', 'pause-all', 'resume-all', '-', 'quit'],
  )
})

test('seeding with quiet swarms is "seeding", a busy swarm is "transferring"', () => {
  const a = release('app-1.2.3.tar', 'seeding', 1)
  const b = release('db-migrations-44', 'seeding', 2)
  const quiet = trayModel(snapshot([a, b], [swarm(a, 0), swarm(b, 300)], [peer(a, '10.0.0.11', 1)]))
  assert.equal(quiet.icon, 'seeding')
  assert.equal(quiet.counts.serversDownloading, 0)
  assert.match(quiet.tooltip, /^Swarmdrop: 2 releases seeding\n0 servers downloading\nUpload 300 B\/s$/)
  assert.equal(item(quiet.menu, 'pause-all').enabled, true)
  assert.deepEqual(item(quiet.menu, 'pause-all').action, { kind: 'command', command: 'releases.pauseAll' })

  // Three servers fetching two releases: one server appears in both swarms and counts once.
  const busy = trayModel(
    snapshot(
      [a, b],
      [swarm(a, 12.5 * 1024 * 1024, 2), swarm(b, 2 * 1024 * 1024, 2)],
      [peer(a, '10.0.0.11', 0.4), peer(a, '10.0.0.12', 0.9), peer(b, '10.0.0.12', 0.1), peer(b, '10.0.0.13', 0.05), peer(b, '10.0.0.14', 1)],
    ),
  )
  assert.equal(busy.icon, 'transferring')
  assert.equal(busy.counts.serversDownloading, 3)
  assert.equal(busy.tooltip, 'Swarmdrop: 2 releases seeding\n3 servers downloading\nUpload 14.5 MiB/s')
})

test('paused and retired releases: counted apart, retired swarms and peers ignored, resume enabled', () => {
  const live = release('app-1.2.4.tar', 'paused', 3)
  const old = release('app-1.0.0.tar', 'retired', 4)
  const model = trayModel(snapshot([live, old], [swarm(old, 50_000)], [peer(old, '10.0.0.20', 0.5)]))
  assert.equal(model.icon, 'idle')
  assert.deepEqual(model.counts, { seeding: 0, paused: 1, errored: 0, serversDownloading: 0, uploadRate: 0, downloadRate: 0 })
  assert.match(model.tooltip, /^Swarmdrop: 0 releases seeding, 1 paused\n/)
  assert.equal(item(model.menu, 'pause-all').enabled, false)
  assert.equal(item(model.menu, 'resume-all').enabled, true)
  assert.deepEqual(item(model.menu, 'resume-all').action, { kind: 'command', command: 'releases.resumeAll' })
})

test('an errored release wins over transfers and its message is in the tooltip', () => {
  const ok = release('app-1.2.3.tar', 'seeding', 5)
  const bad = release('kernel-6.12.deb', 'error', 6)
  const model = trayModel(snapshot([ok, bad], [swarm(ok, 5_000_000, 1)], [peer(ok, '10.0.0.11', 0.5)]))
  assert.equal(model.icon, 'error')
  assert.match(model.tooltip, /1 release failed: kernel-6\.12\.deb: Cannot read \/srv\/updates\/kernel-6\.12\.deb: permission denied\./)
  assert.match(model.tooltip, /1 server downloading/)
})

function rollout(r: ReleaseSummary, complete: number, expected = 0, expectedComplete = 0): RolloutSummary {
  return { infoHash: r.infoHash, complete, expected, expectedComplete, firstCompletionMs: null, medianCompletionMs: null, lastCompletionMs: null, uploadedCopies: 0 }
}

test('rollouts: one line per release, newest first, against the roster or as a count; at most three, retired ones left out', () => {
  const dated = (name: string, n: number, createdAt: string, state: ReleaseState = 'seeding') => ({ ...release(name, state, n), createdAt })
  const a = dated('app-2.4.0', 11, '2025-11-20T07:00:00.000Z')
  const b = dated('app-2.4.1', 12, '2025-11-25T07:00:00.000Z')
  const c = dated('tools-7', 13, '2025-11-22T07:00:00.000Z')
  const gone = dated('app-1.0.0', 14, '2025-12-01T07:00:00.000Z', 'retired')
  const snap = { ...snapshot([a, b, c, gone]), rollouts: [rollout(a, 20, 20, 20), rollout(b, 18, 20, 18), rollout(c, 7), rollout(gone, 3)] }
  assert.equal(trayModel(snap).tooltip, 'Swarmdrop: 3 releases seeding\n0 servers downloading\nUpload 0 B/s\napp-2.4.1: 18 of 20 servers\ntools-7: 7 servers\napp-2.4.0: 20 of 20 servers')

  const d = dated('db-45', 15, '2025-11-26T07:00:00.000Z')
  const more = trayModel({ ...snapshot([a, b, c, d]), rollouts: [rollout(a, 20, 20, 20), rollout(b, 1, 1, 1), rollout(c, 7), rollout(d, 0, 20, 0)] })
  assert.match(more.tooltip, /\nUpload 0 B\/s\ndb-45: 0 of 20 servers\napp-2\.4\.1: 1 of 1 server\ntools-7: 7 servers\nand 1 more release$/)
})

test('before the first snapshot, and with no feed URL: starting tooltip, copy disabled', () => {
  const starting = startingTrayModel()
  assert.equal(starting.icon, 'idle')
  assert.match(starting.tooltip, /starting/)
  assert.equal(item(starting.menu, 'copy-feed-url').enabled, false)
  assert.equal(item(trayModel(snapshot([], [], [], '')).menu, 'copy-feed-url').enabled, false)
  assert.equal(item(starting.menu, 'quit').enabled, true)
})

interface Png {
  width: number
  height: number
  colorType: number
  pixels: Buffer
}

/** Decodes the PNGs make-icons.mjs writes (RGBA, 8 bit, filter 0), checking the signature and chunk layout. */
function decodePng(buf: Buffer): Png {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature')
  let offset = 8
  let width = 0
  let height = 0
  let colorType = -1
  const idat: Buffer[] = []
  while (offset < buf.length) {
    const length = buf.readUInt32BE(offset)
    const type = buf.toString('ascii', offset + 4, offset + 8)
    const data = buf.subarray(offset + 8, offset + 8 + length)
    if (type === 'IHDR') {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      colorType = data[9] ?? -1
    } else if (type === 'IDAT') idat.push(data)
    offset += 12 + length
  }
  const raw = inflateSync(Buffer.concat(idat))
  const pixels = Buffer.alloc(width * height * 4)
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width * 4 + 1)], 0, 'filter type 0')
    raw.copy(pixels, y * width * 4, y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1))
  }
  return { width, height, colorType, pixels }
}

test('assets: every tray state has its PNG on every platform, with a @2x twice the size', async () => {
  const expectedSize: Record<string, number> = { darwin: 16, win32: 16, linux: 32 }
  for (const platform of ['darwin', 'win32', 'linux'] as const) {
    for (const state of TRAY_ICON_STATES) {
      const name = trayIconFileName(state, platform)
      const base = decodePng(await readFile(path.join(ASSETS, name)))
      const hidpi = decodePng(await readFile(path.join(ASSETS, name.replace(/\.png$/, '@2x.png'))))
      const size = expectedSize[platform] ?? 0
      assert.equal(base.width, size, name)
      assert.equal(base.height, size, name)
      assert.equal(hidpi.width, size * 2, `${name} @2x`)
      assert.equal(base.colorType, 6, `${name} is RGBA`)
      // Not blank: something is drawn, and the corners stay transparent.
      assert.ok(countOpaque(base) > size * size * 0.3, `${name} has a visible glyph`)
      assert.equal(base.pixels[3], 0, `${name} top-left corner is transparent`)
    }
  }
  const icon = decodePng(await readFile(path.join(ASSETS, 'icon.png')))
  assert.equal(icon.width, 512)
  assert.equal(icon.height, 512)
})

test('assets: macOS template images are pure black with alpha, and the four states differ', async () => {
  const seen = new Set<string>()
  for (const state of TRAY_ICON_STATES) {
    for (const name of [`tray-${state}Template.png`, `tray-${state}Template@2x.png`]) {
      const png = decodePng(await readFile(path.join(ASSETS, name)))
      for (let i = 0; i < png.pixels.length; i += 4) {
        if (png.pixels[i + 3] === 0) continue
        assert.deepEqual([png.pixels[i], png.pixels[i + 1], png.pixels[i + 2]], [0, 0, 0], `${name}: pixel ${i / 4} is not black`)
      }
      seen.add(png.pixels.toString('base64'))
    }
  }
  assert.equal(seen.size, TRAY_ICON_STATES.length * 2, 'each state has a distinct template glyph')
})

function countOpaque(png: Png): number {
  let n = 0
  for (let i = 3; i < png.pixels.length; i += 4) if ((png.pixels[i] ?? 0) > 128) n++
  return n
}
