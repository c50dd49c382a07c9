/**
 * Fuzzing a real `swarmdrop serve` process on every surface a stranger can reach: the HTTP and UDP
 * tracker, the LAN routes (feed, .torrent files, web seed) and the loopback admin WebSocket. With a
 * release published (and a feed key set, so the key checks run too), it sends, from a fixed-seed
 * PRNG: 10,000 malformed HTTP announces, 3,000 UDP tracker packets, 3,000 requests on every LAN URL
 * shape (bad paths, methods, headers, Range values; some as raw bytes no HTTP client would send)
 * and 300 admin connections with random frames, with and without the token.
 *
 * It proves: the process never exits; it answers garbage with a 4xx or a one-line failure reason,
 * never a 5xx, a hang or someone else's bytes (every 200/206 of the web seed is the published file's
 * exact bytes); unknown info-hashes and the BEP 15 constant as a connection id are always refused,
 * and no fuzzed port, IP field or parameter puts another address in the swarm; state-changing admin
 * commands never pass with a random request; it logs every error in one line ("swarmdrop: ..."),
 * never a stack trace; its RSS stays bounded; and afterwards the feed, the tracker, the web seed and
 * the admin API all still work, and it stops cleanly.
 *
 * Reproducing a failure: every input comes from `seeded(SEED + phase)`, so the same seed sends the
 * same bytes; SWARMDROP_FUZZ_SEED picks another seed. Failures quote the offending input.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import dgram from 'node:dgram'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import http, { type IncomingHttpHeaders } from 'node:http'
import net from 'node:net'
import path from 'node:path'
import WebSocket from 'ws'
import { connectInstance } from '../../electron/cli/instance-client.js'
import { readInstance, adminToken } from '../../electron/engine/data-dir.js'
import { COMMAND_NAMES } from '../../shared/contract.js'
import { clientProtocols, PROTOCOL_VERSION } from '../../shared/ws-protocol.js'
import { supervise, type Supervised } from '../support/child-process.js'
import { pseudoRandom } from '../support/fixtures.js'
import { binaryQueryValue } from '../support/http-request.js'
import { freePorts } from '../support/ports.js'
import { BIN, runCli } from '../support/run-cli.js'
import { tempDir } from '../support/temp.js'
import { announcePacket, connectPacket, PROTOCOL_ID } from '../support/udp-tracker-client.js'
import { within } from '../support/within.js'

const SEED = Number(process.env.SWARMDROP_FUZZ_SEED ?? 0x5eed_f022)
const HTTP_ANNOUNCES = 10_000
const UDP_PACKETS = 3_000
const LAN_REQUESTS = 3_000
const ADMIN_CONNECTIONS = 300
const PEER_CONNECTIONS = 600
const REQUEST_TIMEOUT_MS = 8_000
/** Under the LAN server's 32 connections per IP, counting sockets the server has not closed yet. */
const HTTP_SOCKETS = 8
const MAX_RSS_GROWTH_KIB = 150 * 1024
const ONE_MIB = 1024 * 1024

// ---------------------------------------------------------------------------------------------
// Seeded randomness: mulberry32, so the same seed replays the same inputs (Math.random never).

class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let r = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state)
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296
  }
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  /** lo..hi inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1)
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i++) b[i] = this.int(256)
    return b
  }
  u32(): number {
    return this.int(0x1_0000_0000) >>> 0
  }
  /** Text an HTTP client accepts in a header value: 0x21-0x7e and latin-1 0xa0-0xff. */
  latin1Text(n: number, latin1Share = 0.15): string {
    let s = ''
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.chance(latin1Share) ? this.range(0xa0, 0xff) : this.range(0x21, 0x7e))
    return s
  }
  /** For a URL: Node's parser answers 400 to any byte over 0x7e there, so those stay rare, or the fuzz stops at the parser. */
  urlText(n: number): string {
    return this.latin1Text(n, 0.002)
  }
  digits(n: number): string {
    let s = String(this.range(1, 9))
    for (let i = 1; i < n; i++) s += String(this.int(10))
    return s
  }
}

const seeded = (phase: number): Rng => new Rng(SEED + phase * 0x9e37_79b9)

// ---------------------------------------------------------------------------------------------
// Plumbing: a pool of workers, HTTP with a keep-alive agent, raw TCP, the serve process.

/**
 * The inputs in flight (and the last few finished) when serve logs a fatal error or exits: the
 * suspects a crash report names, since a crash turns every later request into a refused connection.
 */
class InFlight {
  private readonly live = new Map<number, string>()
  private readonly recent: string[] = []
  private next = 0
  suspects: string[] | null = null

  constructor(child: ChildProcess) {
    child.stderr?.on('data', (d: string) => {
      if (/fatal/.test(d)) this.freeze()
    })
    child.once('exit', () => this.freeze())
  }

  async around<T>(what: string, run: () => Promise<T>): Promise<T> {
    const id = this.next++
    this.live.set(id, what)
    try {
      return await run()
    } finally {
      this.live.delete(id)
      this.note(what)
    }
  }

  note(what: string): void {
    this.recent.push(what)
    if (this.recent.length > 8) this.recent.shift()
  }

  private freeze(): void {
    this.suspects ??= [...this.live.values(), ...this.recent]
  }
}

/** Runs `count` jobs, `concurrency` at a time. Inputs are made synchronously in index order, so a seed replays exactly. */
async function runPool<T>(count: number, concurrency: number, make: (i: number) => T, run: (input: T, i: number) => Promise<void>, flight: InFlight, describe: (input: T, i: number) => string): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      const input = make(i)
      await flight.around(describe(input, i), () => run(input, i))
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

interface HttpReply {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

interface HttpSpec {
  method: string
  path: string
  headers: [string, string][]
  body?: Buffer
  /** false: send no Host header at all. */
  setHost: boolean
}

/** One request through `agent`; an error or a timeout is returned, not thrown, so the fuzz can count it. */
function agentRequest(agent: http.Agent, port: number, spec: HttpSpec): Promise<HttpReply | Error> {
  return new Promise((resolve) => {
    let settled = false
    const settle = (v: HttpReply | Error): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(v)
    }
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of spec.headers) {
      const prev = headers[name]
      // Node sends one Host at most; a second one is a raw-bytes case.
      headers[name] = prev === undefined || name.toLowerCase() === 'host' ? value : [...(Array.isArray(prev) ? prev : [prev]), value]
    }
    let req: http.ClientRequest
    try {
      req = http.request({ host: '127.0.0.1', port, method: spec.method, path: spec.path, headers, agent, setHost: spec.setHost }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => settle({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
        res.on('error', (err) => settle(err))
        res.on('aborted', () => settle(new Error('response aborted')))
      })
    } catch (err) {
      // Node refused to send it (an input the generator should not have made): a bug in the test.
      throw new Error(`the HTTP client refused ${JSON.stringify(spec).slice(0, 300)}: ${(err as Error).message}`)
    }
    const timer = setTimeout(() => {
      req.destroy()
      settle(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms: ${spec.method} ${spec.path.slice(0, 200)}`))
    }, REQUEST_TIMEOUT_MS)
    req.on('error', (err) => settle(err))
    req.end(spec.body)
  })
}

interface RawExchange {
  data: Buffer
  timedOut: boolean
  error: string | null
}

/**
 * Writes `bytes` on a fresh connection, half-closes it and reads until the server closes.
 * `reset`: instead of reading to the end, reset (RST) the connection after the first bytes arrive
 * (or at once when `reset === 'now'`), as a client that dies mid-exchange does.
 */
function rawExchange(port: number, bytes: Buffer, options: { reset?: 'now' | 'after-reply'; endAfterWrite?: boolean; onData?: (data: Buffer, socket: net.Socket) => void; timeoutMs?: number } = {}): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let error: string | null = null
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      socket.destroy()
    }, options.timeoutMs ?? REQUEST_TIMEOUT_MS)
    socket.on('error', (err) => (error = err.message))
    socket.on('data', (c: Buffer) => {
      chunks.push(c)
      options.onData?.(Buffer.concat(chunks), socket)
      if (options.reset === 'after-reply' && !socket.destroyed) socket.resetAndDestroy()
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ data: Buffer.concat(chunks), timedOut, error })
    })
    socket.on('connect', () => {
      socket.write(bytes)
      if (options.reset === 'now') socket.resetAndDestroy()
      else if (options.endAfterWrite !== false) socket.end()
    })
  })
}

interface Serve extends Supervised {
  stderr(): string
  flight: InFlight
}

/** `swarmdrop serve` with stderr also kept apart (attached before it can write anything). */
async function startServe(args: string[]): Promise<Serve> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const supervised = supervise(child, 10_000)
  const flight = new InFlight(child)
  let stderr = ''
  child.stderr?.on('data', (d: string) => (stderr += d))
  try {
    await supervised.waitForOutput(/swarmdrop: ready/, 30_000, 'swarmdrop serve to be ready')
  } catch (err) {
    await supervised.stop()
    throw err
  }
  return { ...supervised, stderr: () => stderr, flight }
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`)
  return Number(m[1])
}


function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n')
}

function assertAlive(serve: Serve, phase: string): void {
  const { exitCode, signalCode } = serve.child
  const suspects = (serve.flight.suspects ?? []).map((s) => `  ${s.slice(0, 600)}`).join('\n')
  assert.ok(exitCode === null && signalCode === null, `swarmdrop serve exited during ${phase} (code ${exitCode}, signal ${signalCode}). Its last output:\n${tail(serve.output())}\nInputs in flight or just sent when it failed (seed ${SEED}):\n${suspects}`)
}

/** Where the output stands now, so a phase's check covers only what its own inputs made serve print. */
function logMark(serve: Serve): { output: number; stderr: number } {
  return { output: serve.output().length, stderr: serve.stderr().length }
}

/** Nothing since `mark` is a stack-trace line, and every stderr line is one "swarmdrop:" line. */
function assertOneLineLogs(serve: Serve, mark: { output: number; stderr: number }, phase: string): void {
  const lines = serve.output().slice(mark.output).split('\n')
  const errLines = serve.stderr().slice(mark.stderr).split('\n').filter((l) => l !== '')
  assert.deepEqual(lines.filter((l) => /^\s+at /.test(l)).slice(0, 5), [], `${phase} made serve print a stack trace:\n${tail(serve.output())}`)
  assert.deepEqual(errLines.filter((l) => !l.startsWith('swarmdrop:')).slice(0, 10), [], `${phase} made serve print stderr lines that are not one "swarmdrop:" line each`)
}

function countInto(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1)
}

const summary = (map: Map<string, number>): string =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}:${v}`)
    .join(' ')

/** A failure reason or a tracker reply: a bencoded dictionary, and the reason (if any) on one printable line. */
function checkTrackerBody(body: Buffer, scrape = false): { ok: true; accepted: boolean } | { ok: false; why: string } {
  const text = body.toString('latin1')
  if (!text.startsWith('d') || !text.endsWith('e')) return { ok: false, why: 'not a bencoded dictionary' }
  const reason = /^d14:failure reason(\d+):/.exec(text)
  if (reason) {
    const value = text.slice(reason[0].length, reason[0].length + Number(reason[1]))
    if (!/^[\x20-\x7e]*$/.test(value)) return { ok: false, why: `a failure reason that is not one printable line: ${JSON.stringify(value)}` }
    return { ok: true, accepted: false }
  }
  if (scrape) return text.startsWith('d5:files') ? { ok: true, accepted: true } : { ok: false, why: 'a scrape reply without files' }
  if (!text.includes('8:interval')) return { ok: false, why: 'neither a failure reason nor an interval' }
  // The library's internal peer records (the BEP 3 form has "peer id", not "peerId").
  if (text.includes('6:peerId')) return { ok: false, why: 'internal peer records leaked' }
  return { ok: true, accepted: true }
}

/** The compact peer list of a tracker reply, as ip:port. */
function compactPeers(reply: string): string[] {
  const m = /5:peers(\d+):/.exec(reply)
  if (!m) return []
  const bytes = Buffer.from(reply.slice(m.index + m[0].length, m.index + m[0].length + Number(m[1])), 'latin1')
  const out: string[] = []
  for (let o = 0; o + 6 <= bytes.length; o += 6) out.push(`${[...bytes.subarray(o, o + 4)].join('.')}:${bytes.readUInt16BE(o + 4)}`)
  return out
}

async function getText(port: number, urlPath: string): Promise<string> {
  const agent = new http.Agent({ keepAlive: false })
  try {
    const reply = await agentRequest(agent, port, { method: 'GET', path: urlPath, headers: [], setHost: true })
    if (reply instanceof Error) throw reply
    return reply.body.toString('latin1')
  } finally {
    agent.destroy()
  }
}

// ---------------------------------------------------------------------------------------------
// The published release and what the fuzzers aim at.

interface Target {
  httpPort: number
  adminPort: number
  token: string
  dataDir: string
  feedKey: string
  infoHash: string
  name: string
  /** Path segments inside the release (decoded) and the bytes published. */
  files: { segments: string[]; data: Buffer }[]
  /** A TCP port of ours: accepted announces name it, so the seeder only ever dials us. */
  sinkPort: number
  /** serve's BitTorrent port. */
  peerPort: number
}

const webSeedPath = (t: Target, segments: string[]): string => `/webseed/${t.feedKey}/${t.infoHash}/${[t.name, ...segments].map(encodeURIComponent).join('/')}`

// ---------------------------------------------------------------------------------------------
// 1. HTTP announces.

const pctHex = (hex: string): string => binaryQueryValue(Buffer.from(hex, 'hex'))

/** %XX decoded where it is valid, everything else kept: the most any decoder could read into it. */
const lenientDecode = (text: string): string => text.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))

interface AnnounceSpec extends HttpSpec {
  /** Only a query naming our info-hash may ever be accepted. */
  namesKnownHash: boolean
}

function announceSpec(r: Rng, t: Target): AnnounceSpec {
  const known = pctHex(t.infoHash)
  const fields: [string, string][] = [
    ['info_hash', r.chance(0.6) ? known : binaryQueryValue(r.bytes(20))],
    ['peer_id', binaryQueryValue(Buffer.concat([Buffer.from('-FZ0001-'), r.bytes(12)]))],
    ['port', String(t.sinkPort)],
    ['uploaded', '0'],
    ['downloaded', '0'],
    ['left', r.pick(['0', '1', '65537'])],
    ['compact', r.pick(['0', '1'])],
    ['event', r.pick(['started', 'completed', 'stopped', ''])],
  ]
  const setField = (name: string, value: string): void => {
    const at = fields.findIndex(([n]) => n === name)
    if (at >= 0) fields[at] = [name, value]
    else fields.push([name, value])
  }
  const badNumber = (): string =>
    r.pick(['-1', '-9999', 'abc', '', '1e10', 'NaN', 'Infinity', '-0', '1.5', '0x10', '+5', '18446744073709551616', '99999999999999999999', '999999999999999999999', r.digits(r.range(21, 400)), binaryQueryValue(r.bytes(r.range(1, 12)))])
  // Every port here is invalid, or ours: an accepted announce makes the seeder dial it.
  const badPort = (): string => r.pick(['0', '70000', '-1', 'abc', '65536', '', '1e3', '0x50', '+80', '%2080', '99999999999999999999', '00000000', binaryQueryValue(r.bytes(2))])
  const mutations = r.chance(0.08) ? 0 : r.range(1, 4)
  for (let m = 0; m < mutations; m++) {
    switch (r.int(16)) {
      case 0: {
        if (fields.length > 0) fields.splice(r.int(fields.length), 1)
        break
      }
      case 1: {
        const f = r.pick(fields)
        if (f) fields.splice(r.int(fields.length + 1), 0, r.chance(0.5) ? [f[0], f[1]] : [f[0], badNumber()])
        break
      }
      case 2:
        setField('info_hash', r.chance(0.5) ? binaryQueryValue(r.bytes(r.pick([0, 1, 19, 21, 40, r.range(2, 300)]))) : r.pick([t.infoHash, t.infoHash.toUpperCase(), known.slice(0, -3), `${known}%00`, r.urlText(20)]))
        break
      case 3:
        setField('peer_id', binaryQueryValue(r.bytes(r.pick([0, 1, 19, 21, 40, r.range(2, 300)]))))
        break
      case 4:
        setField('port', badPort())
        break
      case 5:
        setField(r.pick(['left', 'uploaded', 'downloaded']), badNumber())
        break
      case 6:
        setField('compact', r.pick(['2', '-1', '', 'abc', '01', '1%20', '3', '255', '99999999999']))
        break
      case 7:
        setField('numwant', r.pick(['0', '50', '4294967295', '4294967296', '99999999999', '-1', 'abc', '1e9', '', r.digits(r.range(11, 200))]))
        break
      case 8:
        setField('event', r.chance(0.5) ? r.pick(['garbage', 'STARTED', 'started%00', 'start', 'paused', 'empty', 'update', '%FF%FE']) : binaryQueryValue(r.bytes(r.range(1, 64))))
        break
      case 9:
        for (let k = r.range(1, 20); k > 0; k--) fields.push([binaryQueryValue(r.bytes(r.range(0, 16))), binaryQueryValue(r.bytes(r.range(0, 64)))])
        break
      case 10: {
        // Broken percent-encoding, in a value or a name.
        const f = r.pick(fields)
        if (f) f[r.int(2)] += r.pick(['%', '%g1', '%4', '%%', '%u0041', '%zz'])
        break
      }
      case 11:
        // A second field that only decodes to a known name.
        fields.push([r.pick(['compac%74', 'info%5Fhash', 'p%6frt', 'lef%74', '%65vent']), r.pick(['2', known, '0', 'x'])])
        break
      case 12:
        fields.push([r.pick(['pad', 'key', 'trackerid', 'ip']), 'A'.repeat(r.pick([1024, 8 * 1024, r.range(16 * 1024, 24 * 1024)]))])
        break
      case 13:
        setField(r.pick(['key', 'trackerid', 'ip', 'ipv6', 'supportcrypto', 'no_peer_id', 'corrupt', 'requirecrypto']), r.chance(0.5) ? r.urlText(r.range(0, 40)) : binaryQueryValue(r.bytes(r.range(0, 40))))
        break
      case 14:
        // Empty and degenerate pairs.
        fields.splice(r.int(fields.length + 1), 0, [r.pick(['', '=', 'info_hash', 'port=', '&']), ''])
        break
      default: {
        // Never a random port: one that happens to be valid (say "2") would make the seeder dial it.
        const f = r.pick(fields)
        if (f) f[1] = f[0] === 'port' ? badPort() : r.urlText(r.range(0, 60))
      }
    }
  }
  // Whatever the mutations made, a port the tracker would accept is ours: the seeder dials the
  // port of every accepted announce, and must never be sent to a stranger's service on this host.
  for (const f of fields) {
    const value = lenientDecode(f[1])
    if (lenientDecode(f[0]) === 'port' && /^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535) f[1] = String(t.sinkPort)
  }
  let query = fields.map(([n, v]) => (v === '' && r.chance(0.3) ? n : `${n}=${v}`)).join(r.chance(0.97) ? '&' : r.pick(['&&', ';', '&amp;']))
  if (r.chance(0.03)) query = r.chance(0.5) ? r.urlText(r.range(0, 2000)) : binaryQueryValue(r.bytes(r.range(0, 3000)))
  const route = r.chance(0.9) ? '/announce' : r.pick(['/scrape', '/announce/', '/ANNOUNCE', '/announce%00', '//announce', '/announce.php'])
  const method = r.chance(0.9) ? 'GET' : r.pick(['HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'])
  // Decoded leniently, as any of the library's decoders might: does any field carry our 20 bytes?
  const decoded = lenientDecode(query)
  return { method, path: `${route}${r.chance(0.98) ? '?' : '??'}${query}`, headers: [['User-Agent', 'fuzz/1.0']], setHost: true, namesKnownHash: decoded.includes(Buffer.from(t.infoHash, 'hex').toString('latin1')) }
}

async function fuzzHttpAnnounces(tc: TestContext, t: Target, serve: Serve): Promise<void> {
  const r = seeded(1)
  const agent = new http.Agent({ keepAlive: true, maxSockets: HTTP_SOCKETS })
  const statuses = new Map<string, number>()
  const problems: string[] = []
  let accepted = 0
  let refused = 0
  let errors = 0
  const started = Date.now()
  try {
    await runPool(HTTP_ANNOUNCES, HTTP_SOCKETS * 2, () => announceSpec(r, t), async (spec, i) => {
      const reply = await agentRequest(agent, t.httpPort, spec)
      if (reply instanceof Error) {
        errors++
        if (/no answer within/.test(reply.message)) problems.push(`#${i} hung: ${reply.message}`)
        return
      }
      countInto(statuses, String(reply.status))
      if (reply.status >= 500) problems.push(`#${i} answered ${reply.status}: ${spec.method} ${spec.path.slice(0, 300)}`)
      if (reply.status !== 200 || spec.method === 'HEAD') return
      if (!spec.path.startsWith('/announce?') && !spec.path.startsWith('/scrape?')) return
      const checked = checkTrackerBody(reply.body, spec.path.startsWith('/scrape?'))
      if (!checked.ok) return void problems.push(`#${i} ${checked.why}: ${spec.path.slice(0, 300)} -> ${reply.body.toString('latin1').slice(0, 200)}`)
      if (checked.accepted && spec.path.startsWith('/announce?')) {
        accepted++
        if (!spec.namesKnownHash) problems.push(`#${i} accepted an announce that does not name a published info-hash: ${spec.path.slice(0, 300)}`)
      } else if (!checked.accepted) refused++
    }, serve.flight, (spec, i) => `HTTP announce #${i}: ${spec.method} ${spec.path}`)
  } finally {
    agent.destroy()
  }
  assertAlive(serve, 'the HTTP announce fuzz')
  tc.diagnostic(`HTTP announces: ${HTTP_ANNOUNCES} in ${((Date.now() - started) / 1000).toFixed(1)} s; statuses ${summary(statuses)}; ${accepted} accepted, ${refused} refused with a reason, ${errors} connection errors`)
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} bad answers`)
  assert.ok(accepted > 0 && refused > 0, 'the fuzz reached both the accept and the refuse paths')
  assert.ok(errors <= HTTP_ANNOUNCES / 100, `${errors} requests failed at the connection level`)
}

// ---------------------------------------------------------------------------------------------
// 2. UDP tracker packets.

interface UdpReplyRecord {
  action: number
  text: string
}

async function fuzzUdp(tc: TestContext, t: Target, serve: Serve): Promise<void> {
  const r = seeded(2)
  const socket = dgram.createSocket('udp4')
  const replies = new Map<number, UdpReplyRecord[]>()
  const malformedReplies: string[] = []
  socket.on('message', (msg) => {
    if (msg.length < 8) return void malformedReplies.push(`a ${msg.length}-byte reply`)
    const action = msg.readUInt32BE(0)
    const tid = msg.readUInt32BE(4)
    const text = action === 3 ? msg.subarray(8).toString('utf8') : ''
    if (action > 3) malformedReplies.push(`action ${action}`)
    if (action === 3 && !/^[\x20-\x7e]+$/.test(text)) malformedReplies.push(`an error that is not one printable line: ${JSON.stringify(text)}`)
    const list = replies.get(tid) ?? []
    list.push({ action, text })
    replies.set(tid, list)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const send = (packet: Buffer): Promise<void> => {
    serve.flight.note(`UDP packet of ${packet.length} bytes: ${packet.subarray(0, 120).toString('hex')}`)
    return new Promise((resolve, reject) => socket.send(packet, t.httpPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())))
  }
  // Transaction ids we check are drawn from a range noise rarely hits, and never repeat.
  let nextTid = 0x7a00_0000
  const tid = (): number => nextTid++
  /** Resolves once the tracker answered a connect sent after everything before it: it answers in order. */
  const connect = async (): Promise<Buffer> => {
    const id = tid()
    await send(connectPacket(id))
    const until = Date.now() + 3000
    while (Date.now() < until) {
      const got = replies.get(id)?.find((x) => x.action === 0)
      if (got) break
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    assert.ok(replies.has(id), `the UDP tracker answered no connect within 3 s. Output:\n${tail(serve.output())}`)
    return connectionIds.get(id) ?? Buffer.alloc(8)
  }
  const connectionIds = new Map<number, Buffer>()
  socket.on('message', (msg) => {
    if (msg.length >= 16 && msg.readUInt32BE(0) === 0) connectionIds.set(msg.readUInt32BE(4), Buffer.from(msg.subarray(8, 16)))
  })
  const expectRefused: { tid: number; what: string }[] = []
  const expectError: { tid: number; what: string }[] = []
  const expectAnswer: { tid: number; what: string }[] = []
  const kinds = new Map<string, number>()
  const started = Date.now()
  const announce = (connectionId: Buffer, id: number, knownHash: boolean): Buffer =>
    announcePacket(connectionId, id, {
      infoHash: knownHash ? Buffer.from(t.infoHash, 'hex') : r.bytes(20),
      peerId: Buffer.concat([Buffer.from('-FZ0001-'), r.bytes(12)]),
      downloaded: BigInt(r.u32()) * BigInt(r.u32()),
      left: r.chance(0.5) ? 0n : BigInt(r.u32()),
      uploaded: BigInt(r.u32()),
      event: r.int(4),
      port: t.sinkPort,
      numWant: r.pick([-1, 0, 50, 0x7fffffff]),
      ip: r.chance(0.3) ? `${r.int(256)}.${r.int(256)}.${r.int(256)}.${r.int(256)}` : undefined,
    })
  try {
    let connectionId = await connect()
    const BATCH = 50
    for (let sent = 0; sent < UDP_PACKETS; ) {
      for (let b = 0; b < BATCH && sent < UDP_PACKETS; b++, sent++) {
        const kind = r.int(100)
        if (kind < 40) {
          countInto(kinds, 'noise')
          const noise = r.bytes(r.int(2001))
          // Sometimes noise that looks like the start of a real packet, to get past the first checks.
          if (noise.length >= 16 && r.chance(0.3)) PROTOCOL_ID.copy(noise, 0)
          if (noise.length >= 16 && r.chance(0.5)) noise.writeUInt32BE(r.int(5), 8)
          await send(noise)
        } else if (kind < 60) {
          countInto(kinds, 'valid id + garbage')
          const head = Buffer.alloc(16)
          connectionId.copy(head, 0)
          head.writeUInt32BE(r.pick([1, 1, 2, 2, 0, 3, r.u32()]), 8)
          const id = tid()
          head.writeUInt32BE(id, 12)
          await send(Buffer.concat([head, r.bytes(r.int(1985))]))
          expectAnswer.push({ tid: id, what: 'garbage behind a valid connection id' })
        } else if (kind < 75) {
          countInto(kinds, 'constant id announce')
          const id = tid()
          await send(announce(PROTOCOL_ID, id, r.chance(0.7)))
          expectRefused.push({ tid: id, what: 'an announce with the BEP 15 constant as its connection id' })
        } else if (kind < 90) {
          countInto(kinds, 'truncated announce')
          const id = tid()
          const full = announce(connectionId, id, r.chance(0.7))
          await send(full.subarray(0, r.range(16, 97)))
          expectError.push({ tid: id, what: 'a truncated announce' })
        } else {
          countInto(kinds, 'scrambled announce')
          const id = tid()
          const packet = announce(r.chance(0.9) ? connectionId : r.bytes(8), id, r.chance(0.7))
          packet.writeUInt32BE(r.int(8), 80)
          if (r.chance(0.3)) r.bytes(4).copy(packet, 56 + r.int(36))
          packet.writeUInt16BE(t.sinkPort, 96)
          await send(r.chance(0.2) ? Buffer.concat([packet, r.bytes(r.range(1, 200))]) : packet)
          expectAnswer.push({ tid: id, what: 'a scrambled announce' })
        }
      }
      connectionId = await connect()
    }
  } finally {
    socket.close()
  }
  assertAlive(serve, 'the UDP fuzz')
  const missing = [...expectRefused, ...expectError, ...expectAnswer].filter((e) => !replies.has(e.tid))
  const notRefused = expectRefused.filter((e) => replies.get(e.tid)?.some((x) => x.action !== 3 || !/connection id expired or not issued/.test(x.text)))
  const notError = expectError.filter((e) => replies.get(e.tid)?.some((x) => x.action !== 3))
  let accepted = 0
  for (const e of expectAnswer) if (replies.get(e.tid)?.some((x) => x.action === 1)) accepted++
  tc.diagnostic(`UDP: ${UDP_PACKETS} packets (${summary(kinds)}) in ${((Date.now() - started) / 1000).toFixed(1)} s; ${accepted} scrambled announces accepted; ${missing.length} checked packets unanswered`)
  assert.deepEqual(malformedReplies.slice(0, 10), [], 'every reply is a BEP 15 reply with a one-line error')
  assert.deepEqual(notRefused.slice(0, 5), [], 'the BEP 15 constant is never accepted as a connection id')
  assert.deepEqual(notError.slice(0, 5), [], 'a truncated announce always gets an error')
  // Loopback drops nothing at this pace; allow a trace of loss rather than a flaky test.
  assert.ok(missing.length <= (expectRefused.length + expectError.length + expectAnswer.length) / 100, `${missing.length} packets got no answer, e.g. ${JSON.stringify(missing.slice(0, 3))}`)
}

// ---------------------------------------------------------------------------------------------
// 3. LAN routes: feed, .torrent files, web seed.

interface LanSpec {
  raw: Buffer | null
  /** Raw only: a client that resets the connection at once, or as soon as an answer (a web seed body, say) starts. */
  reset?: 'now' | 'after-reply'
  http: HttpSpec
}

/** Segments that mean something else than themselves somewhere; all valid in an HTTP client's path. */
const EVIL_SEGMENTS = [
  '..', '.', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..%2f..%2f..%2fetc%2fpasswd', '%2f', '%5c', '..%5c..%5c', '%00',
  'a.bin%00.txt', '%', '%zz', '%E0%A4%A', '%C0%AE%C0%AE', '%ef%bf%bd', '%F0%9F%93', '~', '*', '%25', '%252e%252e', ';', '%3B', '%3F', '%23',
  encodeURIComponent('ünï.txt'.normalize('NFD')), encodeURIComponent('📦'), encodeURIComponent('ü'), 'é', '\u00ff\u00fe', '%c3', '..;', '.../', '/etc/passwd',
  '%2F%2Fevil.example', 'CON', 'aux.txt', 'a.bin:stream', 'a.bin.', 'A.BIN', 'sub%20dir', 'sub+dir',
]
/** Only as raw bytes: no HTTP client sends these. */
const RAW_SEGMENTS = ['\u0000', 'a\u0000b', ' ', '\t', 'ünï', '📦', '\\..\\..\\', '..\u0000', '\u00a0', '\r', 'a b', '%00\u0000']

const RANGES = (size: number, r: Rng): string => {
  const a = r.int(size + 2)
  const b = r.int(size + 2)
  return r.pick([
    `bytes=${Math.min(a, b)}-${Math.max(a, b)}`,
    `bytes=${a}-`,
    `bytes=-${r.int(size * 2)}`,
    `bytes=${size}-`,
    `bytes=${size - 1}-`,
    `bytes=0-${size}`,
    `bytes=0-1,3-5`,
    `bytes=0-0,-1`,
    `bytes=${Array.from({ length: r.range(2, 300) }, (_, i) => `${i}-${i}`).join(',')}`,
    'bytes=-5-10',
    'bytes=-1--5',
    'bytes=--1',
    `bytes=${Math.max(a, b) + 1}-${Math.min(a, b)}`,
    'bytes=99999999999999999999-',
    'bytes=0-99999999999999999999999999',
    'bytes=-99999999999999999999999',
    `bytes=${2 ** 53}-${2 ** 53 + 10}`,
    `bytes=${r.digits(r.range(20, 400))}-${r.digits(r.range(20, 400))}`,
    'bytes=1e3-2e3',
    'bytes',
    'bytes=',
    'bytes=-',
    'bytes=-0',
    'bytes=0--0',
    'items=0-1',
    'bytes=a-b',
    ' bytes=1-2',
    'bytes=1-2 ',
    'bytes = 1-2',
    'BYTES=1-2',
    'bytes=0x10-0x20',
    'bytes=1-2;q=0',
    r.latin1Text(r.range(0, 80)),
  ])
}

function lanSpec(r: Rng, t: Target): LanSpec {
  const file = r.pick(t.files)
  const unknownHash = r.bytes(20).toString('hex')
  const hash = r.chance(0.75) ? t.infoHash : r.pick([unknownHash, t.infoHash.toUpperCase(), t.infoHash.slice(0, 39), `${t.infoHash}0`, pctHex(t.infoHash), '', 'z'.repeat(40)])
  const key = r.chance(0.7) ? t.feedKey : r.pick(['', 'wrong', t.feedKey.slice(1), `${t.feedKey}x`, t.feedKey.toUpperCase(), [...t.feedKey].map((c) => `%${c.charCodeAt(0).toString(16)}`).join(''), 'K'.repeat(r.range(100, 5000)), '%00', '%'])
  const keyQuery = (): string => (r.chance(0.8) ? `?key=${key}` : r.pick(['', '?', '?key', `?key=${t.feedKey}&key=wrong`, `?KEY=${t.feedKey}`, `?key=${t.feedKey}%`, `?${r.urlText(r.range(0, 300))}`]))
  let segments: string[]
  let query = ''
  switch (r.int(10)) {
    case 0:
    case 1:
      segments = ['feed.xml']
      query = keyQuery()
      break
    case 2:
    case 3:
      segments = ['torrents', `${hash}${r.chance(0.85) ? '.torrent' : r.pick(['.TORRENT', '', '.torrent/', '.torrent%00', '.torrent.', '.tor'])}`]
      query = keyQuery()
      break
    case 9:
      segments = r.pick([[''], ['announce'], ['scrape'], ['webseed'], ['webseed', ''], ['torrents', ''], ['favicon.ico'], ['feed.xml', '..', 'feed.xml'], ['..', '..', 'etc', 'passwd']])
      query = r.chance(0.5) ? keyQuery() : ''
      break
    default:
      segments = ['webseed', key, hash, t.name, ...file.segments.map(encodeURIComponent)]
      if (r.chance(0.1)) segments.splice(1, 1)
  }
  // Paths that are wrong in every way a web seed request can be.
  const mutations = r.chance(0.4) ? 0 : r.range(1, 3)
  let raw = r.chance(0.15)
  for (let m = 0; m < mutations; m++) {
    const at = r.int(segments.length + 1)
    const evil = raw && r.chance(0.5) ? r.pick(RAW_SEGMENTS) : r.pick(EVIL_SEGMENTS)
    switch (r.int(6)) {
      case 0:
        segments.splice(at, 0, evil)
        break
      case 1:
        segments[Math.min(at, segments.length - 1)] = evil
        break
      case 2:
        segments.splice(at, 0, '')
        break
      case 3:
        segments.splice(at, 0, 'A'.repeat(r.pick([255, 256, 4096, r.range(8000, 30000)])))
        break
      case 4:
        segments.push(...Array.from({ length: r.range(2, 400) }, () => r.pick(['..', '.', 'x', '%2e%2e'])))
        break
      default:
        segments.splice(at, 1)
    }
  }
  let urlPath = `/${segments.join('/')}${query}`
  if (r.chance(0.02)) urlPath = r.pick(['*', `http://evil.example${urlPath}`, `http://127.0.0.1:${t.httpPort}${urlPath}`, `${urlPath}#frag`, `${urlPath}?a=${'b'.repeat(20000)}`])
  // The HTTP client refuses what is not 0x21-0xff, so only the raw path sends those.
  if (/[^\u0021-\u00ff]/.test(urlPath)) raw = true

  const method = r.chance(0.7) ? 'GET' : r.chance(0.5) ? 'HEAD' : r.pick(['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'MKCOL', 'QUERY', 'SEARCH', 'PURGE', 'LINK'])
  const headers: [string, string][] = []
  let setHost = true
  if (r.chance(0.6)) headers.push(['Range', RANGES(file.data.length, r)])
  let body: Buffer | undefined
  for (let h = r.chance(0.5) ? 0 : r.range(1, 4); h > 0; h--) {
    switch (r.int(12)) {
      case 0:
        headers.push(['X-Fuzz', 'h'.repeat(r.pick([1024, 8 * 1024, r.range(17 * 1024, 40 * 1024)]))])
        break
      case 1:
        for (let k = r.range(50, 400); k > 0; k--) headers.push([`X-F${k}`, r.latin1Text(r.range(0, 30))])
        break
      case 2:
        if (r.chance(0.3)) setHost = false
        else headers.push(['Host', r.pick(['', 'evil.example', 'h'.repeat(r.range(300, 9000)), '127.0.0.1:99999', '[::1', '[::1]:7070', 'localhost:0', 'a b', r.latin1Text(r.range(1, 40))])])
        break
      case 3:
        headers.push([r.pick(['If-Modified-Since', 'If-Unmodified-Since', 'If-Range', 'If-None-Match', 'Date']), r.pick(['garbage', 'Thu, 01 Jan 1970 00:00:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT', '*', r.latin1Text(r.range(0, 60))])])
        break
      case 4:
        headers.push(['Connection', r.pick(['close', 'keep-alive', 'upgrade', 'Upgrade, HTTP2-Settings', 'TE, close'])])
        headers.push(['Upgrade', r.pick(['websocket', 'h2c', 'TLS/1.0'])])
        break
      case 5:
        headers.push(['Accept-Encoding', r.pick(['gzip', 'br, deflate', '*;q=0', r.latin1Text(20)])])
        break
      case 6:
        headers.push(['Expect', r.pick(['100-continue', 'garbage'])])
        break
      case 7:
        headers.push(['Transfer-Encoding', 'chunked'])
        body = r.bytes(r.range(0, 4096))
        break
      case 8:
        // Framed: Node sends a GET body without Content-Length, i.e. as garbage after the request,
        // which the raw requests already do on purpose.
        body = r.bytes(r.range(1, 64 * 1024))
        if (!headers.some(([n]) => n === 'Transfer-Encoding')) headers.push(['Content-Length', String(body.length)])
        break
      case 9:
        headers.push(['User-Agent', r.latin1Text(r.range(0, 500))])
        break
      case 10:
        headers.push(['Range', RANGES(file.data.length, r)])
        break
      default:
        headers.push([`X-${r.latin1Text(8).replace(/[^A-Za-z0-9]/g, 'a')}`, r.latin1Text(r.range(0, 200))])
    }
  }
  const spec: HttpSpec = { method, path: urlPath, headers, body, setHost }
  return { raw: raw ? rawRequestBytes(r, t, spec) : null, reset: r.chance(0.15) ? r.pick(['now', 'after-reply'] as const) : undefined, http: spec }
}

/** The request as bytes, with the liberties only a hand-written client takes. */
function rawRequestBytes(r: Rng, t: Target, spec: HttpSpec): Buffer {
  if (r.chance(0.05)) return r.bytes(r.range(1, 4000))
  if (r.chance(0.03)) return Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
  const eol = r.chance(0.9) ? '\r\n' : '\n'
  const method = r.chance(0.85) ? spec.method : r.pick(['get', 'G E T', '', 'GET\u0000', 'CONNECT', 'GETT', 'ÄGET', 'HEAD ', 'X'.repeat(300)])
  const version = r.chance(0.9) ? 'HTTP/1.1' : r.pick(['HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1 ', 'HTTX/1.1', ''])
  const lines = [`${method} ${spec.path} ${version}`]
  if (spec.setHost) lines.push(`Host: 127.0.0.1:${t.httpPort}`)
  for (const [n, v] of spec.headers) lines.push(`${n}: ${v}`)
  switch (r.int(8)) {
    case 0:
      lines.push(`Content-Length: ${r.pick(['5', '-1', 'abc', '99999999999999999999', '5, 6'])}`, `Content-Length: ${r.pick(['5', '6'])}`)
      break
    case 1:
      lines.push('Transfer-Encoding: chunked', 'Content-Length: 3')
      break
    case 2:
      lines.push(' folded: continuation', 'X-Nul: a\u0000b')
      break
    case 3:
      lines.push(`Host: evil.example`)
      break
    default:
  }
  const head = Buffer.from(`${lines.join(eol)}${eol}${eol}`, r.chance(0.5) ? 'utf8' : 'latin1')
  const tailBytes = spec.body ?? (r.chance(0.2) ? Buffer.from(`GET /feed.xml?key=${t.feedKey} HTTP/1.1\r\nHost: x\r\n\r\n`) : Buffer.alloc(0))
  return Buffer.concat([head, tailBytes])
}

/** What a 200 or 206 may be: the feed, a .torrent, a tracker reply, or exactly the published bytes. */
function checkLanSuccess(t: Target, spec: HttpSpec, reply: HttpReply): string | null {
  if (spec.method === 'HEAD') return reply.body.length === 0 ? null : 'a HEAD answer with a body'
  const type = String(reply.headers['content-type'] ?? '')
  if (type.startsWith('application/rss+xml')) return reply.body.includes('<rss') ? null : 'an RSS reply without <rss'
  if (type === 'application/x-bittorrent') return reply.body[0] === 0x64 ? null : 'a .torrent that is not bencoded'
  if (reply.headers['content-disposition'] === 'attachment') {
    const size = reply.body.length
    const rangeHeader = String(reply.headers['content-range'] ?? '')
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(rangeHeader)
    const total = m ? Number(m[3]) : size
    const published = t.files.find((f) => f.data.length === total)
    if (!published) return `web seed bytes of a size (${total}) no published file has`
    const start = m ? Number(m[1]) : 0
    const end = m ? Number(m[2]) : total - 1
    if (reply.status === 206 && !m) return 'a 206 without Content-Range'
    if (!reply.body.equals(published.data.subarray(start, end + 1))) return `web seed bytes ${start}-${end} differ from the published file`
    return null
  }
  if (spec.path.startsWith('/announce') || spec.path.startsWith('/scrape')) return null
  return `an unexpected ${reply.status} (${type})`
}

async function fuzzLan(tc: TestContext, t: Target, serve: Serve): Promise<void> {
  const r = seeded(3)
  const agent = new http.Agent({ keepAlive: true, maxSockets: HTTP_SOCKETS })
  const statuses = new Map<string, number>()
  const problems: string[] = []
  let rawCount = 0
  let errors = 0
  const errorKinds = new Map<string, number>()
  let served = 0
  const started = Date.now()
  const describe = (spec: LanSpec): string => (spec.raw ? `raw ${JSON.stringify(spec.raw.toString('latin1').slice(0, 300))}` : `${spec.http.method} ${spec.http.path.slice(0, 200)} ${JSON.stringify(spec.http.headers).slice(0, 300)}`)
  try {
    await runPool(LAN_REQUESTS, HTTP_SOCKETS, () => lanSpec(r, t), async (spec, i) => {
      if (spec.raw) {
        rawCount++
        const got = await rawExchange(t.httpPort, spec.raw, { reset: spec.reset })
        if (got.timedOut) problems.push(`#${i} hung: ${describe(spec)}`)
        for (const m of got.data.toString('latin1').matchAll(/HTTP\/1\.[01] (\d{3}) /g)) {
          countInto(statuses, `raw ${m[1]}`)
          if (Number(m[1]) >= 500) problems.push(`#${i} answered ${m[1]}: ${describe(spec)}`)
        }
        return
      }
      const reply = await agentRequest(agent, t.httpPort, spec.http)
      if (reply instanceof Error) {
        errors++
        countInto(errorKinds, reply.message.slice(0, 40))
        if (/no answer within/.test(reply.message)) problems.push(`#${i} hung: ${describe(spec)}`)
        return
      }
      countInto(statuses, String(reply.status))
      if (reply.status >= 500) problems.push(`#${i} answered ${reply.status}: ${describe(spec)}`)
      if (reply.status === 200 || reply.status === 206) {
        served++
        const wrong = checkLanSuccess(t, spec.http, reply)
        if (wrong) problems.push(`#${i} ${wrong}: ${describe(spec)}`)
      }
    }, serve.flight, (spec, i) => `LAN request #${i}: ${describe(spec)}`)
  } finally {
    agent.destroy()
  }
  assertAlive(serve, 'the LAN route fuzz')
  tc.diagnostic(`LAN routes: ${LAN_REQUESTS} requests (${rawCount} as raw bytes) in ${((Date.now() - started) / 1000).toFixed(1)} s; statuses ${summary(statuses)}; ${served} served and checked byte for byte; ${errors} connection errors ${summary(errorKinds)}`)
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} bad answers`)
  assert.ok(served > 100, 'the fuzz reached the routes that serve content')
  // Expected, and rare: a 400 for an oversized or contradictory request races the rest of its body
  // (the close can reset the connection before the 400 is read), and Node's parser answers nothing
  // more on a connection after a request that asked to Upgrade. Anything more is a problem.
  assert.ok(errors <= LAN_REQUESTS / 50, `${errors} requests failed at the connection level: ${summary(errorKinds)}`)
}

// ---------------------------------------------------------------------------------------------
// 4. Admin WebSocket.

/**
 * Commands that only read (or name a job that does not exist). Every other command, including any
 * added to the contract later, could change state: it only ever gets a request the checks refuse.
 */
const READ_ONLY = new Set(['snapshot.get', 'publish.cancel'])
const mutating = (command: string): boolean => (COMMAND_NAMES as readonly string[]).includes(command) && !READ_ONLY.has(command)

function randomJson(r: Rng, depth = 0): unknown {
  const k = r.int(depth > 3 ? 6 : 9)
  switch (k) {
    case 0:
      return null
    case 1:
      return r.chance(0.5)
    case 2:
      return r.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, r.u32()])
    case 3:
      return r.latin1Text(r.range(0, 40))
    case 4:
      return r.pick(['', '/', '/etc/passwd', '../../..', 'a'.repeat(r.range(1, 5000)), '\u0000', '🙂', '__proto__'])
    case 5:
      return r.bytes(20).toString('hex')
    case 6:
      return Array.from({ length: r.int(5) }, () => randomJson(r, depth + 1))
    default: {
      const o: Record<string, unknown> = {}
      for (let i = r.int(5); i > 0; i--) o[r.pick(['paths', 'infoHash', 'jobId', 'feedKey', 'httpPort', 'name', 'webSeed', 'pieceLength', '__proto__', 'constructor', r.latin1Text(6)])] = randomJson(r, depth + 1)
      return o
    }
  }
}

/** A request for `command` that the run-time checks refuse whenever the command would change anything. */
function randomRequest(r: Rng, command: string): unknown {
  if (!mutating(command)) return r.chance(0.2) ? undefined : randomJson(r)
  if (command.startsWith('release.') && r.chance(0.4)) return { infoHash: r.bytes(20).toString('hex') }
  if (r.chance(0.2)) return r.pick(['text', 42, [], true, [{}]])
  const o: Record<string, unknown> = { [`fuzz_${r.u32()}`]: randomJson(r) }
  for (let i = r.int(3); i > 0; i--) o[r.pick(['paths', 'infoHash', 'httpPort', 'feedKey', r.latin1Text(5)])] = randomJson(r)
  return o
}

interface Frame {
  data: Buffer | string
  binary: boolean
  /** The id of a result the server owes us (the envelope was readable), or null. */
  expectsResult: number | null
  command: string | null
}

function randomFrame(r: Rng): Frame {
  const k = r.int(100)
  if (k < 8) return { data: r.bytes(ONE_MIB + r.range(1, 64 * 1024)), binary: r.chance(0.5), expectsResult: null, command: null }
  if (k < 16) return { data: Buffer.concat([Buffer.from('{"type":"call","id":1,"command":"'), r.pick([Buffer.from([0xc3, 0x28]), Buffer.from([0xff]), Buffer.from([0xed, 0xa0, 0x80]), r.bytes(20)]), Buffer.from('"}')]), binary: false, expectsResult: null, command: null }
  if (k < 24) return { data: r.bytes(r.range(0, 2000)), binary: true, expectsResult: null, command: null }
  if (k < 34) return { data: r.pick(['{', '}', '{"type":', 'nul', "{'a':1}", '', ' ', '\u0000', '{"id":1,}', r.latin1Text(r.range(1, 200))]), binary: false, expectsResult: null, command: null }
  if (k < 44) return { data: r.pick(['null', '[]', '"call"', '42', '-1', 'true', '[{"type":"call","id":1}]', '1e999']), binary: false, expectsResult: null, command: null }
  const names = [...COMMAND_NAMES]
  const command = r.pick([r.pick(names), r.pick(names), r.pick(names).toUpperCase(), `${r.pick(names)} `, r.latin1Text(r.range(0, 30)), '__proto__', 'constructor', 'toString', 'hasOwnProperty', ''])
  const id = r.pick([r.int(1_000_000), 0, r.u32(), -1, 1.5, '7', null, 2 ** 53, undefined])
  const envelope: Record<string, unknown> = { type: r.chance(0.9) ? 'call' : r.pick(['result', 'hello', 'CALL', 1]), id, command, request: randomRequest(r, command) }
  if (r.chance(0.1)) envelope.extra = randomJson(r)
  const expectsResult = typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null
  return { data: JSON.stringify(envelope), binary: false, expectsResult, command }
}

/** A raw WebSocket frame; `declaredLength` lies about the payload. */
function rawFrame(opcode: number, payload: Buffer, o: { fin?: boolean; rsv?: number; mask?: Buffer | null; declaredLength?: bigint } = {}): Buffer {
  const len = o.declaredLength ?? BigInt(payload.length)
  const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (opcode & 0x0f)]
  const maskBit = o.mask ? 0x80 : 0
  let ext = Buffer.alloc(0)
  if (len < 126n) head.push(maskBit | Number(len))
  else if (len < 65536n) {
    head.push(maskBit | 126)
    ext = Buffer.alloc(2)
    ext.writeUInt16BE(Number(len))
  } else {
    head.push(maskBit | 127)
    ext = Buffer.alloc(8)
    ext.writeBigUInt64BE(len & 0xffff_ffff_ffff_ffffn)
  }
  const body = Buffer.from(payload)
  if (o.mask) for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (o.mask[i % 4] as number)
  return Buffer.concat([Buffer.from(head), ext, o.mask ?? Buffer.alloc(0), body])
}

function randomRawFrame(r: Rng): Buffer {
  const mask = r.bytes(4)
  const u16 = (n: number): Buffer => {
    const b = Buffer.alloc(2)
    b.writeUInt16BE(n)
    return b
  }
  switch (r.int(12)) {
    case 0:
      return rawFrame(r.int(16), r.bytes(r.range(0, 300)), { mask })
    case 1:
      return rawFrame(1, Buffer.from('{"type":"call","id":1,"command":"snapshot.get"}'), { mask, rsv: r.range(1, 7) })
    case 2:
      return rawFrame(1, Buffer.from('{"type":"call","id":1,"command":"snapshot.get"}'), { mask: null })
    case 3:
      return rawFrame(9, r.bytes(r.range(126, 400)), { mask })
    case 4:
      return rawFrame(8, Buffer.concat([u16(r.pick([0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535])), r.bytes(r.int(20))]), { mask })
    case 5:
      return rawFrame(8, Buffer.concat([u16(1000), Buffer.from([0xff, 0xfe, 0xfd])]), { mask })
    case 6:
      return rawFrame(0, r.bytes(r.range(0, 100)), { mask })
    case 7:
      return Buffer.concat([rawFrame(1, Buffer.from('{"type":'), { mask, fin: false }), rawFrame(r.pick([1, 2, 9, 0]), Buffer.from('"call"}'), { mask, fin: r.chance(0.5) })])
    case 8:
      return rawFrame(r.pick([1, 2]), r.bytes(r.range(0, 64)), { mask, declaredLength: r.pick([2n ** 63n, 2n ** 64n - 1n, 2n ** 53n, BigInt(ONE_MIB) + 1n, 2n ** 32n]) })
    case 9:
      return rawFrame(1, r.bytes(10), { mask, declaredLength: BigInt(r.range(11, 100_000)) })
    case 10:
      return rawFrame(9, r.bytes(r.range(0, 125)), { mask, fin: false })
    default:
      return r.bytes(r.range(1, 300))
  }
}

/** The close code the server sent on a raw connection after its 101, or why there is none. */
function serverCloseCode(data: Buffer): string {
  let at = data.indexOf('\r\n\r\n')
  if (at < 0) return 'no-101'
  at += 4
  while (at + 2 <= data.length) {
    const opcode = (data[at] as number) & 0x0f
    let len = (data[at + 1] as number) & 0x7f
    let head = 2
    if (len === 126) {
      if (at + 4 > data.length) break
      len = data.readUInt16BE(at + 2)
      head = 4
    } else if (len === 127) {
      if (at + 10 > data.length) break
      len = Number(data.readBigUInt64BE(at + 2))
      head = 10
    }
    if (opcode === 8) return len >= 2 && at + head + 2 <= data.length ? String(data.readUInt16BE(at + head)) : 'close-without-code'
    at += head + len
  }
  return 'open'
}

function upgradeRequest(r: Rng, t: Target, o: { token: string | null; host?: string; origin?: string; path?: string; protocols?: string; key?: string | null }): Buffer {
  const lines = [`GET ${o.path ?? '/ws'} HTTP/1.1`, `Host: ${o.host ?? `127.0.0.1:${t.adminPort}`}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13']
  if (o.key !== null) lines.push(`Sec-WebSocket-Key: ${o.key ?? r.bytes(16).toString('base64')}`)
  lines.push(`Sec-WebSocket-Protocol: ${o.protocols ?? [`swarmdrop.v${PROTOCOL_VERSION}`, ...(o.token === null ? [] : [`bearer.${o.token}`])].join(', ')}`)
  if (o.origin !== undefined) lines.push(`Origin: ${o.origin}`)
  // (An empty Host is only possible here: Node's client replaces an empty Host with its own.)
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
}

type AdminAction =
  | { kind: 'ws'; protocols: string[]; headers: Record<string, string>; frames: Frame[]; refused: boolean; mismatch: boolean }
  | { kind: 'raw-refused'; request: Buffer; frames: Buffer; reset: 'now' | 'after-reply' }
  | { kind: 'raw-accepted'; request: Buffer; frames: Buffer[]; reset: boolean }

function adminAction(r: Rng, t: Target, i: number): AdminAction {
  const slot = i % 10
  if (slot < 4) return { kind: 'ws', protocols: clientProtocols(t.token), headers: {}, frames: Array.from({ length: r.range(1, 3) }, () => randomFrame(r)), refused: false, mismatch: false }
  if (slot < 6) {
    // Refused before or right after the handshake: no token, a wrong one, a foreign Host or Origin, another version.
    const variant = r.int(6)
    const frames = Array.from({ length: r.range(0, 2) }, () => randomFrame(r))
    switch (variant) {
      case 0:
        return { kind: 'ws', protocols: [`swarmdrop.v${PROTOCOL_VERSION}`], headers: {}, frames, refused: true, mismatch: false }
      case 1:
        return { kind: 'ws', protocols: clientProtocols(r.bytes(32).toString('base64url')), headers: {}, frames, refused: true, mismatch: false }
      case 2:
        return { kind: 'ws', protocols: clientProtocols(t.token), headers: { Host: r.pick(['evil.example', `evil.example:${t.adminPort}`, `127.0.0.1:${t.adminPort + 1}`, `localhost.:${t.adminPort}`]) }, frames, refused: true, mismatch: false }
      case 3:
        return { kind: 'ws', protocols: clientProtocols(t.token), headers: { Origin: r.pick(['http://evil.example', 'null', `http://127.0.0.1:${t.adminPort}.evil.example`]) }, frames, refused: true, mismatch: false }
      case 4:
        return { kind: 'ws', protocols: [`swarmdrop.v${r.pick([0, 1, PROTOCOL_VERSION + 1, 99999])}`, `bearer.${t.token}`], headers: {}, frames, refused: false, mismatch: true }
      default:
        return { kind: 'ws', protocols: clientProtocols(t.token).map((p) => `${p}x`), headers: {}, frames, refused: true, mismatch: false }
    }
  }
  if (slot < 8) {
    // Not `${token} `: HTTP strips trailing whitespace from a header value, so that one is right.
    const token = r.pick([null, 'wrong', t.token.slice(1), `${t.token}x`, `x${t.token}`, 'A'.repeat(r.range(100, 8000))])
    const request = r.chance(0.8)
      ? upgradeRequest(r, t, {
          token,
          host: r.chance(0.2) ? r.latin1Text(r.range(0, 50)) : undefined,
          origin: r.chance(0.2) ? 'http://evil.example' : undefined,
          path: r.chance(0.2) ? r.pick(['/', '/wss', '/ws/', '/WS', '/ws%00', '/../ws', '*']) : undefined,
          protocols: r.chance(0.2) ? r.pick([',,,', ' , ', r.latin1Text(r.range(0, 3000)), `bearer.${t.token.slice(2)}, swarmdrop.v${PROTOCOL_VERSION}`]) : undefined,
          key: r.chance(0.1) ? null : undefined,
        })
      : // The right token in the wrong place: the query string and a Bearer header do not count.
        Buffer.concat([upgradeRequest(r, t, { token: null, path: `/ws?token=${t.token}` }).subarray(0, -2), Buffer.from(`Authorization: Bearer ${t.token}\r\n\r\n`)])
    return { kind: 'raw-refused', request, frames: Buffer.concat(Array.from({ length: r.int(3) }, () => randomRawFrame(r))), reset: r.chance(0.5) ? 'now' : 'after-reply' }
  }
  return { kind: 'raw-accepted', request: upgradeRequest(r, t, { token: t.token }), frames: Array.from({ length: r.range(1, 3) }, () => randomRawFrame(r)), reset: r.chance(0.7) }
}

function describeAction(action: AdminAction): string {
  if (action.kind === 'ws') return `ws ${JSON.stringify(action.protocols).slice(0, 120)} ${JSON.stringify(action.headers)} frames ${action.frames.map((f) => (typeof f.data === 'string' ? f.data : `${f.binary ? 'binary' : 'text'} ${f.data.length} bytes ${f.data.subarray(0, 40).toString('hex')}`).slice(0, 300)).join(' | ')}`
  const frames = action.kind === 'raw-refused' ? action.frames : Buffer.concat(action.frames)
  return `${action.kind} ${JSON.stringify(action.request.toString('latin1').slice(0, 400))} then ${frames.length} frame bytes ${frames.subarray(0, 60).toString('hex')}`
}

interface AdminStats {
  closeCodes: Map<string, number>
  errors: Map<string, number>
  results: number
  problems: string[]
}

/** One `ws` client connection: wait for hello, send the frames, wait for the answers owed or the close. */
function runWsAction(t: Target, action: Extract<AdminAction, { kind: 'ws' }>, stats: AdminStats, i: number): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.adminPort}/ws`, action.protocols, { headers: action.headers, handshakeTimeout: 5000, maxPayload: 8 * ONE_MIB })
    const owed = new Set<number>()
    let hello = false
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.terminate()
      resolve()
    }
    const timer = setTimeout(() => {
      if (hello && owed.size > 0) stats.problems.push(`#${i} never answered ids ${[...owed].join(',')} of ${action.frames.map((f) => String(f.data).slice(0, 200)).join(' | ')}`)
      else if (!hello && !action.refused) stats.problems.push(`#${i} no hello within ${REQUEST_TIMEOUT_MS} ms`)
      finish()
    }, REQUEST_TIMEOUT_MS)
    ws.on('open', () => {
      if (action.refused) stats.problems.push(`#${i} a connection that must be refused was accepted (${action.protocols.join(', ').slice(0, 80)} ${JSON.stringify(action.headers)})`)
    })
    ws.on('error', (err) => {
      if (done) return
      const what = /Unexpected server response: (\d+)/.exec(err.message)?.[1] ?? err.message.slice(0, 60)
      countInto(stats.errors, what)
      // After the hello, an error is the server cutting us off for a bad frame (EPIPE mid-send): expected.
      if (!hello && !action.refused && !action.mismatch) stats.problems.push(`#${i} an authenticated connection failed: ${err.message}`)
      if (action.refused && what !== '403') stats.problems.push(`#${i} refused with ${what}, not 403 (${JSON.stringify(action.headers)})`)
      finish()
    })
    ws.on('close', (code) => {
      // Closes we cause ourselves (terminate) come after finish and say nothing about the server.
      if (done) return
      countInto(stats.closeCodes, String(code))
      finish()
    })
    ws.on('message', (data, isBinary) => {
      const text = String(data)
      let msg: { type?: unknown; id?: unknown; result?: { ok?: unknown; error?: { code?: unknown; message?: unknown } } }
      try {
        msg = JSON.parse(text) as typeof msg
      } catch {
        stats.problems.push(`#${i} the server sent a frame that is not JSON: ${text.slice(0, 100)}`)
        return
      }
      if (isBinary || !['hello', 'result', 'event'].includes(String(msg.type))) stats.problems.push(`#${i} an unexpected server frame ${text.slice(0, 100)}`)
      if (msg.type === 'hello' && !hello) {
        hello = true
        if (action.mismatch) return
        for (const f of action.frames) {
          if (f.expectsResult !== null) owed.add(f.expectsResult)
          ws.send(f.data, { binary: f.binary })
        }
        if (owed.size === 0) setTimeout(finish, 1000)
        return
      }
      if (msg.type !== 'result' || typeof msg.id !== 'number') return
      stats.results++
      owed.delete(msg.id)
      const frame = action.frames.find((f) => f.expectsResult === msg.id)
      const error = msg.result?.error
      if (msg.result?.ok !== true && (typeof error?.message !== 'string' || /[\r\n]/.test(error.message) || typeof error.code !== 'string')) stats.problems.push(`#${i} a malformed error result: ${text.slice(0, 200)}`)
      if (frame?.command && mutating(frame.command) && msg.result?.ok === true) stats.problems.push(`#${i} a state-changing command passed: ${String(frame.data).slice(0, 200)}`)
      if (owed.size === 0) finish()
    })
  })
}

async function fuzzAdmin(tc: TestContext, t: Target, serve: Serve): Promise<void> {
  const r = seeded(4)
  const stats: AdminStats = { closeCodes: new Map(), errors: new Map(), results: 0, problems: [] }
  const raw = new Map<string, number>()
  let frames = 0
  const started = Date.now()
  await runPool(ADMIN_CONNECTIONS, 6, (i) => adminAction(r, t, i), async (action, i) => {
    if (action.kind === 'ws') {
      frames += action.frames.length
      return runWsAction(t, action, stats, i)
    }
    if (action.kind === 'raw-refused') {
      frames += action.frames.length > 0 ? 1 : 0
      const got = await rawExchange(t.adminPort, Buffer.concat([action.request, action.frames]), { reset: action.reset, endAfterWrite: false, timeoutMs: 5000 })
      const status = /^HTTP\/1\.1 (\d{3})/.exec(got.data.toString('latin1'))?.[1] ?? (action.reset === 'now' ? 'reset' : 'none')
      countInto(raw, `refused:${status}`)
      if (status === '101') stats.problems.push(`#${i} a raw upgrade without the right token was accepted: ${JSON.stringify(action.request.toString('latin1').slice(0, 400))}`)
      if (got.timedOut) stats.problems.push(`#${i} a refused upgrade was never answered`)
      return
    }
    frames += action.frames.length
    let sent = false
    const got = await rawExchange(t.adminPort, action.request, {
      endAfterWrite: false,
      timeoutMs: 1500,
      onData: (data, socket) => {
        // After the 101 and the hello frame: the random frames, then a reset or silence.
        if (sent || !data.includes('\r\n\r\n') || socket.destroyed) return
        sent = true
        for (const f of action.frames) socket.write(f)
        if (action.reset) setTimeout(() => socket.destroyed || socket.resetAndDestroy(), 100)
      },
    })
    const status = /^HTTP\/1\.1 (\d{3})/.exec(got.data.toString('latin1'))?.[1] ?? 'none'
    if (status !== '101') stats.problems.push(`#${i} a raw upgrade with the token was answered ${status}`)
    countInto(raw, `accepted:${serverCloseCode(got.data)}`)
  }, serve.flight, (action, i) => `admin connection #${i}: ${describeAction(action)}`)
  assertAlive(serve, 'the admin WebSocket fuzz')
  tc.diagnostic(`admin: ${ADMIN_CONNECTIONS} connections, ${frames} frames in ${((Date.now() - started) / 1000).toFixed(1)} s; close codes ${summary(stats.closeCodes)}; client errors ${summary(stats.errors)}; raw ${summary(raw)}; ${stats.results} results`)
  assert.deepEqual(stats.problems.slice(0, 10), [], `${stats.problems.length} problems`)
  const allowed = new Set(['1000', '1002', '1003', '1005', '1007', '1009', '4001'])
  assert.deepEqual([...stats.closeCodes.keys()].filter((c) => !allowed.has(c)), [], `close codes ${summary(stats.closeCodes)}`)
  assert.ok(stats.results >= 10, `the fuzz reached the command dispatcher (${stats.results} results)`)
}

// ---------------------------------------------------------------------------------------------
// 5. Peer wires: what a broken or hostile BitTorrent client sends to the peer port, or answers
// when the seeder dials it.

/** MSE's prime (bittorrent.org's Message Stream Encryption); a public key is 96 bytes. */
const MSE_PRIME = BigInt(
  '0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563',
)
const mseKey = (y: bigint): Buffer => Buffer.from(y.toString(16).padStart(192, '0'), 'hex')
/** Public keys that make the shared secret trivial or lie outside the group. */
const BAD_MSE_KEYS: readonly bigint[] = [0n, 1n, MSE_PRIME - 1n, MSE_PRIME, (1n << 768n) - 1n]
/** Reserved bytes: the extension protocol and the fast extension, as most clients set them. */
const RESERVED = Buffer.from([0, 0, 0, 0, 0, 0x10, 0, 0x04])

interface PeerInput {
  kind: string
  bytes: Buffer
}

function btHandshake(r: Rng, infoHash: Buffer): Buffer {
  return Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocol'), RESERVED, infoHash, r.bytes(20)])
}

/** One length-prefixed message: any id, a payload of any length, a length prefix that may lie. */
function btMessage(r: Rng): Buffer {
  const id = r.chance(0.8) ? r.range(0, 21) : r.int(256)
  const payload = r.bytes(r.chance(0.7) ? r.range(0, 20) : r.range(0, 600))
  const length = Buffer.alloc(4)
  length.writeUInt32BE(r.chance(0.9) ? payload.length + 1 : r.pick([0, 1, 0x7fff_ffff, 0xffff_ffff, r.u32()]))
  return Buffer.concat([length, Buffer.from([id]), payload])
}

/** An extended message (BEP 10): the handshake, or ut_metadata / lt_donthave by the ids we announce, with bencode that may be broken. */
function btExtended(r: Rng): Buffer {
  const dicts = [
    'd1:md11:ut_metadatai1e12:lt_donthavei2ee13:metadata_sizei99999999ee',
    'd1:md11:ut_metadatai-1eee',
    'd1:mi5e1:pi-1e4:reqqi99999999999ee',
    'd8:msg_typei0e5:piecei0ee',
    'd8:msg_typei0e5:piecei-1ee',
    'd8:msg_typei1e5:piecei99999e10:total_sizei5ee',
    'd8:msg_typei2e5:piecei0ee',
    'i99999999999999999999999e',
    'l',
    'd',
    '4:abc',
  ]
  const body = r.chance(0.7) ? Buffer.from(r.pick(dicts)) : r.bytes(r.range(0, 200))
  const extId = r.pick([0, 0, 1, 2, 3, 255])
  const length = Buffer.alloc(4)
  length.writeUInt32BE(body.length + 2)
  return Buffer.concat([length, Buffer.from([20, extId]), body, r.chance(0.3) ? r.bytes(r.range(1, 64)) : Buffer.alloc(0)])
}

function peerInput(r: Rng, t: Target, i: number): PeerInput {
  const ours = Buffer.from(t.infoHash, 'hex')
  if (i < BAD_MSE_KEYS.length) return { kind: 'MSE step 1 with a bad key', bytes: Buffer.concat([mseKey(BAD_MSE_KEYS[i] as bigint), r.bytes(r.int(64))]) }
  switch (r.int(6)) {
    case 0:
      return { kind: 'random bytes', bytes: r.bytes(r.range(1, 2000)) }
    case 1:
      return { kind: 'MSE step 1, random key', bytes: Buffer.concat([r.bytes(96), r.bytes(r.int(600))]) }
    case 2:
      return { kind: 'MSE step 1, bad key', bytes: Buffer.concat([mseKey(r.pick(BAD_MSE_KEYS)), r.bytes(r.int(600))]) }
    case 3:
      return { kind: 'handshake for another release, then messages', bytes: Buffer.concat([btHandshake(r, r.bytes(20)), ...Array.from({ length: r.range(0, 10) }, () => btMessage(r))]) }
    case 4:
      return { kind: 'handshake for the release, then extended messages', bytes: Buffer.concat([btHandshake(r, ours), ...Array.from({ length: r.range(1, 12) }, () => (r.chance(0.7) ? btExtended(r) : btMessage(r)))]) }
    default:
      return { kind: 'handshake for the release, then messages', bytes: Buffer.concat([btHandshake(r, ours), ...Array.from({ length: r.range(1, 40) }, () => btMessage(r))]) }
  }
}

/** Sends `bytes` to serve's peer port and waits for it to close the connection or for a short while. */
function sendToPeerPort(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes))
    const done = (): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve()
    }
    const timer = setTimeout(done, 300)
    socket.on('data', () => undefined)
    socket.on('close', done)
    socket.on('error', done)
  })
}

/**
 * A peer the seeder dials because it announced with pieces to fetch, and that answers our MSE
 * step 1 with `answer`. Resolves once the seeder has dialled it and the connection has ended, or
 * after 5 s; it then announces "stopped", so the swarm is left as it was.
 */
async function hostileDialTarget(t: Target, answer: Buffer, peerId: Buffer): Promise<boolean> {
  let dialled = false
  let settle: () => void = () => undefined
  const ended = new Promise<void>((resolve) => (settle = resolve))
  const server = net.createServer((socket) => {
    dialled = true
    let got = 0
    socket.on('data', (d: Buffer) => {
      got += d.length
      if (got >= 96 && got - d.length < 96) socket.write(answer)
    })
    socket.on('error', () => undefined)
    socket.on('close', () => settle())
    setTimeout(() => socket.destroy(), 2000)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  const announce = (event: string, left: number): Promise<string> =>
    getText(t.httpPort, `/announce?info_hash=${pctHex(t.infoHash)}&peer_id=${binaryQueryValue(peerId)}&port=${port}&uploaded=0&downloaded=0&left=${left}&compact=1&event=${event}`)
  try {
    const reply = await announce('started', 1000)
    assert.ok(!reply.includes('failure reason'), `the hostile peer's announce was accepted: ${reply}`)
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 5000))])
    return dialled
  } finally {
    await announce('stopped', 1000)
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

async function fuzzPeerWires(tc: TestContext, t: Target, serve: Serve): Promise<void> {
  const r = seeded(5)
  const kinds = new Map<string, number>()
  await runPool(
    PEER_CONNECTIONS,
    16,
    (i) => peerInput(r, t, i),
    async (input) => {
      kinds.set(input.kind, (kinds.get(input.kind) ?? 0) + 1)
      await sendToPeerPort(t.peerPort, input.bytes)
    },
    serve.flight,
    (input, i) => `peer connection #${i}: ${input.kind}, ${input.bytes.length} bytes: ${input.bytes.subarray(0, 120).toString('hex')}`,
  )
  tc.diagnostic(`peer connections by kind: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`)
  assertAlive(serve, 'the peer-port connections')
  // The other direction: the seeder dials a server that announces, and it answers with a bad key.
  const answers = [...BAD_MSE_KEYS.map((y) => ({ kind: `key ${y.toString(16).slice(0, 8)}`, bytes: mseKey(y) })), { kind: 'random bytes', bytes: r.bytes(700) }]
  for (const [i, answer] of answers.entries()) {
    const what = `a dialled peer answering MSE step 1 with ${answer.kind}`
    const dialled = await serve.flight.around(what, () => hostileDialTarget(t, answer.bytes, Buffer.from(`-FZ0001-hostile-${String(i).padStart(4, '0')}`)))
    assert.ok(dialled, `the seeder dialled the peer that announced (${what})`)
    assertAlive(serve, what)
  }
}

// ---------------------------------------------------------------------------------------------

test('fuzz: malformed announces, UDP noise, hostile LAN requests, admin frames and peer wires never crash serve, leak or grow it', { timeout: 150_000 }, async (tc) => {
  const cleanups: (() => unknown)[] = []
  // Everything started is stopped, newest first, even when a phase fails.
  tc.after(async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined)
  })
  const { dir, cleanup } = await tempDir('swarmdrop-fuzz-')
  cleanups.push(cleanup)
  const dataDir = path.join(dir, 'data')
  const [httpPort, peerPort] = await freePorts(2)
  assert.ok(httpPort && peerPort)

  const sink = net.createServer((s) => s.destroy())
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise<void>((resolve) => sink.close(() => resolve())))
  const sinkPort = (sink.address() as net.AddressInfo).port

  const serve = await startServe(['--address', '127.0.0.1', '--http-port', String(httpPort), '--peer-port', String(peerPort), '--data-dir', dataDir])
  cleanups.push(() => serve.stop())
  const pid = serve.child.pid
  assert.ok(pid)

  // A feed key, so every key check on the LAN routes runs; then one small web-seeded release.
  const feedKey = `fuzzKey_${seeded(0).bytes(16).toString('hex')}`
  const setup = await within(connectInstance(dataDir), 'connecting to the admin API', REQUEST_TIMEOUT_MS)
  try {
    await within(setup.call('settings.update', { feedKey }), 'settings.update', REQUEST_TIMEOUT_MS)
  } finally {
    setup.close()
  }
  const name = 'fuzz-release'
  const files = [
    { segments: ['a.bin'], data: pseudoRandom(64 * 1024 + 17, 'fuzz a.bin') },
    { segments: ['sub dir', 'ünï.txt'], data: pseudoRandom(3000, 'fuzz ünï.txt') },
  ]
  for (const f of files) {
    await mkdir(path.join(dir, name, ...f.segments.slice(0, -1)), { recursive: true })
    await writeFile(path.join(dir, name, ...f.segments), f.data)
  }
  const published = await runCli(['publish', path.join(dir, name), '--data-dir', dataDir, '--web-seed', '--json'], { timeout: 30_000 })
  assert.equal(published.code, 0, published.stderr)
  const release = (JSON.parse(published.stdout) as { release: { infoHash: string; webSeedUrl: string | null } }).release
  const instance = await readInstance(dataDir)
  assert.ok(instance)
  assert.equal(instance.pid, pid, 'instance.json names the process we started')
  const target: Target = { httpPort, adminPort: instance.adminPort, token: await adminToken(dataDir), dataDir, feedKey, infoHash: release.infoHash, name, files, sinkPort, peerPort }
  assert.equal(release.webSeedUrl, `http://127.0.0.1:${httpPort}${webSeedPath(target, []).replace(/\/[^/]*$/, '/')}`)

  /** The checks that prove serve still does its job; run before (so the fuzz aims right) and after. */
  const stillServes = async (when: string): Promise<void> => {
    const agent = new http.Agent({ keepAlive: false })
    try {
      const get = async (p: string, headers: [string, string][] = []): Promise<HttpReply> => {
        const reply = await agentRequest(agent, httpPort, { method: 'GET', path: p, headers, setHost: true })
        if (reply instanceof Error) throw new Error(`${when}: GET ${p}: ${reply.message}`)
        return reply
      }
      const feed = await get(`/feed.xml?key=${feedKey}`)
      assert.equal(feed.status, 200, `${when}: the feed`)
      assert.ok(feed.body.includes(release.infoHash), `${when}: the feed lists the release`)
      const peerId = binaryQueryValue(Buffer.from('-FZ0001-valid-check-'))
      const announce = await get(`/announce?info_hash=${pctHex(release.infoHash)}&peer_id=${peerId}&port=${sinkPort}&uploaded=0&downloaded=0&left=0&compact=1&event=started`)
      assert.equal(announce.status, 200)
      const checked = checkTrackerBody(announce.body)
      assert.ok(checked.ok && checked.accepted, `${when}: a valid announce is answered with an interval: ${announce.body.toString('latin1')}`)
      for (const f of files) {
        const whole = await get(webSeedPath(target, f.segments))
        assert.equal(whole.status, 200, `${when}: the web seed serves ${f.segments.join('/')}`)
        assert.ok(whole.body.equals(f.data), `${when}: ${f.segments.join('/')} byte-identical`)
        const part = await get(webSeedPath(target, f.segments), [['Range', 'bytes=100-1099']])
        assert.equal(part.status, 206)
        assert.ok(part.body.equals(f.data.subarray(100, 1100)), `${when}: a range of ${f.segments.join('/')}`)
      }
    } finally {
      agent.destroy()
    }
    const admin = await within(connectInstance(dataDir), `${when}: connecting to the admin API`, REQUEST_TIMEOUT_MS)
    try {
      const snap = await within(admin.call('snapshot.get', {}), `${when}: snapshot.get`, REQUEST_TIMEOUT_MS)
      assert.equal(snap.releases.find((x) => x.infoHash === release.infoHash)?.state, 'seeding', `${when}: the admin API answers snapshot.get and the release still seeds`)
      assert.equal(snap.settings.feedKey, feedKey, `${when}: the settings are untouched`)
    } finally {
      admin.close()
    }
  }
  await stillServes('before the fuzz')

  const rssBefore = await rssKiB(pid)
  const started = Date.now()
  const phase = (name: string, fuzz: (st: TestContext, t: Target, s: Serve) => Promise<void>) =>
    tc.test(name, async (st) => {
      const mark = logMark(serve)
      try {
        await fuzz(st, target, serve)
      } finally {
        // Checked per phase, so a multi-line log names the inputs (phase and seed) that caused it.
        assertOneLineLogs(serve, mark, name)
      }
    })
  await phase('10,000 malformed HTTP announces', fuzzHttpAnnounces)
  await phase('3,000 UDP tracker packets', fuzzUdp)
  await phase('3,000 hostile requests on the feed, .torrent and web seed routes', fuzzLan)
  await phase('300 admin WebSocket connections with random frames, with and without the token', fuzzAdmin)
  await phase('600 hostile peer connections (bad MSE keys, random bytes, malformed and extended messages) and 6 hostile peers we dial', fuzzPeerWires)
  const fuzzSeconds = (Date.now() - started) / 1000

  await tc.test('afterwards: still alive and serving, logs in one line, memory bounded', async (st) => {
    assertAlive(serve, 'the fuzz')
    await stillServes('after the fuzz')
    // Every accepted announce named our sink port, from 127.0.0.1: no fuzzed port, IP field or
    // parameter may have put any other address in the swarm (the seeder would dial it).
    const probe = await getText(httpPort, `/announce?info_hash=${pctHex(release.infoHash)}&peer_id=${binaryQueryValue(Buffer.from('-FZ0001-swarm-probe-'))}&port=9&uploaded=0&downloaded=0&left=0&compact=1&numwant=1000`)
    const peers = compactPeers(probe)
    st.diagnostic(`swarm after the fuzz: ${peers.join(' ')}`)
    assert.ok(peers.includes(`127.0.0.1:${sinkPort}`), `the sink is in the swarm: ${probe}`)
    assert.deepEqual(peers.filter((p) => p !== `127.0.0.1:${sinkPort}` && p !== `127.0.0.1:${peerPort}`), [], 'no other address entered the swarm')
    const rssAfter = await rssKiB(pid)
    st.diagnostic(`seed ${SEED}; fuzz ${fuzzSeconds.toFixed(1)} s; VmRSS before ${(rssBefore / 1024).toFixed(1)} MiB, after ${(rssAfter / 1024).toFixed(1)} MiB (${((rssAfter - rssBefore) / 1024).toFixed(1)} MiB growth)`)
    assertAlive(serve, 'the checks after the fuzz')
    assert.equal(await serve.stop(), 0, `serve stops cleanly after the fuzz. Output:\n${tail(serve.output())}`)
    const lines = serve.output().split('\n').filter((l) => l !== '')
    const errLines = serve.stderr().split('\n').filter((l) => l !== '')
    st.diagnostic(`serve logged ${lines.length} lines (${errLines.length} on stderr)${errLines.length ? `; stderr: ${JSON.stringify(errLines.slice(0, 5))}` : ''}`)
    // The whole run, start-up and shutdown included.
    assertOneLineLogs(serve, { output: 0, stderr: 0 }, 'the run')
    assert.ok(rssAfter - rssBefore < MAX_RSS_GROWTH_KIB, `VmRSS grew by ${((rssAfter - rssBefore) / 1024).toFixed(1)} MiB`)
  })
})
