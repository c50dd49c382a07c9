/**
 * Why the seeder's default is TCP: qBittorrent (default TCP + uTP, uTP tried first) fetching a
 * 64 MiB release from our seeder, add → complete, with the seeder's uTP off (default) and on.
 * Same machine, same run, interleaved rounds; the ratio is uTP-on time / uTP-off time.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { BenchResult } from './bench-result.js'
import { median } from './measure.js'
import { startEngine } from '../electron/engine/engine.js'
import { freePorts } from '../test/support/ports.js'
import { startQbittorrent } from '../test/support/qbittorrent.js'
import { publish, waitFor } from '../test/support/engine.js'

const SIZE = 64 * 1024 * 1024
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

async function rollout(work: string, file: string, utp: boolean, round: number): Promise<number> {
  const dir = path.join(work, `${utp ? 'utp' : 'tcp'}-${round}`)
  const [httpPort, peerPort, webUiPort, qbtPort] = await freePorts(4)
  const engine = await startEngine({
    dataDir: path.join(dir, 'data'),
    bindHost: '127.0.0.1',
    overrides: { address: '127.0.0.1', httpPort, peerPort, utp, announceIntervalSeconds: 30 },
  })
  const qbt = await startQbittorrent({ profile: path.join(dir, 'qbt'), savePath: path.join(dir, 'dl'), webUiPort: webUiPort!, peerPort: qbtPort!, protocol: 'Both' })
  try {
    const release = await publish(engine, [file])
    const start = performance.now()
    await qbt.post('torrents/add', { urls: release.torrentUrl, savepath: path.join(dir, 'dl') })
    await waitFor(async () => (await qbt.torrents()).some((t) => t.hash === release.infoHash && t.progress === 1), 120_000, 'qBittorrent to complete')
    return (performance.now() - start) / 1000
  } finally {
    await qbt.stop()
    await engine.close()
    await rm(dir, { recursive: true, force: true })
  }
}

export async function benchUtp(): Promise<BenchResult[]> {
  const work = await mkdtemp(path.join(tmpdir(), 'swarmdrop-bench-utp-'))
  try {
    const file = path.join(work, 'agent-64m.bin')
    await writeFile(file, randomBytes(SIZE))
    const tcp: number[] = []
    const utp: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      tcp.push(await rollout(work, file, false, round))
      utp.push(await rollout(work, file, true, round))
    }
    const off = median(tcp)
    const on = median(utp)
    return [
      {
        name: 'qBittorrent (TCP+uTP default) add → complete, 64 MiB: seeder uTP on vs off (default)',
        ours: on,
        reference: off,
        ratio: on / off,
        unit: 's, median',
        note: `uTP off ${tcp.map((s) => s.toFixed(1)).join('/')} s, uTP on ${utp.map((s) => s.toFixed(1)).join('/')} s`,
      },
    ]
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
