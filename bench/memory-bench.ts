/**
 * Memory benchmark: a real `swarmdrop serve` holding a big release (one sparse file, default
 * 10 GiB: SWARMDROP_MEMORY_BIG_GIB) and a 10,000-file release (4 KB each), sampled from /proc
 * idle, after each publish, and while one aria2c after another downloads each release for
 * SWARMDROP_MEMORY_LOAD_SECONDS (default 30). A sparse file reads back as zeros, and the release
 * is hashed from those very zeros, so every piece a downloader gets checks out.
 *
 * References, in the same run: the 300 MiB target, and aria2c seeding the same two .torrents
 * (our seeder paused, the same tracker) to the same downloaders for the same time.
 *
 * Where the memory is comes from a probe preloaded into serve (memory-probe.ts): V8 heap,
 * Buffers, and the rest of RSS (malloc arenas, code, stacks) at the end of each phase.
 * SWARMDROP_MEMORY_NODE_FLAGS adds node flags to serve, SWARMDROP_BENCH_SERVE_ENV NAME=VALUE pairs
 * to its environment (serve-env.ts).
 */
import { spawn } from 'node:child_process'
import { lstat, mkdir, mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ReleaseSummary } from '../shared/contract.js'
import type { BenchResult } from './bench-result.js'
import { benchServeEnv } from './serve-env.js'
import type { MemoryProbe } from './memory-probe.js'
import { askProbe, describeProbe, mib, PROBE_MODULE } from './probe-client.js'
import { ARIA2_QUIET } from './serve-bench.js'
import { connectInstance } from '../electron/cli/instance-client.js'
import { pseudoRandom } from '../test/support/fixtures.js'
import { freePorts } from '../test/support/ports.js'
import { runProcess } from '../test/support/run-cli.js'
import { startServeProcess, type ServeProcess } from '../test/support/serve-process.js'
import { supervise, type Supervised } from '../test/support/child-process.js'
import { seederAnnounced } from './scrape.js'

const CLI = fileURLToPath(new URL('./fleet-swarmdrop-cli.js', import.meta.url))
const TARGET_MIB = 300
const SMALL_FILES = 10_000
const SMALL_SIZE = 4_000
const SAMPLE_MS = 500
const SETTLE_MS = 3_000

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function positiveEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`)
  return n
}

interface ProcSample {
  rss: number
  fds: number
}

async function sampleProc(pid: number): Promise<ProcSample> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  if (!rss?.[1]) throw new Error(`memory bench: no VmRSS in /proc/${pid}/status`)
  return { rss: Number(rss[1]) * 1024, fds: (await readdir(`/proc/${pid}/fd`)).length }
}

interface Phase {
  label: string
  rss: number
  fds: number
  probe: MemoryProbe
}

async function phase(label: string, pid: number, probeFile: string): Promise<Phase> {
  await sleep(SETTLE_MS)
  const s = await sampleProc(pid)
  const p = await askProbe(pid, probeFile)
  console.log(`  ${label}: ${describeProbe(s.rss, p)}; ${s.fds} fds`)
  return { label, rss: s.rss, fds: s.fds, probe: p }
}

/** A sparse file of `size` bytes: no disk used, reads back as zeros. */
async function sparseFile(file: string, size: number): Promise<void> {
  const fh = await open(file, 'w')
  try {
    await fh.truncate(size)
  } finally {
    await fh.close()
  }
}

async function smallFiles(root: string): Promise<void> {
  for (let d = 0; d < 100; d++) {
    const dir = path.join(root, `d${String(d).padStart(2, '0')}`)
    await mkdir(dir, { recursive: true })
    await Promise.all(Array.from({ length: SMALL_FILES / 100 }, (_, i) => writeFile(path.join(dir, `f${i}.dat`), pseudoRandom(SMALL_SIZE, `mem-${d}-${i}`))))
  }
}

type Published = Pick<ReleaseSummary, 'infoHash' | 'torrentUrl' | 'pieceLength'>

async function publish(dataDir: string, target: string): Promise<Published> {
  const r = await runProcess(process.execPath, [CLI, 'publish', target, '--data-dir', dataDir, '--json'])
  if (r.code !== 0) throw new Error(`memory bench: publish ${target} failed: ${r.stderr}${r.stdout}`)
  return (JSON.parse(r.stdout) as { release: Published }).release
}

/** Bytes on disk under `dir`: what a downloader wrote, finished or not (aria2c writes pieces out of order). */
async function bytesOnDisk(dir: string): Promise<number> {
  let total = 0
  try {
    for (const name of await readdir(dir, { recursive: true })) total += (await lstat(path.join(dir, name))).blocks * 512
  } catch {
    // A downloader that never started writing left no folder.
  }
  return total
}

interface LoopOutcome {
  rounds: number
  bytes: number
  errors: string[]
}

/** aria2c downloads of one release back to back, each into a fresh folder, until `stop()`. */
function downloadLoop(torrent: string, work: string, tag: string): { stop(): Promise<LoopOutcome> } {
  let stopping = false
  let current: Supervised | null = null
  let rounds = 0
  let bytes = 0
  const errors: string[] = []
  const loop = (async () => {
    for (let round = 0; !stopping; round++) {
      const dir = path.join(work, `${tag}-${round}`)
      const [port] = await freePorts(1)
      current = supervise(spawn('aria2c', [...ARIA2_QUIET, `--dir=${dir}`, '--seed-time=0', `--listen-port=${port}`, `--dht-listen-port=${port}`, torrent], { stdio: ['ignore', 'pipe', 'pipe'] }), 5_000)
      const code = await current.exited
      if (code === 0) rounds++
      else if (!stopping) {
        if (errors.length < 3) errors.push(`aria2c exited ${code}: ${current.output().trim().slice(-300)}`)
        await sleep(1000)
      }
      bytes += await bytesOnDisk(dir)
      await rm(dir, { recursive: true, force: true })
    }
  })()
  return {
    async stop() {
      stopping = true
      await current?.stop()
      await loop
      return { rounds, bytes, errors }
    },
  }
}

interface Load {
  peakRss: number
  /** Seconds into the load when the peak was sampled. */
  peakAtS: number
  medianRss: number
  peakFds: number
  note: string
}

/** Both download loops for `seconds`, sampling `pid`; `atEnd` runs before they stop. */
async function underLoad<T>(pid: number, torrents: string[], work: string, seconds: number, atEnd: () => Promise<T>): Promise<Load & { atEnd: T }> {
  const loops = torrents.map((t, i) => downloadLoop(t, work, `dl${i}`))
  const samples: (ProcSample & { atS: number })[] = []
  const start = Date.now()
  const end = start + seconds * 1000
  let ended: T
  try {
    while (Date.now() < end) {
      samples.push({ ...(await sampleProc(pid)), atS: (Date.now() - start) / 1000 })
      await sleep(SAMPLE_MS)
    }
    ended = await atEnd()
  } catch (err) {
    await Promise.allSettled(loops.map((l) => l.stop()))
    throw err
  }
  const outcomes = await Promise.all(loops.map((l) => l.stop()))
  const note = outcomes
    .map((o, i) => `release ${i + 1}: ${mib(o.bytes / seconds)} MiB/s received, ${o.rounds} complete downloads${o.errors.length ? ` (${o.errors.join(' | ')})` : ''}`)
    .join('; ')
  const rss = samples.map((s) => s.rss).sort((a, b) => a - b)
  const peak = samples.reduce((top, s) => (s.rss > top.rss ? s : top), samples[0] ?? { rss: 0, fds: 0, atS: 0 })
  return { peakRss: peak.rss, peakAtS: peak.atS, medianRss: rss[rss.length >> 1] ?? 0, peakFds: Math.max(...samples.map((s) => s.fds)), note, atEnd: ended }
}

export async function benchMemory(): Promise<BenchResult[]> {
  const bigGiB = positiveEnv('SWARMDROP_MEMORY_BIG_GIB', 10)
  const seconds = positiveEnv('SWARMDROP_MEMORY_LOAD_SECONDS', 30)
  const bigSize = Math.round(bigGiB * 2 ** 30)
  const work = await mkdtemp(path.join(tmpdir(), 'swarmdrop-memory-bench-'))
  let serve: ServeProcess | null = null
  let seeder: Supervised | null = null
  try {
    const pub = path.join(work, 'pub')
    const big = path.join(pub, `big-${bigGiB}g.bin`)
    const small = path.join(pub, `files-${SMALL_FILES}`)
    await mkdir(pub)
    await sparseFile(big, bigSize)
    await smallFiles(small)
    const dataDir = path.join(work, 'data')
    const probeFile = path.join(work, 'probe.json')
    const [httpPort, peerPort] = await freePorts(2)
    if (httpPort === undefined || peerPort === undefined) throw new Error('memory bench: no free ports')
    const extraFlags = (process.env.SWARMDROP_MEMORY_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean)
    const serveEnv = benchServeEnv()
    serve = await startServeProcess(['--data-dir', dataDir, '--address', '127.0.0.1', '--http-port', String(httpPort), '--peer-port', String(peerPort)], 30_000, (node, args) => [
      'env',
      [`SWARMDROP_MEMORY_PROBE=${probeFile}`, ...serveEnv, node, '--expose-gc', ...extraFlags, '--import', PROBE_MODULE, CLI, ...args.slice(1)],
    ])
    const pid = serve.child.pid
    if (pid === undefined) throw new Error('memory bench: serve has no pid')
    console.log(`  serve with a ${bigGiB} GiB sparse release and ${SMALL_FILES} files of ${SMALL_SIZE} bytes; load ${seconds} s${extraFlags.length ? `; node ${extraFlags.join(' ')}` : ''}${serveEnv.length ? `; env ${serveEnv.join(' ')}` : ''}`)

    const idle = await phase('idle after start', pid, probeFile)
    const smallRelease = await publish(dataDir, small)
    const afterSmall = await phase(`after publishing ${SMALL_FILES} files`, pid, probeFile)
    const bigRelease = await publish(dataDir, big)
    const afterBig = await phase(`after publishing ${bigGiB} GiB`, pid, probeFile)

    // The downloaders of both runs read the same .torrent files: a paused release's URL is gone.
    const torrents = await Promise.all(
      [bigRelease, smallRelease].map(async (r, i) => {
        const file = path.join(work, `r${i}.torrent`)
        await writeFile(file, Buffer.from(await (await fetch(r.torrentUrl)).arrayBuffer()))
        return file
      }),
    )
    const ours = await underLoad(pid, torrents, work, seconds, () => phase('at the end of the load', pid, probeFile))
    console.log(`  under load: peak ${mib(ours.peakRss)} MiB (+${ours.peakAtS.toFixed(1)} s), median ${mib(ours.medianRss)} MiB, peak ${ours.peakFds} fds; ${ours.note}`)
    const after = await phase('after the load', pid, probeFile)

    // Reference: aria2c seeds the very same .torrents in place; our seeder is paused, our tracker stays.
    const conn = await connectInstance(dataDir)
    try {
      for (const r of [bigRelease, smallRelease]) await conn.call('release.pause', { infoHash: r.infoHash })
    } finally {
      conn.close()
    }
    await sleep(1000)
    const [seedPort] = await freePorts(1)
    seeder = supervise(
      spawn('aria2c', [...ARIA2_QUIET, `--dir=${pub}`, '--seed-ratio=0.0', '--bt-seed-unverified=true', '--check-integrity=false', `--listen-port=${seedPort}`, `--dht-listen-port=${seedPort}`, ...torrents], { stdio: ['ignore', 'pipe', 'pipe'] }),
      5_000,
    )
    const seederPid = seeder.child.pid
    if (seederPid === undefined) throw new Error('memory bench: aria2c has no pid (apt-get install -y aria2)')
    const deadline = Date.now() + 30_000
    for (const r of [bigRelease, smallRelease]) while (Date.now() < deadline && !(await seederAnnounced(httpPort, r.infoHash))) await sleep(200)
    const refIdle = await sampleProc(seederPid)
    const reference = await underLoad(seederPid, torrents, work, seconds, () => sampleProc(seederPid))
    console.log(`  aria2c seeding the same: ${mib(refIdle.rss)} MiB before the load, peak ${mib(reference.peakRss)} MiB, median ${mib(reference.medianRss)} MiB, peak ${reference.peakFds} fds; ${reference.note}`)

    const perFile = (afterSmall.rss - idle.rss) / SMALL_FILES
    const live = (p: Phase): number => {
      const m = p.probe.afterGc ?? p.probe.before
      return m.heapUsed + m.arrayBuffers
    }
    const perFileLive = (live(afterSmall) - live(idle)) / SMALL_FILES
    const phases = [idle, afterSmall, afterBig, ours.atEnd, after].map((p) => `${p.label} ${mib(p.rss)} MiB`).join(', ')
    const common = `${phases}; per published file ${(perFile / 1024).toFixed(1)} KiB RSS, ${(perFileLive / 1024).toFixed(1)} KiB live JS heap + Buffers; ${bigGiB} GiB release in ${mib(bigRelease.pieceLength)} MiB pieces`
    return [
      {
        name: `memory: serve's peak RSS seeding a ${bigGiB} GiB and a ${SMALL_FILES}-file release to aria2c for ${seconds} s, vs the ${TARGET_MIB} MiB target`,
        ours: ours.peakRss / 2 ** 20,
        reference: TARGET_MIB,
        ratio: ours.peakRss / 2 ** 20 / TARGET_MIB,
        unit: 'MiB VmRSS (sampled every 0.5 s); reference = the target (ratio under 1 meets it)',
        note: `${ours.peakRss / 2 ** 20 < TARGET_MIB ? 'meets' : 'MISSES'} the target; median ${mib(ours.medianRss)} MiB, peak ${ours.peakFds} fds; ${common}; ${ours.note}`,
      },
      {
        name: 'memory: same, vs aria2c seeding the same two .torrents to the same downloaders',
        ours: ours.peakRss / 2 ** 20,
        reference: reference.peakRss / 2 ** 20,
        ratio: ours.peakRss / reference.peakRss,
        unit: 'MiB peak VmRSS of the seeding process',
        note: `aria2c ${mib(refIdle.rss)} MiB before its load, median ${mib(reference.medianRss)} MiB, peak ${reference.peakFds} fds; ${reference.note}`,
      },
    ]
  } finally {
    await seeder?.stop()
    await serve?.stop()
    await rm(work, { recursive: true, force: true })
  }
}
