/**
 * Serve benchmark: one 1 GiB release to 3 concurrent aria2c on loopback, seeded by Swarmdrop's
 * engine, against aria2c seeding the very same .torrent (same info-hash, same tracker: ours,
 * with our seeder paused) to 3 fresh aria2c. Interleaved rounds, medians; aggregate rate is
 * 3 × size / (time until the last downloader finished).
 */
import { spawn } from 'node:child_process'
import { open, mkdir, rm, mkdtemp, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { BenchResult } from './bench-result.js'
import { median } from './measure.js'
import { startEngine, type Engine } from '../electron/engine/engine.js'
import { freePort } from '../test/support/ports.js'
import { seederAnnounced } from './scrape.js'

const SIZE = 1024 * 1024 * 1024
const DOWNLOADERS = 3
const ROUNDS = 3

function aria2(args: string[]): { done: Promise<void>; kill(): void } {
  const child = spawn('aria2c', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(new Error(`aria2c could not start (apt-get install -y aria2): ${e.message}`)))
    child.on('close', (code, signal) => (code === 0 || signal === 'SIGTERM' ? resolve() : reject(new Error(`aria2c exited ${code}: ${err}`))))
  })
  return { done, kill: () => child.kill('SIGTERM') }
}

/** No DHT, LPD or PEX on a shared machine, no preallocation, quiet. */
export const ARIA2_QUIET = ['--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false', '--file-allocation=none', '--summary-interval=0', '--console-log-level=error', '--follow-torrent=true']

/** Seconds until all downloaders have exited with the complete file. */
async function fanOut(torrentUrl: string, workDir: string): Promise<number> {
  const dirs = Array.from({ length: DOWNLOADERS }, (_, i) => path.join(workDir, `dl${i}`))
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  const ports = await Promise.all(dirs.map(() => freePort()))
  const start = performance.now()
  const runs = dirs.map((d, i) => aria2([...ARIA2_QUIET, `--dir=${d}`, '--seed-time=0', `--listen-port=${ports[i]}`, `--dht-listen-port=${ports[i]}`, torrentUrl]))
  await Promise.all(runs.map((r) => r.done))
  const seconds = (performance.now() - start) / 1000
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  return seconds
}

async function writeRandomFile(file: string, size: number): Promise<void> {
  const fh = await open(file, 'w')
  try {
    for (let done = 0; done < size; done += 16 * 1024 * 1024) await fh.write(randomBytes(Math.min(16 * 1024 * 1024, size - done)))
  } finally {
    await fh.close()
  }
}

export async function benchServe(): Promise<BenchResult[]> {
  const work = await mkdtemp(path.join(tmpdir(), 'swarmdrop-serve-bench-'))
  let engine: Engine | null = null
  try {
    const pub = path.join(work, 'pub')
    await mkdir(pub)
    const file = path.join(pub, 'release-1g.bin')
    await writeRandomFile(file, SIZE)
    const [httpPort, peerPort] = [await freePort(), await freePort()]
    engine = await startEngine({ dataDir: path.join(work, 'data'), bindHost: '127.0.0.1', overrides: { address: '127.0.0.1', httpPort, peerPort, announceIntervalSeconds: 10 } })
    const e = engine
    const release = await new Promise<{ infoHash: string; torrentUrl: string }>((resolve, reject) => {
      e.on('publish.done', (d) => resolve(d.release))
      e.on('publish.error', (d) => reject(new Error(d.error.message)))
      void e.handle('publish.start', { paths: [file] })
    })
    const torrentFile = path.join(work, 'release.torrent')
    await writeFile(torrentFile, Buffer.from(await (await fetch(release.torrentUrl)).arrayBuffer()))

    const ours: number[] = []
    const reference: number[] = []
    const uploadedCopies: number[] = []
    const runOurs = async (): Promise<number> => {
      const up0 = e.snapshot().swarms.find((s) => s.infoHash === release.infoHash)?.uploaded ?? 0
      const seconds = await fanOut(release.torrentUrl, work)
      const up1 = e.snapshot().swarms.find((s) => s.infoHash === release.infoHash)?.uploaded ?? 0
      uploadedCopies.push((up1 - up0) / SIZE)
      return seconds
    }
    const runReference = async (): Promise<number> => {
      // Our seeder paused (the tracker still serves the swarm), aria2c seeds in place.
      await e.handle('release.pause', { infoHash: release.infoHash })
      // Let our seeder's "stopped" announce land, so the scrape below counts aria2c alone.
      await new Promise((r) => setTimeout(r, 1000))
      const seederPort = await freePort()
      const seeder = aria2([...ARIA2_QUIET, `--dir=${pub}`, '--seed-ratio=0.0', '--bt-seed-unverified=true', '--check-integrity=false', `--listen-port=${seederPort}`, `--dht-listen-port=${seederPort}`, torrentFile])
      // Let it load the file and announce before the downloaders ask the tracker for peers.
      const deadline = Date.now() + 15_000
      while (Date.now() < deadline && !(await seederAnnounced(httpPort, release.infoHash))) await new Promise((r) => setTimeout(r, 200))
      try {
        // The saved .torrent: a paused release's .torrent URL is not served (its tracker swarm is).
        return await fanOut(torrentFile, work)
      } finally {
        seeder.kill()
        await seeder.done.catch(() => undefined)
        await e.handle('release.resume', { infoHash: release.infoHash })
      }
    }
    // One untimed round first (cold aria2c binary, JIT, page cache), then alternate which side
    // goes first so neither always runs on a machine the other just warmed up.
    await runOurs()
    uploadedCopies.length = 0
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        ours.push(await runOurs())
        reference.push(await runReference())
      } else {
        reference.push(await runReference())
        ours.push(await runOurs())
      }
    }
    const oursRate = (DOWNLOADERS * SIZE) / median(ours) / 2 ** 20
    const refRate = (DOWNLOADERS * SIZE) / median(reference) / 2 ** 20
    return [
      {
        name: `serve: 1 GiB to ${DOWNLOADERS} concurrent aria2c on loopback (aggregate rate; higher is better)`,
        ours: oursRate,
        reference: refRate,
        ratio: oursRate / refRate,
        unit: 'MiB/s, reference = aria2c --seed-ratio=0.0 seeding the same .torrent through the same tracker',
        note: `median of ${ROUNDS} rounds after a warm-up, order alternating: ours ${ours.map((s) => s.toFixed(1)).join('/')} s, aria2c ${reference.map((s) => s.toFixed(1)).join('/')} s; Swarmdrop's seeder uploaded ${uploadedCopies.map((c) => c.toFixed(2)).join('/')} × the release size per round (the rest went between the downloaders)`,
      },
    ]
  } finally {
    await engine?.close()
    await rm(work, { recursive: true, force: true })
  }
}
