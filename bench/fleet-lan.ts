/**
 * The fleet benchmark's network: a publisher and up to N servers, each in its own namespace on one
 * bridge (test/support/netns.ts), every link capped with tc tbf. Also what is measured on the
 * network itself: the link's real rate, the publisher's veth counters, and the HTTP fan-out that
 * the swarm is compared with. Leftovers of a run that was killed are found and removed at start.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { supervise, type Supervised } from '../test/support/child-process.js'
import { createLan, removeNamespaces, type HostQueue, type Lan } from '../test/support/netns.js'
import { runProcess, type CliResult } from '../test/support/run-cli.js'
import { toolPath } from '../test/support/tools.js'
import { median } from './measure.js'

export const PUBLISHER = 'origin'
const STATE_FILE = '/tmp/swarmdrop-fleet-bench.json'
const HTTP_PORT = 8099

interface RunState {
  pid: number
  /** createLan names every namespace `${tag}-<host>`. */
  tag: string
  dir: string
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function namespacesTagged(tag: string): string[] {
  const list = spawnSync(toolPath('ip'), ['netns', 'list'], { encoding: 'utf8' }).stdout
  return list.split('\n').map((l) => l.split(' ')[0] ?? '').filter((ns) => ns.startsWith(`${tag}-`))
}

/**
 * A previous run killed before its cleanup (SIGKILL, a crash of the machine) leaves its state file:
 * its namespaces, their processes and its folder are removed here. Returns what was found.
 */
export function removeLeftovers(): string[] {
  if (!existsSync(STATE_FILE)) return []
  const state = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as RunState
  if (alive(state.pid) && state.pid !== process.pid) {
    throw new Error(`another fleet benchmark (pid ${state.pid}) is running; run benchmarks one at a time (flock /tmp/swarmdrop-bench.lock ...)`)
  }
  const found = namespacesTagged(state.tag)
  removeNamespaces(found)
  rmSync(state.dir, { recursive: true, force: true })
  unlinkSync(STATE_FILE)
  return [...found, state.dir]
}

export interface FleetLan {
  lan: Lan
  /** Server host names, s1..sN, in address order (.11, .12, ...). */
  servers: string[]
  ipOf(host: string): string
  nsOf(host: string): string
  run(host: string, cmd: string, args: string[]): Promise<CliResult>
  /** A long-running process inside a host. */
  start(host: string, cmd: string, args: string[], graceMs?: number): Supervised
  /** Bytes the host's eth0 has sent (frames, headers included): the ground truth for uploads. */
  txBytes(host: string): Promise<number>
  /** A long-running process in the hub namespace, which holds the bridge and every host's veth end. */
  startInHub(cmd: string, args: string[], graceMs?: number): Supervised
  /** Each host by the name of its veth's end in the hub. */
  hostOfHubSide: Map<string, string>
  destroy(): void
}

/**
 * Builds the LAN and records it in the state file, and starts a watcher outside this process
 * that removes it all if this process dies without cleaning up (SIGKILL cannot be caught).
 */
export function buildFleetLan(serverCount: number, rate: string, dir: string, hostQueue: HostQueue): FleetLan {
  const servers = Array.from({ length: serverCount }, (_, i) => `s${i + 1}`)
  const lan = createLan([[PUBLISHER, rate], ...servers.map((s): [string, string] => [s, rate])], { hostQueue })
  const tag = `sd${process.pid}`
  writeFileSync(STATE_FILE, JSON.stringify({ pid: process.pid, tag, dir } satisfies RunState))
  const ipTool = toolPath('ip')
  const janitor = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done
    grep -q '"pid":${process.pid},' ${STATE_FILE} 2>/dev/null || exit 0
    for ns in $(${ipTool} netns list | awk '{print $1}' | grep '^${tag}-'); do
      for p in $(${ipTool} netns pids "$ns"); do kill -9 "$p"; done
      ${ipTool} netns del "$ns"
    done
    rm -rf '${dir}' ${STATE_FILE}`
  spawn('sh', ['-c', janitor], { detached: true, stdio: 'ignore' }).unref()
  const host = (name: string): { ns: string; ip: string } => {
    const h = lan.hosts[name]
    if (!h) throw new Error(`no host ${name}`)
    return h
  }
  let destroyed = false
  return {
    lan,
    servers,
    ipOf: (name) => host(name).ip,
    nsOf: (name) => host(name).ns,
    run: (name, cmd, args) => {
      const [c, a] = lan.inHost(name, cmd, args)
      return runProcess(c, a)
    },
    start: (name, cmd, args, graceMs) => {
      const [c, a] = lan.inHost(name, cmd, args)
      return supervise(spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] }), graceMs)
    },
    txBytes: async (name) => {
      const r = await runProcess(ipTool, ['-n', host(name).ns, '-s', '-j', 'link', 'show', 'eth0'])
      const [link] = JSON.parse(r.stdout) as { stats64?: { tx?: { bytes?: number } } }[]
      const bytes = link?.stats64?.tx?.bytes
      if (typeof bytes !== 'number') throw new Error(`no tx counter for ${name}: ${r.stdout} ${r.stderr}`)
      return bytes
    },
    startInHub: (cmd, args, graceMs) => supervise(spawn(ipTool, ['netns', 'exec', lan.hub, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), graceMs),
    hostOfHubSide: new Map(Object.values(lan.hosts).map((h) => [h.hubSide, h.name])),
    destroy: () => {
      if (destroyed) return
      destroyed = true
      lan.destroy()
      rmSync(dir, { recursive: true, force: true })
      if (existsSync(STATE_FILE)) unlinkSync(STATE_FILE)
    },
  }
}

const HTTP_SERVER = fileURLToPath(new URL('./fleet-http-server.js', import.meta.url))

/** The plain HTTP file server in `host`, serving `dir` on port 8099. */
export async function startHttpServer(net: FleetLan, host: string, dir: string): Promise<Supervised> {
  const server = net.start(host, process.execPath, [HTTP_SERVER, net.ipOf(host), String(HTTP_PORT), dir], 2000)
  try {
    await server.waitForOutput(/listening/, 10_000, `the HTTP file server in ${host}`)
  } catch (err) {
    await server.stop()
    throw err
  }
  return server
}

export function httpUrl(net: FleetLan, host: string, pathName: string): string {
  return `http://${net.ipOf(host)}:${HTTP_PORT}${pathName}`
}

interface CurlTiming {
  bytes: number
  /** Seconds from the request until the first byte, and until the last. */
  startTransfer: number
  total: number
}

async function curlIn(net: FleetLan, host: string, url: string, out: string): Promise<CurlTiming> {
  const r = await net.run(host, toolPath('curl'), ['-sS', '--fail', '-o', out, '-w', '%{size_download} %{time_starttransfer} %{time_total}', url])
  if (r.code !== 0) throw new Error(`curl ${url} in ${host}: ${r.stderr}`)
  const [bytes, startTransfer, total] = r.stdout.trim().split(' ').map(Number)
  return { bytes: bytes ?? NaN, startTransfer: startTransfer ?? NaN, total: total ?? NaN }
}

/**
 * The rate of one capped link, in bytes per second of payload: `bytes` of zeros from `from` to
 * `to` over one TCP connection, timed from the first byte to the last (the tbf burst and the
 * handshake left out), median of `runs`.
 */
export async function measureLinkRate(net: FleetLan, from: string, to: string, bytes: number, runs = 3): Promise<number> {
  const rates: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = await curlIn(net, to, httpUrl(net, from, `/zero/${bytes}`), '/dev/null')
    rates.push(t.bytes / (t.total - t.startTransfer))
  }
  return median(rates)
}

/**
 * The reference: every server fetches the file over HTTP from the publisher at once, written to
 * its own disk as a copy would be. Returns the wall time until the last one finished (ms).
 */
export async function httpFanOut(net: FleetLan, servers: string[], url: string, outFor: (host: string) => string, size: number): Promise<number> {
  const started = performance.now()
  const timings = await Promise.all(servers.map((s) => curlIn(net, s, url, outFor(s))))
  const ms = performance.now() - started
  const short = timings.map((t, i) => (t.bytes === size ? null : `${servers[i]} got ${t.bytes} of ${size} bytes`)).filter(Boolean)
  if (short.length > 0) throw new Error(`HTTP fan-out incomplete: ${short.join(', ')}`)
  return ms
}
