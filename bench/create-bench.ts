/**
 * `swarmdrop create` against mktorrent 1.1 on the same page-cached data, same piece length, same
 * machine, same run: a 2 GiB file and a 10,000-small-file folder. create-torrent (the library
 * webtorrent uses) is timed on the big file too, for context.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import type { BenchResult } from './bench-result.js'
import { interleaved, median, timeCommand } from './measure.js'
import { makeBigFile } from './big-file.js'
import { sha1Lanes } from '../electron/engine/sha1-lanes.js'
import { nativeAddon } from '../electron/engine/native-addon.js'

// The CLI compiled alongside this file (dist/ or an engineer's own out dir), as bin/swarmdrop.js
// would run it from dist/.
const MAIN = new URL('../electron/cli/main.js', import.meta.url).href
const RUNS = Number(process.env.BENCH_RUNS ?? 5)

async function makeSmallFiles(root: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const dir = path.join(root, `d${i % 50}`, `e${i % 7}`)
    if (i < 350) await mkdir(dir, { recursive: true })
    await writeFile(path.join(dir, `f${i}.conf`), randomBytes((i * 2654435761) % 8192))
  }
}

async function warm(target: string, bin: string): Promise<void> {
  // Page-cache the data once so both tools read from memory.
  timeCommand('sh', ['-c', `find "${target}" -type f -print0 | xargs -0 cat > /dev/null`])
  await readFile(bin)
}

function compare(name: string, target: string, pieceLength: number, work: string, bin: string, kernel?: string): BenchResult {
  const log2 = Math.log2(pieceLength)
  const env = kernel ? { ...process.env, SWARMDROP_NATIVE_SHA1: kernel } : undefined
  const runs = interleaved(
    RUNS,
    () => timeCommand(process.execPath, [bin, 'create', target, '--piece-length', String(pieceLength), '-o', path.join(work, 'ours.torrent')], env),
    () => timeCommand('mktorrent', ['-l', String(log2), '-o', path.join(work, `ref-${Date.now()}.torrent`), target]),
  )
  const ours = median(runs.a)
  const reference = median(runs.b)
  return { name, ours, reference, ratio: ours / reference, unit: 'ms wall, median', note: `swarmdrop ${runs.a.map((v) => v.toFixed(0)).join('/')} vs mktorrent ${runs.b.map((v) => v.toFixed(0)).join('/')}` }
}

export async function benchCreate(): Promise<BenchResult[]> {
  const work = mkdtempSync(path.join(tmpdir(), 'swarmdrop-bench-create-'))
  try {
    const bin = path.join(work, 'swarmdrop.mjs')
    await writeFile(bin, `const { main } = await import(${JSON.stringify(MAIN)})\nprocess.exitCode = await main(process.argv.slice(2))\n`)
    const big = path.join(work, 'vendor-update-2g.bin')
    await makeBigFile(big, 2 * 1024 ** 3)
    await warm(big, bin)
    const results = [compare(`create 2 GiB file vs mktorrent (1 MiB pieces; kernel: ${sha1Lanes?.kernel ?? 'node:crypto'})`, big, 1024 * 1024, work, bin)]
    // What a CPU without SHA-NI runs (Intel before Ice Lake); mktorrent here still has SHA-NI.
    if (sha1Lanes?.kernel === 'sha-ni' && nativeAddon?.avx2) results.push(compare('create 2 GiB file, AVX2 kernel forced, vs mktorrent with SHA-NI', big, 1024 * 1024, work, bin, 'avx2'))

    const ctScript = path.join(work, 'ct.mjs')
    const ctModule = new URL('../../node_modules/create-torrent/index.js', import.meta.url).href
    await writeFile(ctScript, `import ct from '${ctModule}'\nimport fs from 'node:fs'\nct(process.argv[2], { pieceLength: 1048576, private: true, announceList: [] }, (err, t) => { if (err) throw err; fs.writeFileSync(process.argv[3], t) })\n`)
    const ct = median([0, 1, 2].map(() => timeCommand(process.execPath, [ctScript, big, path.join(work, 'ct.torrent')])))
    const ref = results[0] as BenchResult
    results.push({ name: 'create-torrent library, 2 GiB file vs mktorrent', ours: ct, reference: ref.reference, ratio: ct / ref.reference, unit: 'ms wall, median of 3', note: 'context only: what webtorrent itself would do' })

    await rm(big)
    const small = path.join(work, 'ten-thousand')
    await makeSmallFiles(small, 10_000)
    await warm(small, bin)
    results.push(compare('create 10,000 small files vs mktorrent (32 KiB pieces)', small, 32 * 1024, work, bin))
    return results
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
