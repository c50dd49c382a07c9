/**
 * LAN benchmark: what one LAN request costs while the library holds a big release. One engine
 * on loopback holds a 20,000-file release plus a small single-file release (web seed on); a
 * second engine, started in the same run, holds only the small release. Five request kinds (a
 * 404 for an unknown .torrent, a 1 KiB web-seed Range on the small release, the feed, a 1 KiB
 * web-seed Range on one file of the big release, an HTTP announce) are each sent 2,000 times
 * after a warm-up, one at a time over a keep-alive connection per engine, alternating engines
 * request by request so drift in machine load hits both. Latency is request sent → last body
 * byte received, measured in this process; ratio = with the big release / without it.
 */
import http from 'node:http'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import path from 'node:path'
import type { ReleaseSummary } from '../shared/contract.js'
import type { BenchResult } from './bench-result.js'
import { median } from './measure.js'
import type { Engine } from '../electron/engine/engine.js'
import { publish, startTestEngine } from '../test/support/engine.js'
import { makeTree, pseudoRandom, type TreeEntry } from '../test/support/fixtures.js'

const BIG_FILES = 20_000
const SMALL_SIZE = 1024 * 1024
const REQUESTS = 2_000
const WARMUP = 200
const TARGET_MS = 2
const TARGET = `target: under ${TARGET_MS} ms median for any LAN request, whatever the library holds`
/** Not published anywhere: a 404 that still has to look the library up. */
const UNKNOWN_HASH = 'ab'.repeat(20)
/** 20 bytes, as a client sends it; a fixed one, so repeated announces update one peer. */
const PEER_ID = '-SDBENCH-lanbench001'
/** Announcing as a complete peer: with anything left, the engine would dial this made-up port on every request. */
const ANNOUNCE_PORT = 6999

interface Probe {
  port: number
  path: string
  headers: Record<string, string>
  status: number
}

interface Kind {
  name: string
  ours: Probe
  reference: Probe
  /** Why the reference is not literally the same request, when it cannot be. */
  caveat?: string
}

interface Timed {
  ms: number
  status: number
  body: Buffer
  reused: boolean
}

/** One GET over `agent`; the clock stops at the last body byte, as a client would wait for it. */
function timedGet(agent: http.Agent, probe: Probe): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const req = http.get({ host: '127.0.0.1', port: probe.port, path: probe.path, headers: probe.headers, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ ms: performance.now() - start, status: res.statusCode ?? 0, body: Buffer.concat(chunks), reused: req.reusedSocket }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number
}

/** Every byte percent-encoded: info_hash and peer_id are raw bytes in an announce. */
function pctBytes(bytes: Buffer): string {
  return [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')
}

function announcePath(infoHash: string): string {
  const q = [`info_hash=${pctBytes(Buffer.from(infoHash, 'hex'))}`, `peer_id=${pctBytes(Buffer.from(PEER_ID, 'latin1'))}`, `port=${ANNOUNCE_PORT}`, 'uploaded=0', 'downloaded=0', 'left=0', 'compact=1']
  return `/announce?${q.join('&')}`
}

/** The web-seed URL a client builds: the url-list entry, then the release name and the file's path, each segment encoded. */
function webSeedPath(release: ReleaseSummary, segments: string[]): string {
  if (!release.webSeedUrl) throw new Error(`release ${release.name} has no web seed`)
  return `${new URL(release.webSeedUrl).pathname}${segments.map(encodeURIComponent).join('/')}`
}

/** A status or body that is not what the request should get means we would be timing the wrong thing. */
function check(kind: string, side: string, probe: Probe, r: Timed): void {
  if (r.status !== probe.status) throw new Error(`lan bench: ${kind} on ${side} answered ${r.status}, expected ${probe.status}: ${r.body.toString('latin1').slice(0, 200)}`)
  if (probe.path.startsWith('/announce') && r.body.includes('failure reason')) throw new Error(`lan bench: the announce on ${side} failed: ${r.body.toString('latin1')}`)
}

export async function benchLan(): Promise<BenchResult[]> {
  const cpu = cpus()
  console.log(`cpu: ${cpu[0]?.model ?? 'unknown'} (${cpu.length} logical)`)
  const work = await mkdtemp(path.join(tmpdir(), 'swarmdrop-lan-bench-'))
  const engines: Engine[] = []
  const agents: http.Agent[] = []
  try {
    const bigRoot = path.join(work, 'big-release')
    await mkdir(bigRoot)
    const entries = await makeTree(bigRoot, BIG_FILES)
    const bigBytes = entries.reduce((n, e) => n + e.length, 0)
    const smallFile = path.join(work, 'small-release.bin')
    await writeFile(smallFile, pseudoRandom(SMALL_SIZE, 'lan-bench-small'))

    const ours = await startTestEngine(path.join(work, 'data-ours'))
    engines.push(ours)
    const reference = await startTestEngine(path.join(work, 'data-reference'))
    engines.push(reference)
    const publishStart = performance.now()
    const big = await publish(ours, [bigRoot], { webSeed: true })
    const publishSeconds = (performance.now() - publishStart) / 1000
    const smallOurs = await publish(ours, [smallFile], { webSeed: true })
    const smallRef = await publish(reference, [smallFile], { webSeed: true })
    if (big.fileCount !== BIG_FILES) throw new Error(`lan bench: the big release has ${big.fileCount} files, expected ${BIG_FILES}`)

    // A nested file (a few folders deep, unicode names) of at least 1 KiB, so the range is whole.
    const deep = entries.find((e: TreeEntry) => e.length >= 1024 && e.path.split('/').length >= 3)
    if (!deep) throw new Error('lan bench: makeTree gave no nested file of 1 KiB or more')
    const range = { range: 'bytes=0-1023' }
    const probe = (engine: Engine, p: string, status: number, headers: Record<string, string> = {}): Probe => ({ port: engine.httpPort, path: p, headers, status })
    const kinds: Kind[] = [
      { name: '404 for an unknown /torrents/<hash>.torrent', ours: probe(ours, `/torrents/${UNKNOWN_HASH}.torrent`, 404), reference: probe(reference, `/torrents/${UNKNOWN_HASH}.torrent`, 404) },
      {
        name: 'web seed Range bytes=0-1023 on the small release',
        ours: probe(ours, webSeedPath(smallOurs, [smallOurs.name]), 206, range),
        reference: probe(reference, webSeedPath(smallRef, [smallRef.name]), 206, range),
      },
      { name: 'GET /feed.xml', ours: probe(ours, '/feed.xml', 200), reference: probe(reference, '/feed.xml', 200) },
      {
        name: 'web seed Range bytes=0-1023 on one file of the 20,000-file release',
        ours: probe(ours, webSeedPath(big, [big.name, ...deep.path.split('/')]), 206, range),
        reference: probe(reference, webSeedPath(smallRef, [smallRef.name]), 206, range),
        caveat: 'the reference library has no such file, so its reference is the same 1 KiB web-seed Range on its small release',
      },
      { name: 'HTTP announce for the small release', ours: probe(ours, announcePath(smallOurs.infoHash), 200), reference: probe(reference, announcePath(smallRef.infoHash), 200) },
    ]

    // One keep-alive connection per engine, as a LAN client polling or reading a web seed holds one.
    const agentOurs = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const agentRef = new http.Agent({ keepAlive: true, maxSockets: 1 })
    agents.push(agentOurs, agentRef)

    const results: BenchResult[] = []
    for (const kind of kinds) {
      const times = { ours: [] as number[], reference: [] as number[] }
      let newConnections = 0
      for (let i = 0; i < WARMUP + REQUESTS; i++) {
        // Alternate which engine goes first, so neither always runs right after the other warmed a cache.
        const order = i % 2 === 0 ? (['ours', 'reference'] as const) : (['reference', 'ours'] as const)
        for (const side of order) {
          const p = kind[side]
          const r = await timedGet(side === 'ours' ? agentOurs : agentRef, p)
          check(kind.name, side, p, r)
          if (i < WARMUP) continue
          times[side].push(r.ms)
          if (!r.reused) newConnections++
        }
      }
      const med = { ours: median(times.ours), reference: median(times.reference) }
      const p99 = { ours: percentile(times.ours, 99), reference: percentile(times.reference, 99) }
      const verdict = med.ours < TARGET_MS ? 'meets it' : 'MISSES it'
      const conn = newConnections === 0 ? 'every request on a reused keep-alive connection' : `${newConnections} of ${2 * REQUESTS} requests had to open a new connection`
      const caveat = kind.caveat ? `; ${kind.caveat}` : ''
      results.push(
        {
          name: `lan: ${kind.name}, median (library: 20,000-file release + small release vs small release only)`,
          ours: med.ours * 1000,
          reference: med.reference * 1000,
          ratio: med.ours / med.reference,
          unit: 'µs per request, lower is better',
          note: `median ${med.ours.toFixed(3)} ms with the big release, ${med.reference.toFixed(3)} ms without (${TARGET}: ${verdict}); ${REQUESTS} sequential requests per engine after ${WARMUP} warm-up, alternating engines, ${conn}${caveat}`,
        },
        {
          name: `lan: ${kind.name}, p99`,
          ours: p99.ours * 1000,
          reference: p99.reference * 1000,
          ratio: p99.ours / p99.reference,
          unit: 'µs per request, lower is better',
          note: `p99 ${p99.ours.toFixed(3)} ms with the big release, ${p99.reference.toFixed(3)} ms without`,
        },
      )
    }
    const first = results[0]
    if (first) first.note = `${first.note}; big release: ${BIG_FILES} files, ${(bigBytes / 2 ** 20).toFixed(1)} MiB, published (scan + hash + seed) in ${publishSeconds.toFixed(1)} s; small release: ${SMALL_SIZE / 2 ** 20} MiB single file`
    return results
  } finally {
    for (const a of agents) a.destroy()
    for (const e of engines) await e.close().catch(() => undefined)
    await rm(work, { recursive: true, force: true })
  }
}
