/**
 * Renderer benchmark: the built dashboard in Debian Chromium receiving a 1,000-peer snapshot once
 * a second, as the core sends them. Measured per update with Chrome's own counters (CDP
 * Performance.getMetrics ScriptDuration, i.e. main-thread JavaScript: JSON parse of the snapshot,
 * the store update, React render and commit, the throttle timer), against the 16 ms a frame has
 * at 60 Hz. The core is replaced by a synthetic SwarmdropApi injected as `window.swarmdrop` (the
 * preload's slot): a benchmark driver, since no real swarm here has 1,000 peers.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CDPSession, Page } from 'playwright-core'
import type { BenchResult } from './bench-result.js'
import { serveDashboard } from './dashboard-server.js'
import { median } from './measure.js'
import { launchChromium } from '../test/support/browser.js'

const PEERS = 1000
const WARMUP = 3
const UPDATES = 10
const BUDGET_MS = 16

/** The synthetic core, as page source: pre-built snapshots as JSON (a transport delivers JSON too). */
const DRIVER = (peers: number, count: number): string => `
(() => {
  const infoHash = 'ab'.repeat(20)
  const clients = [['qBittorrent', '4.5.2'], ['Transmission', '3.00'], ['aria2', '1.36.0'], ['libTorrent', '0.13.8']]
  const release = {
    infoHash, name: 'fleet-update-1000', channel: 'default', comment: null, private: true, state: 'seeding', error: null,
    totalSize: 2 ** 30, pieceLength: 2 ** 20, pieceCount: 1024, fileCount: 12, createdAt: new Date().toISOString(),
    torrentUrl: 'http://10.0.0.5:7070/torrents/' + infoHash + '.torrent', magnet: 'magnet:?xt=urn:btih:' + infoHash, webSeedUrl: null,
  }
  const snapshot = (n) => {
    const list = []
    for (let i = 0; i < ${peers}; i++) {
      const ip = '10.' + (i >> 16 & 255) + '.' + (i >> 8 & 255) + '.' + (i & 255)
      const [client, clientVersion] = clients[i % clients.length]
      list.push({
        id: ip + ':6881', infoHash, ip, port: 6881, hostname: i % 5 === 0 ? 'srv-' + i + '.lan' : null, client, clientVersion,
        progress: Math.min(1, ((i * 7 + n * 3) % 100) / 100), downloadRate: ((i + n) % 50) * 65536, uploadRate: ((i * 3 + n) % 20) * 16384,
        transport: i % 3 === 0 ? 'utp' : 'tcp',
      })
    }
    const availability = Array.from({ length: 256 }, (_, c) => (c * 13 + n) % 40)
    return JSON.stringify({
      at: Date.now() + n * 1000, releases: [release], damagedReleases: [], uploadLimitNow: { limit: 0, source: 'normal' }, watchFolders: [], rollouts: [],
      swarms: [{ infoHash, peers: ${peers}, uploadRate: 80e6 + n * 1e5, downloadRate: 0, uploaded: n * 80e6, distributedCopies: 37.5, availability }],
      peers: list,
      settings: { address: null, httpPort: 7070, peerPort: 6881, feedKey: null, announceIntervalSeconds: 30, uploadLimit: 0, utp: true, hooks: { command: null, webhookUrl: null, timeoutSeconds: 10 }, retention: [], uploadSchedule: null, watchFolders: [], externalTracker: null },
      endpoints: { address: '10.0.0.5', feedUrl: 'http://10.0.0.5:7070/feed.xml', announceUrls: [], dashboardUrl: null },
    })
  }
  const prepared = Array.from({ length: ${count} }, (_, n) => snapshot(n + 1))
  const first = snapshot(0)
  const listeners = new Map()
  window.__bench = {
    push(n) {
      const s = JSON.parse(prepared[n])
      for (const l of listeners.get('snapshot') ?? []) l(s)
    },
  }
  window.swarmdrop = {
    call: async (command) => (command === 'snapshot.get' ? { ok: true, value: JSON.parse(first) } : { ok: false, error: { code: 'INTERNAL', message: 'benchmark driver' } }),
    on: (event, listener) => {
      if (!listeners.has(event)) listeners.set(event, new Set())
      listeners.get(event).add(listener)
      return () => listeners.get(event).delete(listener)
    },
    getPathForFile: () => '',
  }
})()
`

async function scriptSeconds(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send('Performance.getMetrics')
  return metrics.find((m) => m.name === 'ScriptDuration')?.value ?? 0
}

/** Pushes one snapshot a second and returns the scripting milliseconds each one cost. */
async function measureUpdates(page: Page, cdp: CDPSession): Promise<number[]> {
  const perUpdate: number[] = []
  for (let n = 0; n < WARMUP + UPDATES; n++) {
    const before = await scriptSeconds(cdp)
    await page.evaluate((i) => (globalThis as unknown as { __bench: { push(i: number): void } }).__bench.push(i), n)
    // The rest of the second: React's commit and the table's throttle timer both land in it.
    await page.waitForTimeout(1000)
    const after = await scriptSeconds(cdp)
    if (n >= WARMUP) perUpdate.push((after - before) * 1000)
  }
  return perUpdate
}

export async function benchRenderer(): Promise<BenchResult[]> {
  const { server, url } = await serveDashboard()
  const browser = await launchChromium({ viewport: { width: 1280, height: 900 } })
  try {
    const page = await browser.context.newPage()
    await page.addInitScript({ content: DRIVER(PEERS, WARMUP + UPDATES) })
    const cdp = await browser.context.newCDPSession(page)
    await cdp.send('Performance.enable')
    await page.goto(url)
    await page.getByRole('button', { name: /^Peers/ }).click()
    await page.locator('.peers-body [role="row"]').first().waitFor()
    const idleBefore = await scriptSeconds(cdp)
    await page.waitForTimeout(1000)
    const idle = ((await scriptSeconds(cdp)) - idleBefore) * 1000

    const table = await measureUpdates(page, cdp)
    const rowsInDom = await page.locator('.peers-body [role="row"]').count()

    await page.getByRole('button', { name: /^Releases/ }).click()
    await page.getByRole('button', { name: 'fleet-update-1000' }).click()
    await page.locator('.swarm-detail .peers-body [role="row"]').first().waitFor()
    const detail = await measureUpdates(page, cdp)

    const result = (name: string, samples: number[]): BenchResult => {
      const ours = median(samples)
      return {
        name,
        ours,
        reference: BUDGET_MS,
        ratio: ours / BUDGET_MS,
        unit: 'ms of scripting per update, median; reference = one 60 Hz frame',
        note: `${UPDATES} updates at 1 Hz after ${WARMUP} warm-up; max ${Math.max(...samples).toFixed(1)} ms; idle page ${idle.toFixed(1)} ms/s; ${rowsInDom} of ${PEERS} rows in the DOM`,
      }
    }
    return [
      result(`renderer: peers table, ${PEERS}-peer snapshot at 1 Hz`, table),
      result(`renderer: swarm detail (chart, availability, peers), ${PEERS}-peer snapshot at 1 Hz`, detail),
    ]
  } finally {
    await browser.close()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

// `node dist/bench/renderer-bench.js` runs it alone.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  for (const r of await benchRenderer()) {
    console.log(`${r.name}\n  ours ${r.ours.toFixed(2)} | reference ${r.reference.toFixed(1)} (${r.unit}) | ratio ${r.ratio.toFixed(2)}\n  ${r.note ?? ''}`)
  }
}
