/**
 * One run of the `rc4` benchmark, in a Node process of its own (whether RC4 is OpenSSL's is fixed
 * when Node starts): the engine seeds `file` to one qBittorrent that requires encrypted wires,
 * and this prints one JSON line. Run by rc4-bench.ts, with and without the flag.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { startEngine } from '../electron/engine/engine.js'
import { rc4IsNative } from '../electron/engine/peer-encryption.js'
import { freePorts } from '../test/support/ports.js'
import { startQbittorrent } from '../test/support/qbittorrent.js'
import { publish, waitFor } from '../test/support/engine.js'

export interface Rc4Transfer {
  nativeRc4: boolean
  seconds: number
  /** CPU of this whole process (engine, its pool threads) from the add to complete. */
  cpuSeconds: number
  /** Time the main thread was not idle in that span. */
  mainThreadSeconds: number
  /** qBittorrent's flags for its wire to us: "E" is RC4 on the wire, "e" only an encrypted handshake. */
  peerFlags: string
}

const file = process.argv[2]
if (!file) throw new Error('usage: rc4-transfer.js FILE')
const work = await mkdtemp(path.join(tmpdir(), 'swarmdrop-bench-rc4-'))
const [httpPort, peerPort, webUiPort, qbtPort] = await freePorts(4)
const engine = await startEngine({
  dataDir: path.join(work, 'data'),
  bindHost: '127.0.0.1',
  overrides: { address: '127.0.0.1', httpPort, peerPort, utp: false, announceIntervalSeconds: 30 },
})
// Encryption=1: qBittorrent's "require encryption", so whoever dials, the wire is RC4.
const qbt = await startQbittorrent({ profile: path.join(work, 'qbt'), savePath: path.join(work, 'dl'), webUiPort: webUiPort!, peerPort: qbtPort!, protocol: 'TCP', bitTorrent: ['Session\\Encryption=1'] })
try {
  const release = await publish(engine, [file], { webSeed: false })
  const loop0 = performance.eventLoopUtilization()
  const cpu0 = process.cpuUsage()
  const start = performance.now()
  await qbt.post('torrents/add', { urls: release.torrentUrl, savepath: path.join(work, 'dl') })
  const flags = new Set<string>()
  await waitFor(async () => {
    for (const f of await qbt.peerFlags(release.infoHash)) flags.add(f)
    return (await qbt.torrents()).some((t) => t.hash === release.infoHash && t.progress === 1)
  }, 300_000, 'qBittorrent to complete')
  const seconds = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpu0)
  const loop = performance.eventLoopUtilization(loop0)
  const result: Rc4Transfer = {
    nativeRc4: rc4IsNative(),
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    mainThreadSeconds: loop.active / 1000,
    peerFlags: [...flags].sort().join(''),
  }
  console.log(JSON.stringify(result))
} finally {
  await qbt.stop()
  await engine.close()
  await rm(work, { recursive: true, force: true })
}
