/**
 * `npm run bench -- fleet`: rollouts of a fresh random release to real fleets in network
 * namespaces, against the physical limit and against copying the file over HTTP.
 *
 * A publisher and up to 8 servers, each in its own namespace on one bridge, every link capped with
 * tc tbf (100 Mbit/s unless SWARMDROP_FLEET_RATE says otherwise). The link's real rate is measured
 * first and gives the Kumar–Ross bound T >= max(S/U, S/d, N·S/(U + N·u)). Each fleet gets its own
 * `swarmdrop serve` (a fresh data dir, from the build this file was compiled into) and fresh
 * clients: qBittorrent subscribed to the feed by RSS (TCP only, as Swarmdrop's setup for it sets;
 * SWARMDROP_FLEET_QBT_PROTOCOL=Both for its TCP+uTP default), Transmission 3.00, aria2 1.36 and rTorrent
 * 0.9.8 given the .torrent URL. A release is published and timed until every server has it, from
 * the fleet view (sampled every 0.5 s inside the publisher's namespace), checked against each
 * client's own completion hook and the SHA-1 of every copy on disk. The publisher's upload is read
 * from the engine and from its veth's tx counter. Every host's link counters, read from the hub's
 * ends of the veths on each sample, say where the time went: how busy the publisher's upload was,
 * and the servers' downloads and uploads (a line per fleet; `links` and `linkUse` in the JSON).
 * The reference is an HTTP fan-out of a file of the same size from the publisher to the same N
 * namespaces, in the same run.
 *
 * Env: SWARMDROP_FLEET_MIB (release size, default 200), SWARMDROP_FLEETS (comma list of
 * aria2x4, qbtx4, mixed4, mixed8, aria2x8, qbtx8; default all), SWARMDROP_FLEET_RATE (tc rate,
 * default 100mbit), SWARMDROP_FLEET_RESULTS (where the table, JSON and SVGs go; default a new
 * temporary folder), SWARMDROP_FLEET_HTTP=0 (no HTTP reference), SWARMDROP_FLEET_PEERS=1 (each
 * rTorrent's, Transmission's and qBittorrent's own view of its peers in the progress lines),
 * SWARMDROP_FLEET_CLIENT_LOGS=DIR (aria2's info logs), SWARMDROP_FLEET_RT_SETUP=0 (rTorrent
 * without Swarmdrop's setup lines), SWARMDROP_FLEET_RT_RC (more rtorrent.rc lines), SWARMDROP_FLEET_QBT_SETUP=0 (qBittorrent with its
 * own 4 upload slots per torrent), SWARMDROP_FLEET_QBT_CONF (more [BitTorrent] lines),
 * SWARMDROP_FLEET_QBT_PROTOCOL=Both, SWARMDROP_FLEET_REPORT_MS (progress line interval, default
 * 10000), SWARMDROP_FLEET_ROUNDS=K (each fleet K times, rounds interleaved, with medians and
 * ranges after the table), SWARMDROP_FLEET_WEBSEED=0 (publish without the web seed, which is on by default),
 * SWARMDROP_FLEET_QUEUE=fifo (each host's one tbf queue, ACKs behind its upload; see HOST_QUEUE). Nothing
 * fails on a slow run: a fleet that does not finish is reported so.
 */
import { spawnSync } from 'node:child_process'
import { createHash, randomFillSync } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Supervised } from '../test/support/child-process.js'
import { toolPath } from '../test/support/tools.js'
import type { BenchResult } from './bench-result.js'
import { CLIENT_LABEL, startClient, type ClientKind, type FleetClient } from './fleet-clients.js'
import { NATIVE_RC4_NODE_FLAG } from '../electron/engine/peer-encryption.js'
import { buildFleetLan, httpFanOut, httpUrl, measureLinkRate, PUBLISHER, removeLeftovers, startHttpServer, type FleetLan } from './fleet-lan.js'
import type { HostQueue } from '../test/support/netns.js'
import { cpuUse, describeCpuUse, describeLinkUse, describeStarts, judgedMs, kumarRossBound, linkUse, renderProgressSvg, renderRoundsTable, renderTable, type CpuSample, type CpuUse, type FleetOutcome, type LinkSample, type LinkUse, type ProgressSeries } from './fleet-report.js'
import type { FleetSample } from './fleet-sampler.js'
import type { LinkCountersLine } from './fleet-link-sampler.js'

const CLI = fileURLToPath(new URL('./fleet-swarmdrop-cli.js', import.meta.url))
const SAMPLER = fileURLToPath(new URL('./fleet-sampler.js', import.meta.url))
const LINK_SAMPLER = fileURLToPath(new URL('./fleet-link-sampler.js', import.meta.url))
const SAMPLE_MS = 500
const HTTP_PORT = 7070
const PEER_PORT = 6881
const LINK_PROBE_BYTES = 16 * 1024 * 1024
/** After every client says it is done, how long the fleet view gets to see the last completion. */
const FLEET_VIEW_GRACE_MS = 20_000
/** The web seed is on by default, as in the app; SWARMDROP_FLEET_WEBSEED=0 publishes without it. */
const WEB_SEED = process.env.SWARMDROP_FLEET_WEBSEED !== '0'
/**
 * How each host queues what it sends (netns.ts, HostQueue): small packets first by default, as a
 * Debian host's fq_codel does; SWARMDROP_FLEET_QUEUE=fifo for tbf's one queue, as before 2026-12-01.
 */
const HOST_QUEUE: HostQueue = process.env.SWARMDROP_FLEET_QUEUE === 'fifo' ? 'fifo' : 'small-first'
const REPORT_MS = Number(process.env.SWARMDROP_FLEET_REPORT_MS ?? 10_000)

const MIXED: ClientKind[] = ['qbt', 'tr', 'aria2', 'rt']
interface Fleet {
  label: string
  kinds: ClientKind[]
}

const NAMED_FLEETS: Record<string, Fleet> = {
  aria2x4: { label: '4 × aria2', kinds: ['aria2', 'aria2', 'aria2', 'aria2'] },
  qbtx4: { label: '4 × qBittorrent (RSS)', kinds: ['qbt', 'qbt', 'qbt', 'qbt'] },
  mixed4: { label: 'mixed qBittorrent / Transmission / aria2 / rTorrent, N=4', kinds: MIXED },
  mixed8: { label: 'mixed, N=8', kinds: [...MIXED, ...MIXED] },
  aria2x8: { label: '8 × aria2', kinds: Array<ClientKind>(8).fill('aria2') },
  qbtx8: { label: '8 × qBittorrent (RSS)', kinds: Array<ClientKind>(8).fill('qbt') },
}

/** Hosts get 10.77.0.11 onwards; past a few dozen, two cores cannot run the clients at link rate. */
const MAX_SERVERS = 24

/**
 * A named fleet, or an ad-hoc one for looking into a client pairing: kinds joined by '+', each
 * optionally `×K` or `xK` (`rt+aria2x3` is one rTorrent and three aria2; `qbtx16` is a fleet beyond
 * the named ones, up to MAX_SERVERS).
 */
function fleetOf(id: string): Fleet | null {
  const named = NAMED_FLEETS[id]
  if (named) return named
  const kinds: ClientKind[] = []
  const parts: string[] = []
  for (const part of id.split('+')) {
    const m = /^(qbt|tr|aria2|rt)(?:[x×](\d+))?$/.exec(part)
    if (!m) return null
    const kind = m[1] as ClientKind
    const count = Number(m[2] ?? 1)
    kinds.push(...Array<ClientKind>(count).fill(kind))
    parts.push(count === 1 ? CLIENT_LABEL[kind] : `${count} × ${CLIENT_LABEL[kind]}`)
  }
  if (kinds.length === 0 || kinds.length > MAX_SERVERS) return null
  return { label: parts.join(' + '), kinds }
}

interface Rates {
  publisherUp: number
  serverUp: number
  serverDown: number
}

interface FleetRun {
  id: string
  outcome: FleetOutcome
  infoHash: string
  /** Per server: its client, when the client and the fleet view saw it finish (s after publishing), what it took from whom. */
  servers: { host: string; ip: string; client: ClientKind; clientsSeen: string[]; startedS: number | null; clientDoneS: number | null; fleetViewDoneS: number | null; fromPublisher: number | null; fromOthers: number | null; sha1Ok: boolean }[]
  rollout: unknown
  series: ProgressSeries[]
  /** The publisher's BitTorrent upload for this release, [s after publishing, bytes so far]: shows whether its link was kept busy. */
  publisherSent: [number, number][]
  /** Every host's link counters over the rollout, and what they say of each link's use (shares of the measured link rate). */
  links: LinkSample[]
  linkUse: LinkUse
  /** The machine's CPU counters over the rollout, and how busy they say it was from the publish to all complete. */
  cpu: CpuSample[]
  cpuUse: CpuUse | null
  svg: string
}

function cpuModel(): string {
  const r = spawnSync('lscpu', [], { encoding: 'utf8' })
  const model = /^Model name:\s*(.+)$/m.exec(r.stdout ?? '')?.[1]?.trim()
  return `${model ?? os.cpus()[0]?.model ?? 'unknown'} (${os.cpus().length} logical CPUs)`
}

const mbit = (bytesPerSecond: number): string => `${((bytesPerSecond * 8) / 1e6).toFixed(1)} Mbit/s`

/** A fresh random file; returns its SHA-1 so each server's copy can be checked. */
async function writeRandomFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha1')
  const chunk = Buffer.allocUnsafe(8 * 1024 * 1024)
  const fh = await open(file, 'w')
  try {
    for (let done = 0; done < size; ) {
      const part = chunk.subarray(0, Math.min(chunk.length, size - done))
      randomFillSync(part)
      hash.update(part)
      await fh.write(part)
      done += part.length
    }
  } finally {
    await fh.close()
  }
  return hash.digest('hex')
}

async function sha1Of(file: string): Promise<string | null> {
  try {
    const hash = createHash('sha1')
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
    return hash.digest('hex')
  } catch {
    return null
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** The values under `key` in a process's JSON lines since the last call. */
function jsonLines<T>(proc: Supervised, key: string): () => T[] {
  let consumed = 0
  let partial = ''
  return () => {
    const out = proc.output()
    const text = partial + out.slice(consumed)
    consumed = out.length
    const lines = text.split('\n')
    partial = lines.pop() ?? ''
    const values: T[] = []
    for (const line of lines) {
      if (!line.startsWith('{')) continue
      const parsed = JSON.parse(line) as Record<string, T | undefined>
      const value = parsed[key]
      if (value !== undefined) values.push(value)
    }
    return values
  }
}

async function runFleet(o: { id: string; fleet: Fleet; net: FleetLan; dir: string; size: number; rates: Rates; httpMs: number | null; log: (line: string) => void }): Promise<FleetRun> {
  const { id, fleet, net, size, rates, log } = o
  const hosts = net.servers.slice(0, fleet.kinds.length)
  const ips = hosts.map((h) => net.ipOf(h))
  const boundMs = 1000 * kumarRossBound({ size, servers: hosts.length, ...rates })
  const dir = path.join(o.dir, id)
  const dataDir = path.join(dir, 'data')
  await mkdir(path.join(dir, 'pub'), { recursive: true })
  const node = process.execPath
  const started: { stop(): Promise<unknown> }[] = []
  try {
    // As npm start and the service unit run it: OpenSSL's RC4 for the wires qBittorrent encrypts.
    const serve = net.start(PUBLISHER, node, [NATIVE_RC4_NODE_FLAG, CLI, 'serve', '--data-dir', dataDir, '--address', net.ipOf(PUBLISHER), '--http-port', String(HTTP_PORT), '--peer-port', String(PEER_PORT), '--no-reverse-dns'], 10_000)
    started.push(serve)
    await serve.waitForOutput(/swarmdrop: ready/, 30_000, 'swarmdrop serve to be ready')
    const feedUrl = (await serve.waitForOutput(/feed:\s+(\S+)/, 1000, 'the feed URL'))[1] as string
    const sampler = net.start(PUBLISHER, node, [SAMPLER, dataDir, String(SAMPLE_MS), ips.join(',')], 2000)
    started.push(sampler)
    await sampler.waitForOutput(/"roster"/, 15_000, 'the fleet sampler to connect')
    // Every host's link counters through the rollout: where its time went.
    const linkSampler = net.startInHub(node, [LINK_SAMPLER, String(SAMPLE_MS)], 2000)
    started.push(linkSampler)
    await linkSampler.waitForOutput(/"links"/, 15_000, 'the link sampler to start')
    const readLinks = jsonLines<LinkCountersLine['links']>(linkSampler, 'links')
    const clients: FleetClient[] = []
    await Promise.all(
      fleet.kinds.map(async (kind, i) => {
        const c = await startClient(kind, net, hosts[i] as string, path.join(dir, hosts[i] as string), feedUrl)
        clients.push(c)
        started.push(c)
      }),
    )
    clients.sort((a, b) => hosts.indexOf(a.host) - hosts.indexOf(b.host))

    const file = path.join(dir, 'pub', `agent-${id}-${Date.now()}.bin`)
    const sha1 = await writeRandomFile(file, size)
    const tx0 = await net.txBytes(PUBLISHER)
    const published = await net.run(PUBLISHER, node, [CLI, 'publish', file, '--data-dir', dataDir, '--json', ...(WEB_SEED ? [] : ['--no-web-seed'])])
    if (published.code !== 0) throw new Error(`publish: ${published.stderr}`)
    const publishedAt = Date.now()
    const release = (JSON.parse(published.stdout) as { release: { infoHash: string; name: string; torrentUrl: string; totalSize: number } }).release
    await Promise.all(clients.map((c) => c.take(release.torrentUrl)))
    log(`  ${fleet.label}: published ${release.infoHash.slice(0, 12)}, bound ${(boundMs / 1000).toFixed(1)} s; waiting for ${hosts.length} servers`)

    const readSamples = jsonLines<FleetSample>(sampler, 'sample')
    const samples: FleetSample[] = []
    const timeoutMs = Math.max(120_000, 20 * boundMs)
    const doneAt = new Map<string, number>()
    let clientsAllAt: number | null = null
    const cellsOf = (s: FleetSample | undefined): (FleetSample['rows'][number]['cells'][string] | undefined)[] =>
      ips.map((ip) => s?.rows.find((r) => r.ip === ip || r.ip.endsWith(`:${ip}`))?.cells[release.infoHash])
    let lastReport = 0
    for (;;) {
      samples.push(...readSamples())
      for (const c of clients) {
        const at = doneAt.has(c.host) ? undefined : await c.finishedAt()
        if (at) doneAt.set(c.host, at)
      }
      const now = Date.now()
      if (clientsAllAt === null && doneAt.size === clients.length) clientsAllAt = now
      const fleetViewAll = cellsOf(samples.at(-1)).every((c) => c?.state === 'complete')
      if (fleetViewAll && clientsAllAt !== null) break
      if (clientsAllAt !== null && now - clientsAllAt > FLEET_VIEW_GRACE_MS) break
      if (now - publishedAt > timeoutMs) break
      if (now - lastReport > REPORT_MS) {
        lastReport = now
        const pct = cellsOf(samples.at(-1)).map((c) => `${Math.floor((c?.percent ?? 0) * 100)}%`)
        log(`    +${((now - publishedAt) / 1000).toFixed(0)} s: fleet view ${pct.join(' ')}; clients done ${doneAt.size}/${clients.length}`)
        // SWARMDROP_FLEET_PEERS=1: what a client says of its peers (who it took how much from), where it can tell.
        for (const c of process.env.SWARMDROP_FLEET_PEERS === '1' ? clients : []) {
          const peers = doneAt.has(c.host) ? undefined : await c.peerSummary?.(release.infoHash).catch((err: Error) => `(${err.message})`)
          if (peers) log(`      ${c.host} ${CLIENT_LABEL[c.kind]} peers: ${peers}`)
        }
      }
      await sleep(SAMPLE_MS)
    }
    // One more sample, so the counters include the last bytes sent.
    await sleep(SAMPLE_MS + 100)
    samples.push(...readSamples())
    const tx1 = await net.txBytes(PUBLISHER)
    const last = samples.at(-1)
    const rollout = last?.rollouts.find((r) => r.infoHash === release.infoHash)
    const cells = cellsOf(last)
    const fleetViewAll = cells.every((c) => c?.state === 'complete')
    // The rollout's times count from the engine's publishedAt, which the summary does not carry:
    // recover it from the last completion, else use when `publish` returned.
    const completedAts = cells.map((c) => c?.completedAt ?? null)
    const latest = Math.max(...completedAts.map((t) => t ?? -Infinity))
    const t0 = rollout?.lastCompletionMs != null && Number.isFinite(latest) ? latest - rollout.lastCompletionMs : publishedAt
    const clientsMs = doneAt.size === clients.length ? Math.max(...doneAt.values()) - t0 : null
    // The rollout's copies count the web seed's bytes too; the swarm's bytes are BitTorrent's only.
    const swarmBytes = last?.swarms.find((s) => s.infoHash === release.infoHash)?.uploaded ?? null
    const copiesEngine = rollout?.uploadedCopies ?? (swarmBytes === null ? null : swarmBytes / size)

    const servers: FleetRun['servers'] = []
    for (const [i, c] of clients.entries()) {
      const row = last?.rows.find((r) => r.ip === ips[i] || r.ip.endsWith(`:${ips[i]}`))
      const cell = cells[i]
      const copy = await sha1Of(path.join(c.downloadDir, release.name))
      servers.push({
        host: c.host,
        ip: ips[i] as string,
        client: c.kind,
        clientsSeen: row?.clients ?? [],
        startedS: cell?.startedAt != null ? (cell.startedAt - t0) / 1000 : null,
        clientDoneS: doneAt.has(c.host) ? ((doneAt.get(c.host) as number) - t0) / 1000 : null,
        fleetViewDoneS: cell?.completedAt != null ? (cell.completedAt - t0) / 1000 : null,
        fromPublisher: cell?.fromPublisher ?? null,
        fromOthers: cell?.fromOthers ?? null,
        sha1Ok: copy === sha1,
      })
    }
    const notes: string[] = []
    const bad = servers.filter((s) => !s.sha1Ok).map((s) => s.host)
    if (bad.length) notes.push(`copy missing or different on ${bad.join(', ')}`)
    if (!fleetViewAll) notes.push(`fleet view saw ${cells.filter((c) => c?.state === 'complete').length}/${hosts.length} complete`)
    // The fleet view seeing a completion well after the client finished is a fleet-view defect,
    // not slow delivery: named, so the two are not confused.
    const late = servers.filter((s) => s.clientDoneS !== null && s.fleetViewDoneS !== null && s.fleetViewDoneS - s.clientDoneS > 2)
    if (late.length) notes.push(`fleet view saw ${late.map((s) => `${s.host} (${s.client}) ${((s.fleetViewDoneS as number) - (s.clientDoneS as number)).toFixed(1)} s`).join(', ')} after the client finished`)
    // The fleet view's per-server bytes from the publisher should add up to what left its veth.
    const perServer = servers.reduce((sum, s) => sum + (s.fromPublisher ?? 0), 0) / size
    const veth = (tx1 - tx0) / size
    if (Math.abs(perServer - veth) > 0.1 * veth) notes.push(`the fleet view's per-server fromPublisher adds up to ${perServer.toFixed(2)} copies, the veth to ${veth.toFixed(2)}`)
    if (clientsMs === null) notes.push(`clients done ${doneAt.size}/${hosts.length} after ${((Date.now() - publishedAt) / 1000).toFixed(0)} s`)
    const outcome: FleetOutcome = {
      fleet: fleet.label,
      servers: hosts.length,
      fleetViewMs: fleetViewAll && rollout?.lastCompletionMs != null ? rollout.lastCompletionMs : null,
      clientsMs,
      boundMs,
      copiesEngine,
      copiesVeth: veth,
      httpMs: o.httpMs,
      handOutMs: publishedAt - t0,
      ...(notes.length ? { note: notes.join('; ') } : {}),
    }
    const series: ProgressSeries[] = ips.map((ip, i) => ({
      label: `${ip} ${CLIENT_LABEL[fleet.kinds[i] as ClientKind]}`,
      points: samples.map((s): [number, number] => {
        const cell = s.rows.find((r) => r.ip === ip || r.ip.endsWith(`:${ip}`))?.cells[release.infoHash]
        return [(s.at - t0) / 1000, cell?.percent ?? 0]
      }).filter(([t]) => t >= 0),
    }))
    const publisherSent = samples
      .map((s): [number, number] => [(s.at - t0) / 1000, s.swarms.find((w) => w.infoHash === release.infoHash)?.uploaded ?? 0])
      .filter(([t]) => t >= 0)
    const hostsOfFleet = new Set(hosts)
    const linkLines = readLinks()
    const cpu: CpuSample[] = linkLines.flatMap((l) => (l.cpu ? [{ t: (l.at - t0) / 1000, ...l.cpu }] : []))
    const linkSamples: LinkSample[] = linkLines.map((l) => {
      const byHost: LinkSample['hosts'] = {}
      for (const [side, [rx, tx]] of Object.entries(l.counters)) {
        // This fleet's hosts only: a smaller fleet leaves the LAN's other servers idle.
        const host = net.hostOfHubSide.get(side)
        if (host && (host === PUBLISHER || hostsOfFleet.has(host))) byHost[host] = { up: rx, down: tx }
      }
      return { t: (l.at - t0) / 1000, hosts: byHost }
    }).filter((l) => l.t >= -1)
    const use = linkUse(linkSamples, PUBLISHER, hosts, rates)
    log(`  ${fleet.label}: ${describeLinkUse(use)}`)
    log(`  ${fleet.label}: ${describeStarts(servers.map((s) => ({ startedS: s.startedS, doneS: s.fleetViewDoneS })), boundMs)}`)
    const judged = judgedMs(outcome)
    const cpus = cpuUse(cpu, 0, (judged ?? Date.now() - t0) / 1000)
    log(`  ${fleet.label}: ${describeCpuUse(cpus, os.cpus().length)}`)
    const svg = renderProgressSvg({
      title: `${fleet.label}: ${(size / 2 ** 20).toFixed(0)} MiB, ${judged === null ? 'not complete' : `${(judged / 1000).toFixed(1)} s`} (bound ${(boundMs / 1000).toFixed(1)} s)`,
      series,
      boundSeconds: boundMs / 1000,
    })
    return { id, outcome, infoHash: release.infoHash, servers, rollout, series, publisherSent, links: linkSamples, linkUse: use, cpu, cpuUse: cpus, svg }
  } finally {
    for (const s of started.reverse()) await s.stop().catch(() => undefined)
    await rm(dir, { recursive: true, force: true })
  }
}

export async function benchFleet(): Promise<BenchResult[]> {
  const mib = Number(process.env.SWARMDROP_FLEET_MIB ?? 200)
  const size = Math.round(mib * 2 ** 20)
  const rate = process.env.SWARMDROP_FLEET_RATE ?? '100mbit'
  const rounds = Math.max(1, Math.floor(Number(process.env.SWARMDROP_FLEET_ROUNDS ?? 1)) || 1)
  const ids = (process.env.SWARMDROP_FLEETS ?? Object.keys(NAMED_FLEETS).join(',')).split(',').map((s) => s.trim()).filter(Boolean)
  // In the order given, a fleet named twice run twice.
  const fleets: (readonly [string, Fleet])[] = []
  const unknown: string[] = []
  for (const id of ids) {
    const fleet = fleetOf(id)
    if (fleet) fleets.push([id, fleet])
    else unknown.push(id)
  }
  if (unknown.length || !(size > 0)) throw new Error(`SWARMDROP_FLEETS: unknown ${unknown.join(', ')} (choose from ${Object.keys(NAMED_FLEETS).join(', ')}, or kinds joined by '+' such as rt+aria2x3); SWARMDROP_FLEET_MIB must be > 0`)
  for (const tool of ['ip', 'tc', 'curl', 'qbittorrent-nox', 'transmission-daemon', 'transmission-remote', 'aria2c', 'rtorrent']) toolPath(tool)
  const resultsDir = process.env.SWARMDROP_FLEET_RESULTS ?? (await mkdtemp(path.join(os.tmpdir(), 'swarmdrop-fleet-results-')))
  await mkdir(resultsDir, { recursive: true })
  const log = (line: string): void => console.log(line)
  log(`cpu: ${cpuModel()}`)
  const leftovers = removeLeftovers()
  if (leftovers.length) log(`removed leftovers of a killed run: ${leftovers.join(', ')}`)

  const maxN = Math.max(...fleets.map(([, f]) => f.kinds.length))
  const dir = await mkdtemp(path.join(os.tmpdir(), 'swarmdrop-fleet-'))
  let net: FleetLan | null = null
  // Ctrl-C or a kill: the namespaces go, with every process in them (serve, clients, samplers).
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\nfleet bench: ${signal}, removing the namespaces`)
    net?.destroy()
    process.exit(130)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    net = buildFleetLan(maxN, rate, dir, HOST_QUEUE)
    const theNet = net
    log(`fleet LAN: publisher ${net.ipOf(PUBLISHER)} and ${maxN} servers, every link capped at ${rate} (tc tbf), ${HOST_QUEUE === 'small-first' ? "each host sending small packets first, as fq_codel would" : 'one FIFO per host'}`)

    // --- the link's real rate, and the bound it gives -------------------------------------------
    const probeDir = path.join(dir, 'http')
    await mkdir(probeDir, { recursive: true })
    const httpServers = [await startHttpServer(net, PUBLISHER, probeDir), await startHttpServer(net, 's1', probeDir)]
    const httpMsByN = new Map<number, number>()
    let rates: Rates
    try {
      const down = await measureLinkRate(net, PUBLISHER, 's1', LINK_PROBE_BYTES)
      const across = await measureLinkRate(net, 's1', maxN > 1 ? 's2' : PUBLISHER, LINK_PROBE_BYTES)
      // A transfer shows the lesser of the sender's upload and the receiver's download, so a
      // server's download is at least the larger of the two: the bound stays a lower bound.
      rates = { publisherUp: down, serverUp: across, serverDown: Math.max(down, across) }
      log(`link rate measured: publisher → server ${mbit(down)}, server → server ${mbit(across)} (median of 3 × ${LINK_PROBE_BYTES / 2 ** 20} MiB)`)

      // --- the reference: HTTP fan-out of a file of the same size -------------------------------
      const name = 'release.bin'
      await writeRandomFile(path.join(probeDir, name), size)
      // SWARMDROP_FLEET_HTTP=0 leaves the reference out, for a quick look at one fleet.
      const httpNs = process.env.SWARMDROP_FLEET_HTTP === '0' ? [] : [...new Set(fleets.map(([, f]) => f.kinds.length))]
      for (const n of httpNs.sort((a, b) => a - b)) {
        const outDir = path.join(dir, 'http-out')
        await mkdir(outDir, { recursive: true })
        const ms = await httpFanOut(theNet, theNet.servers.slice(0, n), httpUrl(theNet, PUBLISHER, `/files/${name}`), (h) => path.join(outDir, `${h}.bin`), size)
        await rm(outDir, { recursive: true, force: true })
        httpMsByN.set(n, ms)
        log(`HTTP fan-out of ${mib} MiB to ${n} servers: ${(ms / 1000).toFixed(1)} s (ideal ${((n * size) / rates.publisherUp).toFixed(1)} s at the measured rate)`)
      }
      await rm(path.join(probeDir, name))
    } finally {
      for (const s of httpServers) await s.stop()
    }

    // --- the fleets -----------------------------------------------------------------------------
    const runs: FleetRun[] = []
    const tried: FleetOutcome[] = []
    // Rounds interleave the fleets, so a drift in the machine's speed falls on all of them alike.
    for (let round = 1; round <= rounds; round++) {
      for (const [id, fleet] of fleets) {
        if (rounds > 1) log(`round ${round} of ${rounds}: ${fleet.label}`)
        try {
          const run = await runFleet({ id, fleet, net, dir, size, rates, httpMs: httpMsByN.get(fleet.kinds.length) ?? null, log })
          runs.push(run)
          tried.push(run.outcome)
          const svgPath = path.join(resultsDir, rounds > 1 ? `fleet-${id}-${round}.svg` : `fleet-${id}.svg`)
          await writeFile(svgPath, run.svg)
          const t = judgedMs(run.outcome)
          log(`  ${run.outcome.fleet}: ${t === null ? 'not complete' : `${(t / 1000).toFixed(1)} s`}, ${t === null ? '-' : (t / run.outcome.boundMs).toFixed(2)} × bound, ${run.outcome.copiesEngine?.toFixed(2) ?? '-'} copies (veth ${run.outcome.copiesVeth.toFixed(2)})${run.outcome.note ? `; ${run.outcome.note}` : ''}; plot ${svgPath}`)
        } catch (err) {
          log(`  ${fleet.label}: failed: ${(err as Error).message.split('\n').slice(0, 6).join('\n    ')}`)
          tried.push({ fleet: fleet.label, servers: fleet.kinds.length, fleetViewMs: null, clientsMs: null, boundMs: NaN, copiesEngine: null, copiesVeth: NaN, httpMs: null, note: 'failed' })
        }
      }
    }

    const header = `${mib} MiB release, links ${rate} (publisher → server ${mbit(rates.publisherUp)}, server → server ${mbit(rates.serverUp)} measured); cpu ${cpuModel()}`
    const table = renderTable(runs.map((r) => r.outcome)) + (rounds > 1 ? `\n\nOver ${rounds} rounds:\n\n${renderRoundsTable(tried)}` : '')
    log(`\n${header}\n\n${table}\n`)
    const json = {
      cpu: cpuModel(),
      node: process.version,
      releaseBytes: size,
      linkCap: rate,
      hostQueue: HOST_QUEUE,
      measuredRates: rates,
      httpFanOutMs: Object.fromEntries(httpMsByN),
      rounds,
      fleets: runs.map((r) => ({ id: r.id, ...r.outcome, infoHash: r.infoHash, servers: r.servers, rollout: r.rollout, progress: r.series, publisherSent: r.publisherSent, linkUse: r.linkUse, links: r.links })),
    }
    const jsonPath = path.join(resultsDir, 'fleet-bench.json')
    await writeFile(jsonPath, `${JSON.stringify(json, null, 2)}\n`)
    await writeFile(path.join(resultsDir, 'fleet-bench.md'), `${header}\n\n${table}\n`)
    log(`results: ${jsonPath} (table fleet-bench.md, plots fleet-*.svg in ${resultsDir})`)

    return runs.map((r) => {
      const t = judgedMs(r.outcome)
      const http = r.outcome.httpMs
      return {
        name: `fleet ${r.outcome.fleet}: time to all complete vs HTTP fan-out to the same ${r.outcome.servers} namespaces`,
        ours: t === null ? NaN : t / 1000,
        reference: http === null ? NaN : http / 1000,
        ratio: t !== null && http !== null ? t / http : NaN,
        unit: 's',
        note: `${t === null ? '-' : (t / r.outcome.boundMs).toFixed(2)} × bound (${(r.outcome.boundMs / 1000).toFixed(1)} s), ${r.outcome.copiesEngine?.toFixed(2) ?? '-'} copies sent by the publisher (veth ${r.outcome.copiesVeth.toFixed(2)}); targets: ≤ 1.3× bound mixed, ≤ 1.1× homogeneous, ≤ 1.2 copies, ≥ ${(0.8 * r.outcome.servers).toFixed(1)}× faster than HTTP${r.outcome.note ? `; ${r.outcome.note}` : ''}`,
      }
    })
  } finally {
    net?.destroy()
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}
