/**
 * Fleet UI benchmark: the built dashboard's Servers tab in Debian Chromium with 5,000 servers ×
 * 20 releases, while a rollout runs. Once a second the page gets what the core sends on its one
 * timer: a "fleet.changed" delta with 200 changed rows (percents moving, some completing, some
 * starting, the rest feed polls), then a snapshot. Measured per update with Chrome's own counters
 * (CDP Performance.getMetrics ScriptDuration: main-thread JavaScript, i.e. JSON parse of both
 * messages, the store merge, React render and commit, the matrix's throttle timer) against the
 * 16 ms a frame has at 60 Hz, once on the default view (all servers by name) and once on
 * "Not complete" sorted by the newest release's percent. Also reported: matrix rows in the DOM and
 * the JSON sizes of one delta, of the "fleet.get" answer and of a snapshot (which holds no matrix,
 * so its size does not grow with the fleet).
 *
 * The core is replaced by a synthetic SwarmdropApi injected as `window.swarmdrop` (the preload's
 * slot): a benchmark driver, a stand-in for the core, since no fleet here has 5,000 servers. Its
 * rows have the shape electron/engine/fleet.ts builds (every row has a cell per release, versions
 * from one counter); the rollout itself is a seeded random model, not a recording.
 */
import { readdir, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CDPSession, Page } from 'playwright-core'
import type { Events, FleetCell, FleetRow, PeerInfo, ProgressState, ReleaseSummary, RolloutSummary, Snapshot, SwarmStats } from '../shared/contract.js'
import type { BenchResult } from './bench-result.js'
import { serveDashboard } from './dashboard-server.js'
import { median } from './measure.js'
import { launchChromium } from '../test/support/browser.js'

const DASHBOARD = fileURLToPath(new URL('../dashboard/', import.meta.url))
const SERVERS = 5000
const RELEASES = 20
const CHANGED_PER_UPDATE = 200
/** The publisher's connections per torrent (WebTorrent's default maxConns): the snapshot's peers. */
const WIRES = 55
const WARMUP = 3
const UPDATES = 10
const BUDGET_MS = 16
/** Deltas prepared up front: two views × (warm-up + measured), plus a profiled one each. */
const PREPARED = 2 * (WARMUP + UPDATES + 1) + 2

interface DriverParams {
  servers: number
  releases: number
  changedPerUpdate: number
  wires: number
  updates: number
  now: number
  seed: number
}

interface DriverSizes {
  fleetGetBytes: number
  fleetGetRows: number
  changedBytes: number
  changedMaxBytes: number
  changedRows: number
  completionsPerUpdate: number
  snapshotBytes: number
  snapshotMaxBytes: number
  snapshotHasMatrix: boolean
  versionsConsecutive: boolean
}

/** The page's globals the driver sets (page.evaluate callbacks run in the page, so each names them itself). */
interface BenchGlobal {
  __fleetBench: FleetBenchHandle
}

interface FleetBenchHandle {
  /** Emits delta `n` now and snapshot `n` in the next task, as two transport messages would arrive. */
  push(n: number): void
  sizes: DriverSizes
  /** How often each command was called (a second "fleet.get" means a delta was refused). */
  calls(): Record<string, number>
  newest: string
}

/**
 * The synthetic core, run in the page by addInitScript (so self-contained: no imports, no outer
 * names). Every message is prepared as JSON before the page loads and parsed when delivered, as a
 * transport would.
 */
function installFleetDriver(p: DriverParams): void {
  let seed = p.seed >>> 0
  // mulberry32: the same fleet and the same rollout on every run.
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) >>> 0
    let t = seed
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
  const hex = (): string => Array.from({ length: 40 }, () => Math.floor(random() * 16).toString(16)).join('')
  const MIB = 2 ** 20
  const DAY = 86_400_000

  // Releases, newest first: the newest is the rollout in progress, published 25 minutes ago.
  const releases: ReleaseSummary[] = []
  const publishedAt: number[] = []
  for (let r = 0; r < p.releases; r++) {
    const infoHash = hex()
    const totalSize = 700 * MIB + r * 13 * MIB + 12_345
    const pieceLength = 4 * MIB
    const name = `app-3.${p.releases - 1 - r}.0`
    const at = r === 0 ? p.now - 25 * 60_000 : p.now - r * 3 * DAY
    publishedAt.push(at)
    releases.push({
      infoHash, name, channel: 'default', comment: null, private: true, state: 'seeding', error: null,
      totalSize, pieceLength, pieceCount: Math.ceil(totalSize / pieceLength), fileCount: 40, createdAt: new Date(at).toISOString(),
      torrentUrl: `http://10.0.0.5:7070/torrents/${infoHash}.torrent`, magnet: `magnet:?xt=urn:btih:${infoHash}&dn=${name}`, webSeedUrl: null,
    })
  }
  const newest = releases[0] as ReleaseSummary

  const zero = (state: ProgressState): FleetCell => ({ state, percent: 0, rate: 0, fromPublisher: 0, fromOthers: 0, startedAt: null, completedAt: null })
  const partial = (state: ProgressState, total: number, fraction: number, rate: number): FleetCell => {
    const have = Math.floor(total * fraction)
    const fromPublisher = Math.round(have * (0.1 + random() * 0.3))
    return { state, percent: have / total, rate, fromPublisher, fromOthers: have - fromPublisher, startedAt: null, completedAt: null }
  }
  const complete = (total: number, at: number): FleetCell => {
    const fromPublisher = Math.round(total * (0.05 + random() * 0.35))
    return { state: 'complete', percent: 1, rate: 0, fromPublisher, fromOthers: total - fromPublisher, startedAt: at - 60_000, completedAt: at }
  }
  const downloadRate = (): number => Math.round(2e6 + random() * 14e6)

  const CLIENTS = ['qBittorrent 4.5.2', 'qBittorrent 4.6.0', 'Transmission 3.00', 'Transmission 4.0.5', 'aria2 1.36.0', 'rtorrent 0.9.8', 'Deluge 2.1.1']
  let version = 0
  const rows: FleetRow[] = []
  for (let i = 0; i < p.servers; i++) {
    const ip = `10.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`
    const neverSeen = i % 50 === 1 // on the roster, nothing from it yet
    const firewall = i % 100 === 3 // polls the feed, never announces
    const announceOnly = i % 25 === 5 // subscribed by .torrent URL: never reads the feed
    const hostname = i % 4 === 3 ? null : `srv-${String(i).padStart(4, '0')}.dc${1 + (i % 3)}.example.lan`
    const lastFeedPoll = neverSeen || announceOnly ? null : p.now - Math.floor(random() * 60_000)
    const lastSeen = neverSeen ? null : firewall ? lastFeedPoll : p.now - Math.floor(random() * 120_000)
    const cells: Record<string, FleetCell> = {}
    releases.forEach((release, r) => {
      const total = release.totalSize
      const done = (): FleetCell => complete(total, (publishedAt[r] as number) + Math.floor(random() * (r === 0 ? 20 * 60_000 : DAY)))
      const u = random()
      let cell: FleetCell
      if (neverSeen) cell = zero('not-seen')
      else if (firewall) cell = zero('polled')
      else if (r >= 2) cell = u < 0.99 ? done() : partial('gone', total, random(), 0)
      else if (r === 1) cell = u < 0.96 ? done() : u < 0.98 ? partial('downloading', total, random(), downloadRate()) : u < 0.99 ? partial('stalled', total, random(), 0) : zero('picked-up')
      else if (u < 0.3) cell = done()
      else if (u < 0.68) cell = partial('downloading', total, 0.02 + random() * 0.96, downloadRate())
      else if (u < 0.72) cell = partial('stalled', total, random(), 0)
      else if (u < 0.8) cell = zero('picked-up')
      else cell = zero(lastFeedPoll === null ? 'not-seen' : 'polled')
      cells[release.infoHash] = cell
    })
    const clients = neverSeen ? [] : random() < 0.1 ? [pick(CLIENTS), pick(CLIENTS)] : [pick(CLIENTS)]
    rows.push({
      ip, name: i % 50 === 7 ? `db-${i}` : (hostname ?? ip), hostname, expected: neverSeen || i < p.servers * 0.9, clients: [...new Set(clients)],
      firstSeen: neverSeen ? null : p.now - Math.floor(random() * 30 * DAY), lastSeen, lastFeedPoll, firewallHint: firewall,
      cells, version: ++version,
    })
  }
  const fleetGet = JSON.stringify({ version, rows })

  // The newest release's cells, the only ones a rollout moves.
  const cellOf = (row: FleetRow): FleetCell => row.cells[newest.infoHash] as FleetCell

  const snapshotAt = (at: number): string => {
    const rollouts: RolloutSummary[] = releases.map((release, r) => {
      let completeCount = 0
      let expected = 0
      let expectedComplete = 0
      let uploaded = 0
      const times: number[] = []
      for (const row of rows) {
        const cell = row.cells[release.infoHash] as FleetCell
        const done = cell.state === 'complete'
        if (done) completeCount++
        if (row.expected) expected++
        if (row.expected && done) expectedComplete++
        if (done && cell.completedAt !== null) times.push(cell.completedAt - (publishedAt[r] as number))
        uploaded += cell.fromPublisher
      }
      times.sort((a, b) => a - b)
      return {
        infoHash: release.infoHash, complete: completeCount, expected, expectedComplete,
        firstCompletionMs: times[0] ?? null, medianCompletionMs: times[times.length >> 1] ?? null, lastCompletionMs: times[times.length - 1] ?? null,
        uploadedCopies: uploaded / release.totalSize,
      }
    })
    const wires = rows.filter((row) => cellOf(row).state === 'downloading').slice(0, p.wires)
    const peers: PeerInfo[] = wires.map((row, k) => {
      const [client, clientVersion] = (row.clients[0] ?? 'unknown').split(' ')
      return {
        id: `${row.ip}:6881`, infoHash: newest.infoHash, ip: row.ip, port: 6881, hostname: null, client: client ?? 'unknown', clientVersion: clientVersion ?? null,
        progress: Math.floor(cellOf(row).percent * newest.pieceCount) / newest.pieceCount, downloadRate: 0, uploadRate: Math.round(cellOf(row).rate * 0.3),
        transport: k % 3 === 0 ? 'utp' : 'tcp',
      }
    })
    const swarms: SwarmStats[] = releases.map((release, r) => ({
      infoHash: release.infoHash, peers: r === 0 ? peers.length : r === 1 ? 3 : 0,
      uploadRate: r === 0 ? peers.reduce((sum, peer) => sum + peer.uploadRate, 0) : 0, downloadRate: 0,
      uploaded: Math.round((rollouts[r] as RolloutSummary).uploadedCopies * release.totalSize),
      distributedCopies: r === 0 ? 12.4 : 0, availability: Array.from({ length: 256 }, (_, c) => (r === 0 ? 1 + ((c * 7 + at / 1000) % 30) : 0)),
    }))
    // Not annotated, so it fits Endpoints with or without the per-channel feeds (added alongside this bench).
    const endpoints = {
      address: '10.0.0.5', httpPort: 7070, peerPort: 6881, feedUrl: 'http://10.0.0.5:7070/feed.xml',
      channels: [{ name: 'default', feedUrl: 'http://10.0.0.5:7070/feed.xml' }], announceUrls: ['http://10.0.0.5:7070/announce'], dashboardUrl: null,
    }
    const snapshot: Snapshot = {
      at, releases, damagedReleases: [], uploadLimitNow: { limit: 0, source: 'normal' }, watchFolders: [], rollouts, swarms, peers,
      settings: { address: null, httpPort: 7070, peerPort: 6881, feedKey: null, announceIntervalSeconds: 30, uploadLimit: 0, utp: true, peerConnectionsPerAddress: 32, hooks: { command: null, webhookUrl: null, timeoutSeconds: 10 }, retention: [], uploadSchedule: null, watchFolders: [], externalTracker: null },
      endpoints,
    }
    return JSON.stringify(snapshot)
  }
  const firstSnapshot = snapshotAt(p.now)

  // The rollout, one second at a time: mostly percents moving (a row goes out every few seconds,
  // so each step is several seconds' worth), some completing, some starting, and feed polls.
  const changes: string[] = []
  const snapshots: string[] = []
  const changedRows: number[] = []
  let completions = 0
  let consecutive = true
  let sent = version
  for (let n = 0; n < p.updates; n++) {
    const at = p.now + (n + 1) * 1000
    const changed = new Set<FleetRow>()
    const downloading = rows.filter((row) => cellOf(row).state === 'downloading')
    const waiting = rows.filter((row) => !row.firewallHint && (cellOf(row).state === 'polled' || cellOf(row).state === 'picked-up'))
    const stalled = rows.filter((row) => cellOf(row).state === 'stalled')
    const progressRows = Math.round(p.changedPerUpdate * 0.7)
    for (let k = 0; k < 12 && waiting.length > 0; k++) changed.add(pick(waiting))
    for (let k = 0; k < 2 && stalled.length > 0; k++) changed.add(pick(stalled))
    while (changed.size < progressRows && changed.size < downloading.length) changed.add(pick(downloading))
    for (const row of changed) {
      const release = newest
      const cell = cellOf(row)
      const total = release.totalSize
      if (cell.state === 'polled') row.cells[release.infoHash] = zero('picked-up')
      else if (cell.state === 'picked-up' || cell.state === 'stalled') row.cells[release.infoHash] = partial('downloading', total, Math.max(cell.percent, 0.005), downloadRate())
      else {
        const rate = Math.round(cell.rate * (0.8 + random() * 0.4))
        const fraction = cell.percent + (rate * (3 + random() * 12)) / total
        if (fraction >= 1) {
          row.cells[release.infoHash] = { ...complete(total, at), fromPublisher: cell.fromPublisher, fromOthers: total - cell.fromPublisher }
          completions++
        } else row.cells[release.infoHash] = partial('downloading', total, fraction, rate)
      }
    }
    // Feed polls fill the rest: every server reads the feed once a minute, and a poll is a change.
    while (changed.size < p.changedPerUpdate) {
      const row = pick(rows)
      if (row.lastFeedPoll === null || changed.has(row)) continue
      row.lastFeedPoll = at
      changed.add(row)
    }
    for (const row of changed) {
      row.lastSeen = at
      row.version = ++version
    }
    const change: Events['fleet.changed'] = { since: sent, version, rows: [...changed] }
    if (change.version <= change.since || change.version - change.since !== change.rows.length) consecutive = false
    changedRows.push(change.rows.length)
    sent = version
    changes.push(JSON.stringify(change))
    snapshots.push(snapshotAt(at))
  }

  // UTF-8 length without allocating: the page's heap should hold what the dashboard holds, not our copies.
  const bytes = (s: string): number => {
    let n = 0
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? (i++, 4) : 3
    }
    return n
  }
  const sizes: DriverSizes = {
    fleetGetBytes: bytes(fleetGet),
    fleetGetRows: rows.length,
    changedBytes: bytes(changes[0] ?? ''),
    changedMaxBytes: Math.max(...changes.map(bytes)),
    changedRows: changedRows[0] ?? 0,
    completionsPerUpdate: completions / p.updates,
    snapshotBytes: bytes(snapshots[0] ?? ''),
    snapshotMaxBytes: Math.max(...snapshots.map(bytes)),
    snapshotHasMatrix: snapshots.some((s) => s.includes('"cells"') || s.includes('"rows"')),
    versionsConsecutive: consecutive,
  }
  // The model's 100,000 cells stay reachable from the closures below (one shared scope): let them go.
  rows.length = 0

  const listeners = new Map<string, Set<(payload: unknown) => void>>()
  const emit = (event: string, json: string): void => {
    const payload: unknown = JSON.parse(json)
    for (const listener of listeners.get(event) ?? []) listener(payload)
  }
  const calls: Record<string, number> = {}
  const answers: Record<string, () => string> = { 'snapshot.get': () => firstSnapshot, 'fleet.get': () => fleetGet }
  const handle: FleetBenchHandle = {
    push(n) {
      emit('fleet.changed', changes[n] as string)
      setTimeout(() => emit('snapshot', snapshots[n] as string), 0)
    },
    sizes,
    calls: () => ({ ...calls }),
    newest: newest.infoHash,
  }
  const api = {
    call: (command: string) => {
      calls[command] = (calls[command] ?? 0) + 1
      const answer = answers[command]
      return Promise.resolve(answer ? { ok: true, value: JSON.parse(answer()) as unknown } : { ok: false, error: { code: 'INTERNAL', message: 'benchmark driver' } })
    },
    on: (event: string, listener: (payload: unknown) => void) => {
      const set = listeners.get(event) ?? new Set()
      listeners.set(event, set)
      set.add(listener)
      return () => void set.delete(listener)
    },
    getPathForFile: () => '',
  }
  const page = globalThis as unknown as { swarmdrop: typeof api; __fleetBench: FleetBenchHandle }
  page.swarmdrop = api
  page.__fleetBench = handle
}

/** Chrome's cumulative main-thread counters, in seconds. */
interface Counters {
  script: number
  layout: number
  style: number
  /** Bytes, not seconds: the page's JavaScript heap in use. */
  heap: number
}

async function counters(cdp: CDPSession): Promise<Counters> {
  const { metrics } = await cdp.send('Performance.getMetrics')
  const value = (name: string): number => metrics.find((m) => m.name === name)?.value ?? 0
  return { script: value('ScriptDuration'), layout: value('LayoutDuration'), style: value('RecalcStyleDuration'), heap: value('JSHeapUsedSize') }
}

interface Update {
  scriptMs: number
  layoutStyleMs: number
}

async function push(page: Page, n: number): Promise<void> {
  await page.evaluate((i) => (globalThis as unknown as BenchGlobal).__fleetBench.push(i), n)
}

/** One delta and one snapshot a second, from `start`; the scripting each second cost after the warm-up. */
async function measureUpdates(page: Page, cdp: CDPSession, start: number): Promise<Update[]> {
  const out: Update[] = []
  for (let n = 0; n < WARMUP + UPDATES; n++) {
    const before = await counters(cdp)
    await push(page, start + n)
    // The rest of the second: the snapshot's message, React's commits and the matrix's throttle timer land in it.
    await page.waitForTimeout(1000)
    const after = await counters(cdp)
    if (n >= WARMUP) out.push({ scriptMs: (after.script - before.script) * 1000, layoutStyleMs: (after.layout - before.layout + after.style - before.style) * 1000 })
  }
  return out
}

/**
 * Where one update's main-thread time goes: a CDP sampling profile of one second, by function,
 * each named by its bundle position and the first characters of its minified source (the bundle
 * has no source map). Self time says what is slow; total time (callees included) says which part
 * of the update (the message parse and store merge, the sort, React's render and commit) it is in.
 */
async function profileUpdate(page: Page, cdp: CDPSession, n: number, bundle: Map<string, string[]>): Promise<string[]> {
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 })
  await cdp.send('Profiler.start')
  await push(page, n)
  await page.waitForTimeout(1000)
  const { profile } = await cdp.send('Profiler.stop')
  await cdp.send('Profiler.disable')
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const names = new Map<number, string>()
  const nameOf = (id: number): string => {
    const known = names.get(id)
    if (known !== undefined) return known
    const frame = byId.get(id)?.callFrame
    let name = frame?.functionName || '(anonymous)'
    if (frame?.url) {
      const file = path.basename(new URL(frame.url, 'http://x').pathname)
      const text = bundle.get(file)?.[frame.lineNumber]?.slice(frame.columnNumber, frame.columnNumber + 70).replace(/\s+/g, ' ')
      name += ` ${file}:${frame.lineNumber + 1}:${frame.columnNumber + 1}${text ? ` «${text}»` : ''}`
    } else if (frame?.functionName === '') name = '(anonymous, no script: V8 builtins or the page.evaluate wrapper)'
    names.set(id, name)
    return name
  }
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  const deltas = profile.timeDeltas ?? []
  let busy = 0
  ;(profile.samples ?? []).forEach((id, i) => {
    const own = byId.get(id)?.callFrame.functionName
    if (own === '(idle)' || own === '(program)' || own === '(root)') return
    const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000
    busy += ms
    self.set(nameOf(id), (self.get(nameOf(id)) ?? 0) + ms)
    const stack = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) if (byId.get(at)?.callFrame.functionName !== '(root)') stack.add(nameOf(at))
    for (const name of stack) total.set(name, (total.get(name) ?? 0) + ms)
  })
  const top = (m: Map<string, number>, count: number): string[] =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, ms]) => `  ${ms.toFixed(1).padStart(6)} ms  ${name}`)
  return [`profile of one update: ${busy.toFixed(1)} ms sampled outside idle`, 'top self time:', ...top(self, 10), 'top total time:', ...top(total, 12)]
}

/** Any update over the frame, not only the median: a profile then says where the time went. */
function overBudget(samples: Update[]): boolean {
  return samples.some((u) => u.scriptMs > BUDGET_MS)
}

export async function benchFleetUi(): Promise<BenchResult[]> {
  console.log(`CPU: ${os.cpus()[0]?.model ?? 'unknown'} (${os.cpus().length} cores)`)
  const { server, url } = await serveDashboard()
  const browser = await launchChromium({ viewport: { width: 1280, height: 900 } })
  try {
    const page = await browser.context.newPage()
    const params: DriverParams = { servers: SERVERS, releases: RELEASES, changedPerUpdate: CHANGED_PER_UPDATE, wires: WIRES, updates: PREPARED, now: Date.UTC(2026, 10, 30, 7, 0), seed: 20_261_130 }
    await page.addInitScript(installFleetDriver, params)
    const cdp = await browser.context.newCDPSession(page)
    await cdp.send('Performance.enable')
    await page.goto(url)
    const newest = await page.evaluate(() => (globalThis as unknown as BenchGlobal).__fleetBench.newest)
    const sizes = await page.evaluate(() => (globalThis as unknown as BenchGlobal).__fleetBench.sizes)

    const opening = await counters(cdp)
    const openedAt = Date.now()
    await page.getByRole('button', { name: /^Servers/ }).click()
    await page.locator('.fleet-body [role="row"]').first().waitFor({ timeout: 60_000 })
    const openMs = Date.now() - openedAt
    const openScriptMs = ((await counters(cdp)).script - opening.script) * 1000
    await page.waitForTimeout(1500)
    const idleBefore = await counters(cdp)
    await page.waitForTimeout(1000)
    const idle = ((await counters(cdp)).script - idleBefore.script) * 1000

    let next = 0
    const all = await measureUpdates(page, cdp, next)
    next += WARMUP + UPDATES
    const rowsInDom = await page.locator('.fleet-body [role="row"]').count()
    const heap = (await counters(cdp)).heap

    const bundle = new Map<string, string[]>()
    const assets = path.join(DASHBOARD, 'assets')
    for (const name of await readdir(assets)) if (name.endsWith('.js')) bundle.set(name, (await readFile(path.join(assets, name), 'utf8')).split('\n'))
    const profiles: string[] = []
    if (overBudget(all)) profiles.push('[all servers, by name]', ...(await profileUpdate(page, cdp, next++, bundle)))

    // The costliest view: only servers without the newest release, furthest behind first.
    await page.locator('.fleet-toolbar [data-filter="not-complete"]').click()
    await page.locator(`.fleet-head button.sort[data-release="${newest}"]`).click()
    const sortedBy = await page.locator('.fleet-head .release-head[aria-sort="ascending"] button').getAttribute('data-release')
    const filterOn = await page.locator('.fleet-toolbar [data-filter="not-complete"]').getAttribute('aria-pressed')
    if (sortedBy !== newest || filterOn !== 'true') throw new Error(`the costliest view did not take: sorted by ${sortedBy ?? 'nothing'}, filter pressed ${filterOn ?? 'no'}`)
    await page.waitForTimeout(1500)
    const costly = await measureUpdates(page, cdp, next)
    next += WARMUP + UPDATES
    const costlyRows = await page.locator('.fleet-body [role="row"]').count()
    const notComplete = await page.locator('.fleet-toolbar [data-filter="not-complete"] .count').textContent()
    if (overBudget(costly)) profiles.push('[not complete, by percent]', ...(await profileUpdate(page, cdp, next++, bundle)))

    const calls = await page.evaluate(() => (globalThis as unknown as BenchGlobal).__fleetBench.calls())
    for (const line of profiles) console.log(line)

    const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`
    const mb = (n: number): string => `${(n / 2 ** 20).toFixed(2)} MiB`
    const refetched = (calls['fleet.get'] ?? 0) > 1 ? `; WARNING: fleet.get called ${calls['fleet.get']} times (a delta was refused)` : ''
    const checks = `${sizes.versionsConsecutive ? '' : '; WARNING: since/version not consecutive'}${sizes.snapshotHasMatrix ? '; WARNING: the snapshot holds fleet rows' : ''}${refetched}`
    const result = (name: string, samples: Update[], rows: number, extra: string, sizesNote: string): BenchResult => {
      const scripts = samples.map((u) => u.scriptMs)
      const ours = median(scripts)
      return {
        name,
        ours,
        reference: BUDGET_MS,
        ratio: ours / BUDGET_MS,
        unit: 'ms of scripting per update, median; reference = one 60 Hz frame',
        note:
          `${UPDATES} updates at 1 Hz after ${WARMUP} warm-up; max ${Math.max(...scripts).toFixed(1)} ms (each: ${scripts.map((ms) => ms.toFixed(1)).join(' ')}); ` +
          `layout+style ${median(samples.map((u) => u.layoutStyleMs)).toFixed(1)} ms median; ${rows} rows in the DOM of ${extra}${sizesNote}${checks}`,
      }
    }
    const sizesNote =
      `; idle page ${idle.toFixed(1)} ms/s; JS heap ${mb(heap)} (the driver's prepared JSON included); fleet.changed ${kb(sizes.changedBytes)} of JSON (${sizes.changedRows} rows, max ${kb(sizes.changedMaxBytes)}, ~${sizes.completionsPerUpdate.toFixed(0)} completions/s); ` +
      `fleet.get ${mb(sizes.fleetGetBytes)} (${sizes.fleetGetRows} rows × ${RELEASES} cells; opening the tab ${openScriptMs.toFixed(0)} ms scripting, ${openMs} ms to the first row); ` +
      `snapshot ${kb(sizes.snapshotBytes)} (max ${kb(sizes.snapshotMaxBytes)}: ${RELEASES} releases, their rollouts and swarms, ${WIRES} peers, no matrix)`
    return [
      result(`fleet UI: Servers matrix, all ${SERVERS} servers by name, ${CHANGED_PER_UPDATE}-row delta + snapshot at 1 Hz`, all, rowsInDom, `${SERVERS}`, sizesNote),
      result(`fleet UI: Servers matrix, "Not complete" sorted by the newest release's percent, same updates`, costly, costlyRows, `${(notComplete ?? '?').trim()} shown`, ''),
    ]
  } finally {
    await browser.close()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
