/**
 * Soak benchmark: a real `swarmdrop serve` process seeding one 64 MiB release (web seed on) to a
 * churning fleet for SWARMDROP_SOAK_MINUTES (default 30, fractions allowed): 10 aria2c peers in
 * a loop (each fetches the .torrent, downloads into a fresh folder, leaves with --seed-time=0,
 * and the next one starts) and 10 web-seed readers in a loop (random Range requests; one in five
 * stops reading for a few seconds, then aborts). Each peer and reader has its own loopback
 * address, as each server on a LAN has its own IP. The serve process's VmRSS and open file
 * descriptors are sampled every 5 s from /proc.
 *
 * Reference = the process itself: the median RSS over the last tenth of the load against the
 * median over the tenth right after a warm-up (a tenth of the run, at most 60 s; target: under
 * 10 % growth), and open fds some seconds after the load stopped against open fds before it
 * started (target: back to where they were, ratio 1.0). Medians, because RSS under this load
 * swings by 15-50 MiB within a minute (pieces and web-seed chunks awaiting the garbage
 * collector): one sample against one sample, as this bench first compared, measured that swing
 * as much as any growth (+15.2 % in a run whose minute samples stayed within 208-231 MiB from
 * the second minute to the end). The single-sample figure is still printed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomInt } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import { cpus, tmpdir } from 'node:os'
import path from 'node:path'
import type { ReleaseSummary } from '../shared/contract.js'
import type { BenchResult } from './bench-result.js'
import { median } from './measure.js'
import { askProbe, describeProbe, PROBE_MODULE } from './probe-client.js'
import { benchServeEnv } from './serve-env.js'
import { ARIA2_QUIET } from './serve-bench.js'
import { connectInstance, type InstanceConnection } from '../electron/cli/instance-client.js'
import { freePorts } from '../test/support/ports.js'
import { startServeProcess, type ServeProcess } from '../test/support/serve-process.js'

const SIZE = 64 * 1024 * 1024
const PEERS = 10
const READERS = 10
const SAMPLE_MS = 5_000
/** Readers close their sockets at the stop; this covers the server's 5 s keep-alive timeout and peers' wire teardown. */
const SETTLE_MS = 20_000
const RSS_TARGET_PCT = 10
/** A 64 MiB loopback download takes seconds; one stuck this long is killed and counted as failed. */
const PEER_TIMEOUT_MS = 180_000
const READER_TIMEOUT_MS = 60_000
const STALL_EVERY = 5
const MAX_RANGE = 4 * 1024 * 1024

interface Sample {
  at: number
  rssKiB: number
  fds: number
}

async function sampleProcess(pid: number): Promise<Sample> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  if (!rss?.[1]) throw new Error(`soak bench: no VmRSS in /proc/${pid}/status`)
  return { at: performance.now(), rssKiB: Number(rss[1]), fds: (await readdir(`/proc/${pid}/fd`)).length }
}

function soakMinutes(): number {
  const raw = process.env.SWARMDROP_SOAK_MINUTES
  if (raw === undefined || raw === '') return 30
  const minutes = Number(raw)
  if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`SWARMDROP_SOAK_MINUTES must be a positive number of minutes, got "${raw}"`)
  return minutes
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** publish.start over the admin WebSocket, resolved by the publish.done of that job (events may beat the reply). */
async function publishViaAdmin(conn: InstanceConnection, file: string): Promise<ReleaseSummary> {
  let jobId: string | null = null
  const seen = new Map<string, { release?: ReleaseSummary; error?: string }>()
  let wake: () => void = () => undefined
  const offDone = conn.api.on('publish.done', (e) => {
    seen.set(e.jobId, { release: e.release })
    wake()
  })
  const offError = conn.api.on('publish.error', (e) => {
    seen.set(e.jobId, { error: `${e.error.code}: ${e.error.message}` })
    wake()
  })
  try {
    jobId = (await conn.call('publish.start', { paths: [file], webSeed: true })).jobId
    for (;;) {
      const outcome = seen.get(jobId)
      if (outcome?.release) return outcome.release
      if (outcome?.error) throw new Error(`soak bench: publish failed: ${outcome.error}`)
      await new Promise<void>((resolve) => (wake = resolve))
    }
  } finally {
    offDone()
    offError()
  }
}

interface Load {
  stopping: boolean
  peerRounds: number
  peerFailures: number
  peerErrors: string[]
  served: number
  stalled: number
  readerErrors: number
  readerErrorSamples: string[]
  slotErrors: string[]
  children: Set<ChildProcess>
  agents: http.Agent[]
}

function noteError(list: string[], message: string): void {
  if (list.length < 3) list.push(message.slice(0, 300))
}

/** One aria2c run; resolves with how it ended, never rejects (a failed round is counted, not fatal). */
function runAria2(load: Load, args: string[]): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const child = spawn('aria2c', args, { stdio: ['ignore', 'ignore', 'pipe'] })
    load.children.add(child)
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), PEER_TIMEOUT_MS)
    child.on('error', (e) => {
      clearTimeout(timer)
      load.children.delete(child)
      resolve({ ok: false, detail: `aria2c could not start (apt-get install -y aria2): ${e.message}` })
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      load.children.delete(child)
      resolve({ ok: code === 0, detail: `aria2c exited ${code ?? signal}: ${err.trim()}` })
    })
  })
}

/** Peer slot `slot`: aria2c after aria2c, each a new server joining, completing and leaving. */
async function peerLoop(load: Load, slot: number, torrentUrl: string, work: string): Promise<void> {
  const ip = `127.0.1.${slot + 1}`
  for (let round = 0; !load.stopping; round++) {
    const dir = path.join(work, `peer${slot}-${round}`)
    const [port] = await freePorts(1)
    if (load.stopping) break
    const result = await runAria2(load, [...ARIA2_QUIET, `--interface=${ip}`, `--dir=${dir}`, '--seed-time=0', `--listen-port=${port}`, `--dht-listen-port=${port}`, torrentUrl])
    await rm(dir, { recursive: true, force: true })
    // A run cut short by the stop is neither a completed round nor a failure.
    if (load.stopping) break
    if (result.ok) load.peerRounds++
    else {
      load.peerFailures++
      noteError(load.peerErrors, result.detail)
      // A failing setup would otherwise spin; back off as a real client's retry would.
      await sleep(1000)
    }
  }
}

/** SIGTERM lets aria2c send its "stopped" announce, as a server shutting down would; SIGKILL whatever is left. */
async function stopChildren(load: Load): Promise<void> {
  const running = [...load.children]
  const closed = running.map((c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('close', () => resolve()))))
  for (const c of running) c.kill('SIGTERM')
  const force = setTimeout(() => {
    for (const c of running) c.kill('SIGKILL')
  }, 5_000)
  await Promise.all(closed)
  clearTimeout(force)
}

type ReadOutcome = { kind: 'served' } | { kind: 'stalled' } | { kind: 'error'; why: string }

/** One Range request; a stalling one stops reading after its first chunk, waits, then aborts. */
function readRange(agent: http.Agent, ip: string, port: number, urlPath: string, stall: boolean): Promise<ReadOutcome> {
  const start = randomInt(0, SIZE)
  const end = Math.min(SIZE - 1, start + randomInt(1, MAX_RANGE))
  return new Promise((resolve) => {
    let settled = false
    const settle = (outcome: ReadOutcome): void => {
      if (settled) return
      settled = true
      resolve(outcome)
    }
    const failed = (why: string): void => settle({ kind: 'error', why })
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, localAddress: ip, agent, headers: { range: `bytes=${start}-${end}` } }, (res) => {
      if (res.statusCode !== 206) {
        res.resume()
        return failed(`web seed answered ${res.statusCode} to bytes=${start}-${end}`)
      }
      let got = 0
      res.on('data', (c: Buffer) => {
        got += c.length
        if (!stall) return
        res.pause()
        stall = false
        setTimeout(() => {
          req.destroy()
          settle({ kind: 'stalled' })
        }, randomInt(2_000, 6_000))
      })
      res.on('end', () => (got === end - start + 1 ? settle({ kind: 'served' }) : failed(`web seed sent ${got} bytes for bytes=${start}-${end}`)))
      res.on('error', (e) => failed(e.message))
      res.on('close', () => {
        if (!res.complete) failed('web-seed response closed early')
      })
    })
    req.setTimeout(READER_TIMEOUT_MS, () => req.destroy(new Error(`no web-seed traffic for ${READER_TIMEOUT_MS} ms`)))
    req.on('error', (e) => {
      // The stall's own abort also lands here: it was settled as a stall already.
      failed(e.message)
    })
  })
}

/** Reader slot `slot`: a BEP 19 client reading ranges over one keep-alive connection, some of them stalling. */
async function readerLoop(load: Load, slot: number, port: number, urlPath: string): Promise<void> {
  const ip = `127.0.2.${slot + 1}`
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  load.agents.push(agent)
  while (!load.stopping) {
    const outcome = await readRange(agent, ip, port, urlPath, randomInt(0, STALL_EVERY) === 0)
    if (load.stopping) break
    if (outcome.kind === 'served') load.served++
    else if (outcome.kind === 'stalled') load.stalled++
    else {
      load.readerErrors++
      // Only errors under load are recorded: the stop itself aborts every reader.
      noteError(load.readerErrorSamples, outcome.why)
      await sleep(1000)
    }
    // A little think time between pieces, so 10 readers model clients rather than a flood.
    await sleep(randomInt(0, 200))
  }
}

export async function benchSoak(): Promise<BenchResult[]> {
  const minutes = soakMinutes()
  const durationMs = minutes * 60_000
  // The first minute fills what is meant to fill (the 32 MiB piece cache per release, V8's heap
  // settling under this load): growth after it is what a leak shows up as.
  const warmupMs = Math.min(0.1 * durationMs, 60_000)
  const cpu = cpus()
  console.log(`cpu: ${cpu[0]?.model ?? 'unknown'} (${cpu.length} logical); soak ${minutes} min, baseline after ${(warmupMs / 1000).toFixed(0)} s`)

  const work = await mkdtemp(path.join(tmpdir(), 'swarmdrop-soak-bench-'))
  const load: Load = { stopping: false, peerRounds: 0, peerFailures: 0, peerErrors: [], served: 0, stalled: 0, readerErrors: 0, readerErrorSamples: [], slotErrors: [], children: new Set(), agents: [] }
  let serve: ServeProcess | null = null
  let conn: InstanceConnection | null = null
  let sampler: NodeJS.Timeout | null = null
  let loops: Promise<void>[] = []
  try {
    const file = path.join(work, 'soak-64m.bin')
    await writeFile(file, randomBytes(SIZE))
    const dataDir = path.join(work, 'data')
    const [httpPort, peerPort] = await freePorts(2)
    if (httpPort === undefined || peerPort === undefined) throw new Error('soak bench: no free ports')
    const serveEnv = benchServeEnv()
    // The probe says, at the two windows, whether growth is in V8's heap (live JS objects after a
    // full GC), in Buffers, or outside both (malloc's arenas): RSS alone cannot tell a leak from
    // an allocator holding on to freed memory.
    const probeFile = path.join(work, 'probe.json')
    serve = await startServeProcess(
      ['--data-dir', dataDir, '--address', '127.0.0.1', '--http-port', String(httpPort), '--peer-port', String(peerPort)],
      30_000,
      (node, args) => ['env', [`SWARMDROP_MEMORY_PROBE=${probeFile}`, ...serveEnv, node, '--expose-gc', '--import', PROBE_MODULE, ...args]],
    )
    if (serveEnv.length) console.log(`  serve's environment: ${serveEnv.join(' ')}`)
    const pid = serve.child.pid
    if (pid === undefined) throw new Error('soak bench: serve has no pid')
    const probeNow = async (label: string): Promise<string> => {
      const s = await sampleProcess(pid)
      return `${label}: ${describeProbe(s.rssKiB * 1024, await askProbe(pid, probeFile))}`
    }
    conn = await connectInstance(dataDir)
    const release = await publishViaAdmin(conn, file)
    if (!release.webSeedUrl) throw new Error('soak bench: the release has no web seed URL')
    // The admin connection is not part of the load: close it so its socket is not in the fd counts.
    conn.close()
    conn = null
    await sleep(2_000)
    const before = await sampleProcess(pid)
    const webSeedPath = `${new URL(release.webSeedUrl).pathname}${encodeURIComponent(release.name)}`

    const samples: Sample[] = []
    const t0 = performance.now()
    let nextReport = 60_000
    sampler = setInterval(() => {
      void sampleProcess(pid)
        .then((s) => {
          samples.push(s)
          const elapsed = s.at - t0
          if (elapsed >= nextReport) {
            nextReport += 60_000
            console.log(`  ${(elapsed / 60_000).toFixed(1)} min: RSS ${(s.rssKiB / 1024).toFixed(1)} MiB, fds ${s.fds}, peer rounds ${load.peerRounds}, web-seed reads ${load.served}`)
          }
        })
        .catch(() => undefined)
    }, SAMPLE_MS)

    // A loop that throws (not a failed round: those are counted) ends only that slot, and says why.
    const slotFailed = (what: string) => (err: unknown) => noteError(load.slotErrors, `${what}: ${(err as Error).message}`)
    loops = [
      ...Array.from({ length: PEERS }, (_, i) => peerLoop(load, i, release.torrentUrl, work).catch(slotFailed(`peer ${i}`))),
      ...Array.from({ length: READERS }, (_, i) => readerLoop(load, i, httpPort, webSeedPath).catch(slotFailed(`reader ${i}`))),
    ]
    const windowMs = Math.max(0.1 * durationMs, 2 * SAMPLE_MS)
    // Taken once the first window is over, so its full GC does not lower that window's samples.
    const firstProbe = sleep(warmupMs + windowMs).then(() => probeNow('after the first window'))
    firstProbe.catch(() => undefined)
    await Promise.race([sleep(durationMs), serve.exited.then((code) => Promise.reject(new Error(`soak bench: swarmdrop serve exited (${code}) under load. Output:\n${serve?.output().slice(-2000)}`)))])

    clearInterval(sampler)
    sampler = null
    const end = samples.at(-1)
    const baseline = samples.find((s) => s.at - t0 >= warmupMs) ?? end
    if (!end || !baseline) throw new Error('soak bench: no samples under load (is the run shorter than 5 s?)')
    const underLoad = samples.filter((s) => s.at - t0 >= warmupMs)
    const probes = [await firstProbe, await probeNow('at the end of the load')]
    const first = underLoad.filter((s) => s.at - t0 < warmupMs + windowMs).map((s) => s.rssKiB / 1024)
    const last = underLoad.filter((s) => s.at - t0 >= durationMs - windowMs).map((s) => s.rssKiB / 1024)
    if (!first.length || !last.length) throw new Error('soak bench: too few samples for its windows (is the run shorter than a minute?)')

    load.stopping = true
    for (const agent of load.agents) agent.destroy()
    await stopChildren(load)
    await Promise.all(loops)
    await sleep(SETTLE_MS)
    const after = await sampleProcess(pid)
    probes.push(await probeNow(`${SETTLE_MS / 1000} s after the load`))

    const baseMiB = median(first)
    const endMiB = median(last)
    const growth = ((endMiB - baseMiB) / baseMiB) * 100
    const sampleGrowth = ((end.rssKiB - baseline.rssKiB) / baseline.rssKiB) * 100
    const windowMin = (windowMs / 60_000).toFixed(1)
    const peakFds = Math.max(...samples.map((s) => s.fds))
    const rssRange = `${(Math.min(...underLoad.map((s) => s.rssKiB)) / 1024).toFixed(1)}–${(Math.max(...underLoad.map((s) => s.rssKiB)) / 1024).toFixed(1)}`
    const loadNote = `${minutes} min of load (${PEERS} churning aria2c peers + ${READERS} web-seed readers): ${load.peerRounds} peer rounds completed (${load.peerFailures} failed${load.peerErrors.length ? `: ${load.peerErrors.join(' | ')}` : ''}), ${load.served} web-seed requests served, ${load.stalled} stalled and aborted, ${load.readerErrors} reader errors${load.readerErrorSamples.length ? ` (${load.readerErrorSamples.join(' | ')})` : ''}${load.slotErrors.length ? `; slots that gave up: ${load.slotErrors.join(' | ')}` : ''}`
    for (const line of probes) console.log(`  ${line}`)
    return [
      {
        name: `soak: serve RSS over the last tenth of the load vs the tenth after the warm-up (target: under ${RSS_TARGET_PCT} % growth)`,
        ours: endMiB,
        reference: baseMiB,
        ratio: endMiB / baseMiB,
        unit: `MiB VmRSS of the swarmdrop serve process, median of the ${windowMin} min windows (samples every ${SAMPLE_MS / 1000} s); reference = the window after the warm-up`,
        note: `growth ${growth.toFixed(1)} % (${growth < RSS_TARGET_PCT ? 'meets' : 'MISSES'} the < ${RSS_TARGET_PCT} % target); one sample against one: ${(end.rssKiB / 1024).toFixed(1)} MiB at the end against ${(baseline.rssKiB / 1024).toFixed(1)} MiB after the warm-up, ${sampleGrowth >= 0 ? '+' : ''}${sampleGrowth.toFixed(1)} %; RSS before the load ${(before.rssKiB / 1024).toFixed(1)} MiB, ${rssRange} MiB under load after the warm-up, ${(after.rssKiB / 1024).toFixed(1)} MiB ${SETTLE_MS / 1000} s after it; ${loadNote}; ${probes.join('; ')}`,
      },
      {
        name: 'soak: open fds of the serve process after the load vs before it (target: ratio 1.0)',
        ours: after.fds,
        reference: before.fds,
        ratio: after.fds / before.fds,
        unit: `file descriptors; ours = ${SETTLE_MS / 1000} s after the load stopped`,
        note: `${after.fds === before.fds ? 'back to' : after.fds > before.fds ? `${after.fds - before.fds} MORE than` : 'below'} the count before the load; ${baseline.fds} at the baseline, ${end.fds} at the end of the load, peak ${peakFds}; samples every ${SAMPLE_MS / 1000} s`,
      },
    ]
  } finally {
    load.stopping = true
    if (sampler) clearInterval(sampler)
    for (const agent of load.agents) agent.destroy()
    await stopChildren(load)
    await Promise.allSettled(loops)
    conn?.close()
    await serve?.stop()
    await rm(work, { recursive: true, force: true })
  }
}
