/**
 * Why npm start and the service unit start serve with OpenSSL's RC4 (peer-encryption.ts): one
 * qBittorrent that requires encrypted wires fetches the same release from the engine, which
 * encrypts with OpenSSL's RC4 (the flag) or bittorrent-protocol's JavaScript one (no flag).
 * Same machine, same run, interleaved rounds, each in a Node process of its own.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BenchResult } from './bench-result.js'
import { makeBigFile } from './big-file.js'
import { median } from './measure.js'
import type { Rc4Transfer } from './rc4-transfer.js'
import { NATIVE_RC4_NODE_FLAG } from '../electron/engine/peer-encryption.js'
import { runProcess } from '../test/support/run-cli.js'

const MIB = Number(process.env.SWARMDROP_RC4_MIB ?? 512)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const TRANSFER = fileURLToPath(new URL('./rc4-transfer.js', import.meta.url))

async function transfer(file: string, native: boolean): Promise<Rc4Transfer> {
  const r = await runProcess(process.execPath, [...(native ? [NATIVE_RC4_NODE_FLAG] : []), TRANSFER, file])
  const line = r.stdout.trim().split('\n').pop() ?? ''
  if (r.code !== 0 || !line.startsWith('{')) throw new Error(`rc4 transfer (${native ? 'OpenSSL' : 'JavaScript'} RC4) failed, exit ${r.code}:\n${r.stdout}${r.stderr}`)
  const t = JSON.parse(line) as Rc4Transfer
  if (t.nativeRc4 !== native) throw new Error(`asked for ${native ? "OpenSSL's" : 'JavaScript'} RC4, the engine had the other`)
  // Without RC4 on the wire this would measure nothing.
  if (!t.peerFlags.includes('E')) throw new Error(`qBittorrent's wire to us was not RC4 (flags "${t.peerFlags}")`)
  return t
}

export async function benchRc4(): Promise<BenchResult[]> {
  const work = await mkdtemp(path.join(tmpdir(), 'swarmdrop-bench-rc4-'))
  try {
    const file = path.join(work, `release-${MIB}m.bin`)
    await makeBigFile(file, MIB * 1024 * 1024)
    const runs: Record<'openssl' | 'js', Rc4Transfer[]> = { openssl: [], js: [] }
    for (let round = 0; round < ROUNDS; round++) {
      runs.openssl.push(await transfer(file, true))
      runs.js.push(await transfer(file, false))
    }
    const mbps = (t: Rc4Transfer): number => (MIB * 1.048576) / t.seconds
    const perGiB = (s: number): number => (s * 1024) / MIB
    const list = (ts: Rc4Transfer[], f: (t: Rc4Transfer) => number): string => ts.map((t) => f(t).toFixed(1)).join('/')
    const medians = (f: (t: Rc4Transfer) => number): { openssl: number; js: number } => ({ openssl: median(runs.openssl.map(f)), js: median(runs.js.map(f)) })
    const rate = medians(mbps)
    const cpu = medians((t) => perGiB(t.cpuSeconds))
    const main = medians((t) => perGiB(t.mainThreadSeconds))
    return [
      {
        name: `one qBittorrent requiring encryption fetches ${MIB} MiB from the engine on loopback: rate with OpenSSL's RC4 (npm start, the service unit) vs JavaScript RC4`,
        ours: rate.openssl,
        reference: rate.js,
        ratio: rate.openssl / rate.js,
        unit: 'MB/s, median; ratio > 1 is faster',
        note: `OpenSSL ${list(runs.openssl, mbps)} MB/s, JavaScript ${list(runs.js, mbps)} MB/s`,
      },
      {
        name: 'same runs: engine CPU per GiB sent, OpenSSL RC4 vs JavaScript RC4',
        ours: cpu.openssl,
        reference: cpu.js,
        ratio: cpu.openssl / cpu.js,
        unit: 'CPU-seconds per GiB (whole process), median',
        note: `main thread busy ${main.openssl.toFixed(1)} against ${main.js.toFixed(1)} s per GiB`,
      },
    ]
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
