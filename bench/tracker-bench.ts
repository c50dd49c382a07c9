/**
 * Tracker benchmark: HTTP announces per second and p99 latency, Swarmdrop's tracker against
 * opentracker, both on loopback in the same run, both loaded by the same wrk command.
 *
 * Swarmdrop runs as a whole engine (tracker, LAN server, fleet view, seeder) holding one small
 * published release; opentracker (Debian's build, whitelist mode) allows only that release's
 * info-hash. wrk (2 threads, 50 keep-alive connections) sends announces from 5,000 distinct peers:
 * each has its own peer_id and port. Every request comes from 127.0.0.1, so both trackers key the
 * 5,000 peers by port (both key a peer by address and port). The fleet view keys a server by IP
 * alone, so here all 5,000 peers are one server row: the announces run the fleet-view update on
 * every request, but the row count does not grow. Memory per tracked server is therefore measured
 * on the fleet model itself with 100,000 distinct IPs, and memory per tracked peer through the
 * engine with 60,000 distinct ports.
 *
 * Runs: downloaders (left > 0, which is what makes the engine dial a peer) and seeders (left = 0),
 * ours and opentracker alternating. Then /feed.xml against a bare Node HTTP server sending the
 * same bytes (Node's floor for one small response), and the memory figures. After the announce
 * runs both trackers are asked for their counts, so a tracker that dropped peers shows.
 */
import { spawn, spawnSync } from 'node:child_process'
import http from 'node:http'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { cpus, tmpdir } from 'node:os'
import path from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import type { BenchResult } from './bench-result.js'
import { bdecode, type DecodedDict } from '../electron/engine/bencode.js'
import type { Engine } from '../electron/engine/engine.js'
import { FleetModel } from '../electron/engine/fleet.js'
import { Swarm } from '../electron/engine/swarm.js'
import { publish, startTestEngine } from '../test/support/engine.js'
import { pseudoRandom } from '../test/support/fixtures.js'
import { freePort } from '../test/support/ports.js'

const PEERS = 5_000
const CONNECTIONS = 50
const THREADS = 2
const SECONDS = 10
const WARMUP_SECONDS = 2
/** lan-server.ts's MAX_CONNECTIONS_PER_IP: wrk's connections beyond it are refused and retried. */
const LAN_CONNECTIONS_PER_IP = 32
const TARGET = 'target: at least 0.5x opentracker announces/s with p99 under 20 ms'
const MEMORY_PEERS = 60_000
const MEMORY_SERVERS = 100_000
const RELEASE_SIZE = 1024 * 1024

/** wrk's summary as one JSON line, shared by both scripts. */
const DONE_LUA = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"socketErrors":%d,"non2xx":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
`

/**
 * Announces from `peers` distinct peers, round robin, threads interleaved so no two threads send
 * the same peer at once. Args: percent-encoded info_hash, peer count, left, first port, offset.
 */
const ANNOUNCE_LUA = `
local created = 0
function setup(thread)
  thread:set("tid", created)
  thread:set("stride", ${THREADS})
  created = created + 1
end
function init(args)
  info_hash = args[1]
  peers = tonumber(args[2])
  left = args[3]
  first_port = tonumber(args[4])
  counter = tonumber(args[5]) + tid
end
function request()
  local n = counter % peers
  counter = counter + stride
  local path = "/announce?info_hash=" .. info_hash .. "&peer_id=-WK0001-" .. string.format("%012d", n) ..
    "&port=" .. (first_port + n) .. "&uploaded=0&downloaded=0&left=" .. left .. "&compact=1&numwant=50&key=" .. n
  return wrk.format("GET", path)
end
${DONE_LUA}`

const PLAIN_LUA = `
${DONE_LUA}`

interface WrkRun {
  requests: number
  durationUs: number
  p50Us: number
  p99Us: number
  socketErrors: number
  non2xx: number
}

function rate(r: WrkRun): number {
  return r.requests / (r.durationUs / 1e6)
}

/** wrk runs as a child so this process (which hosts the engine) only serves. */
function wrk(url: string, script: string, seconds: number, args: string[] = []): Promise<WrkRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t', String(THREADS), '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--timeout', '5s', '-s', script, url, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      const line = /^WRK (\{.*\})$/m.exec(out)?.[1]
      if (code !== 0 || !line) return reject(new Error(`wrk ${url} failed (${code}): ${out}`))
      resolve(JSON.parse(line) as WrkRun)
    })
  })
}

function pct(bytes: Buffer): string {
  return [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')
}

function get(port: number, p: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(Buffer.concat(chunks)))
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${p} timed out`)))
    req.on('error', reject)
  })
}

/**
 * One announce from a probe peer (a seeder on port 9, so nothing dials it); the swarm's counts as
 * the tracker reports them, the probe included (opentracker answers a "stopped" with zeros).
 */
async function swarmCounts(port: number, infoHash: string): Promise<{ complete: number; incomplete: number; peersReturned: number }> {
  const q = `info_hash=${pct(Buffer.from(infoHash, 'hex'))}&peer_id=-WK0001-probeprobepr&port=9&uploaded=0&downloaded=0&left=0&compact=1&numwant=50`
  const body = await get(port, `/announce?${q}`)
  const d = bdecode(body).value as DecodedDict
  if (d['failure reason'] !== undefined) throw new Error(`tracker bench: announce failed on port ${port}: ${body.toString('latin1')}`)
  const peers = d.peers
  return { complete: Number(d.complete), incomplete: Number(d.incomplete), peersReturned: Buffer.isBuffer(peers) ? peers.length / 6 : 0 }
}

function startOpentracker(work: string, port: number, infoHash: string): Promise<{ stop: () => Promise<void> }> {
  return (async () => {
    const whitelist = path.join(work, 'opentracker.whitelist')
    await writeFile(whitelist, `${infoHash}\n`)
    // Run as root, opentracker chroots into -d and becomes nobody before it reads the whitelist:
    // the path is relative to the chroot, and nobody must be able to enter it (mkdtemp makes 0700).
    await chmod(work, 0o755)
    const child = spawn('opentracker', ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-w', path.basename(whitelist), '-d', work], { stdio: 'ignore', cwd: work })
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
    const stop = async () => {
      child.kill('SIGTERM')
      const force = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(force)
    }
    for (let i = 0; i < 50; i++) {
      try {
        await swarmCounts(port, infoHash)
        return { stop }
      } catch {
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    await stop()
    throw new Error('tracker bench: opentracker did not start answering')
  })()
}

/** A full collection, so memory deltas are what is retained, not garbage waiting. */
function collect(): void {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  gc()
  gc()
}

function memory(): { rss: number; heap: number } {
  collect()
  const m = process.memoryUsage()
  return { rss: m.rss, heap: m.heapUsed + m.external + m.arrayBuffers }
}

function missingTool(name: string, pkg: string): boolean {
  if (spawnSync('sh', ['-c', `command -v ${name}`]).status === 0) return false
  console.log(`tracker bench: ${name} is not installed; install it with: apt-get install -y ${pkg}`)
  return true
}

/** 100,000 servers announcing one release each, straight into the fleet model: bytes per server. */
function fleetServerMemory(): { perServerBytes: number; rssPerServer: number } {
  const model = new FleetModel()
  const infoHash = 'ab'.repeat(20)
  model.setReleases([{ infoHash, totalSize: RELEASE_SIZE, publishedAt: 0 }])
  const before = memory()
  for (let n = 0; n < MEMORY_SERVERS; n++) {
    const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`
    const peerId = Buffer.from(`-qB4520-${n.toString(16).padStart(12, '0')}`).toString('hex')
    model.announced({ infoHash, ip, port: 6881, peerId, event: 'started', left: RELEASE_SIZE / 2, downloaded: RELEASE_SIZE / 2 })
  }
  const after = memory()
  if (model.rows().length !== MEMORY_SERVERS) throw new Error(`tracker bench: the fleet model holds ${model.rows().length} servers, expected ${MEMORY_SERVERS}`)
  return { perServerBytes: (after.heap - before.heap) / MEMORY_SERVERS, rssPerServer: (after.rss - before.rss) / MEMORY_SERVERS }
}

/** The tracker's own record: 100,000 peers in one swarm (the Swarm directly), bytes per peer. */
function swarmPeerMemory(): { perPeerBytes: number; rssPerPeer: number } {
  const swarm = new Swarm('ab'.repeat(20), { maxPeers: MEMORY_SERVERS, ttlMs: 20 * 60_000 })
  const before = memory()
  for (let n = 0; n < MEMORY_SERVERS; n++) {
    const peerId = Buffer.from(`-qB4520-${n.toString(16).padStart(12, '0')}`).toString('hex')
    swarm.announce({ ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, port: 6881, peerId, left: RELEASE_SIZE / 2, event: 'started' })
  }
  const after = memory()
  if (swarm.size !== MEMORY_SERVERS) throw new Error(`tracker bench: the swarm holds ${swarm.size} peers, expected ${MEMORY_SERVERS}`)
  return { perPeerBytes: (after.heap - before.heap) / MEMORY_SERVERS, rssPerPeer: (after.rss - before.rss) / MEMORY_SERVERS }
}

export async function benchTracker(): Promise<BenchResult[]> {
  const cpu = cpus()
  console.log(`cpu: ${cpu[0]?.model ?? 'unknown'} (${cpu.length} logical)`)
  if (missingTool('wrk', 'wrk') || missingTool('opentracker', 'opentracker')) return []
  const work = await mkdtemp(path.join(tmpdir(), 'swarmdrop-tracker-bench-'))
  let engine: Engine | null = null
  let opentracker: { stop: () => Promise<void> } | null = null
  let bare: http.Server | null = null
  try {
    const file = path.join(work, 'release.bin')
    await writeFile(file, pseudoRandom(RELEASE_SIZE, 'tracker-bench'))
    engine = await startTestEngine(path.join(work, 'data'), { announceIntervalSeconds: 30 })
    const release = await publish(engine, [file])
    const infoHash = release.infoHash
    const otPort = await freePort()
    opentracker = await startOpentracker(work, otPort, infoHash)
    const script = path.join(work, 'announce.lua')
    await writeFile(script, ANNOUNCE_LUA)
    const plain = path.join(work, 'plain.lua')
    await writeFile(plain, PLAIN_LUA)
    const sides = { ours: engine.httpPort, opentracker: otPort }
    const hash = pct(Buffer.from(infoHash, 'hex'))

    const results: BenchResult[] = []
    for (const mode of [{ name: 'downloaders', left: String(RELEASE_SIZE / 2) }, { name: 'seeders', left: '0' }]) {
      const runs: Record<'ours' | 'opentracker', WrkRun | null> = { ours: null, opentracker: null }
      // Alternate who goes first between modes, so neither always runs on a warmer machine.
      const order = mode.left === '0' ? (['opentracker', 'ours'] as const) : (['ours', 'opentracker'] as const)
      for (const side of order) {
        const url = `http://127.0.0.1:${sides[side]}/announce`
        await wrk(url, script, WARMUP_SECONDS, [hash, String(PEERS), mode.left, '10000', '0'])
        runs[side] = await wrk(url, script, SECONDS, [hash, String(PEERS), mode.left, '10000', '0'])
      }
      const ours = runs.ours as WrkRun
      const ref = runs.opentracker as WrkRun
      const ratio = rate(ours) / rate(ref)
      const verdict = ratio >= 0.5 && ours.p99Us < 20_000 ? 'meets it' : 'MISSES it'
      const counts = { ours: await swarmCounts(sides.ours, infoHash), opentracker: await swarmCounts(sides.opentracker, infoHash) }
      const held = (c: { complete: number; incomplete: number }) => `complete ${c.complete} + incomplete ${c.incomplete}`
      const errors = `socket errors: ours ${ours.socketErrors}, opentracker ${ref.socketErrors} (opentracker closes each connection after its reply; our LAN server admits ${LAN_CONNECTIONS_PER_IP} connections per client address, so wrk's other ${CONNECTIONS - LAN_CONNECTIONS_PER_IP} are refused and reconnect)`
      const failures = (r: WrkRun) => (r.non2xx ? `, ${r.non2xx} non-2xx replies` : '')
      results.push(
        {
          name: `tracker: HTTP announces/s, ${PEERS.toLocaleString('en')} distinct ${mode.name}, wrk ${THREADS} threads ${CONNECTIONS} connections ${SECONDS} s`,
          ours: rate(ours),
          reference: rate(ref),
          ratio,
          unit: 'announces/s, ours / opentracker, higher is better',
          note: `${TARGET}: ${verdict}; counts after the runs so far (probe peer included; ours also holds the engine's own seeder): ours ${held(counts.ours)}, opentracker ${held(counts.opentracker)}; ${errors}${failures(ours)}${failures(ref)}`,
        },
        {
          name: `tracker: HTTP announce p99, ${mode.name}`,
          ours: ours.p99Us / 1000,
          reference: ref.p99Us / 1000,
          ratio: ours.p99Us / ref.p99Us,
          unit: 'ms, lower is better',
          note: `p50 ours ${(ours.p50Us / 1000).toFixed(2)} ms, opentracker ${(ref.p50Us / 1000).toFixed(2)} ms`,
        },
      )
    }

    // /feed.xml against Node's own floor: a bare server answering with the same bytes.
    const feed = await get(engine.httpPort, '/feed.xml')
    bare = http.createServer((_req, res) => {
      res.setHeader('Content-Type', 'application/rss+xml; charset=utf-8')
      res.end(feed)
    })
    await new Promise<void>((resolve) => bare?.listen(0, '127.0.0.1', resolve))
    const barePort = (bare.address() as AddressInfo).port
    await wrk(`http://127.0.0.1:${engine.httpPort}/feed.xml`, plain, WARMUP_SECONDS)
    const feedOurs = await wrk(`http://127.0.0.1:${engine.httpPort}/feed.xml`, plain, SECONDS)
    await wrk(`http://127.0.0.1:${barePort}/feed.xml`, plain, WARMUP_SECONDS)
    const feedBare = await wrk(`http://127.0.0.1:${barePort}/feed.xml`, plain, SECONDS)
    results.push({
      name: `tracker: GET /feed.xml per second (${feed.length} bytes), wrk ${THREADS} threads ${CONNECTIONS} connections`,
      ours: rate(feedOurs),
      reference: rate(feedBare),
      ratio: rate(feedOurs) / rate(feedBare),
      unit: 'requests/s, ours / a bare Node server sending the same bytes, higher is better',
      note: `p99 ours ${(feedOurs.p99Us / 1000).toFixed(2)} ms, bare ${(feedBare.p99Us / 1000).toFixed(2)} ms`,
    })
    await new Promise<void>((resolve) => bare?.close(() => resolve()))
    bare = null

    // Memory per tracked peer, through the whole engine: 60,000 new downloaders (distinct ports
    // 1..60,000; the 5,000 above stay), each announcing once, measured on this process.
    const start = memory()
    const before = await swarmCounts(sides.ours, infoHash)
    let offset = 0
    for (let round = 0; round < 20; round++) {
      const r = await wrk(`http://127.0.0.1:${sides.ours}/announce`, script, 3, [hash, String(MEMORY_PEERS), String(RELEASE_SIZE / 2), '1', String(offset)])
      offset += r.requests
      if (offset >= MEMORY_PEERS) break
    }
    const after = await swarmCounts(sides.ours, infoHash)
    const end = memory()
    const added = after.complete + after.incomplete - (before.complete + before.incomplete)
    const fleet = fleetServerMemory()
    const swarmOnly = swarmPeerMemory()
    results.push({
      name: `tracker: memory per tracked peer, ${added.toLocaleString('en')} new downloaders in one swarm through the engine (tracker, dial limiter, completions, fleet view)`,
      ours: (end.heap - start.heap) / Math.max(1, added),
      reference: (end.rss - start.rss) / Math.max(1, added),
      ratio: (end.heap - start.heap) / Math.max(1, end.rss - start.rss),
      unit: 'bytes per peer: ours = JS heap + buffers after GC, reference = RSS; ratio = heap / RSS',
      note: `swarm holds ${after.complete + after.incomplete} peers (reply: complete ${after.complete}, incomplete ${after.incomplete}, ${after.peersReturned} peers returned); one IP, so the fleet view holds one server row for all of them`,
    })
    results.push({
      name: `tracker: memory per peer in the tracker's swarm alone, ${MEMORY_SERVERS.toLocaleString('en')} distinct peers (Swarm directly)`,
      ours: swarmOnly.perPeerBytes,
      reference: swarmOnly.rssPerPeer,
      ratio: swarmOnly.perPeerBytes / swarmOnly.rssPerPeer,
      unit: 'bytes per peer: ours = JS heap after GC, reference = RSS; ratio = heap / RSS',
    })
    results.push({
      name: `tracker: memory per tracked server in the fleet view, ${MEMORY_SERVERS.toLocaleString('en')} distinct IPs announcing one release (FleetModel directly)`,
      ours: fleet.perServerBytes,
      reference: fleet.rssPerServer,
      ratio: fleet.perServerBytes / fleet.rssPerServer,
      unit: 'bytes per server: ours = JS heap after GC, reference = RSS; ratio = heap / RSS',
    })
    return results
  } finally {
    if (bare) bare.close()
    await opentracker?.stop()
    await engine?.close().catch(() => undefined)
    await rm(work, { recursive: true, force: true })
  }
}
