/**
 * The native multi-lane SHA-1 kernel must give node:crypto's digests for every length (padding
 * edges included), and `create` must give the same torrent with it and without it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { sha1Lanes } from '../../electron/engine/sha1-lanes.js'
import { nativeAddon } from '../../electron/engine/native-addon.js'
import { runCli } from '../support/run-cli.js'
import { pseudoRandom } from '../support/fixtures.js'
import { tempDir } from '../support/temp.js'

const cpuFlags = process.arch === 'x64' ? readFileSync('/proc/cpuinfo', 'utf8') : ''
const cpuHasShaExtensions = /\bsha_ni\b/.test(cpuFlags)
const cpuHasAvx2 = /\bavx2\b/.test(cpuFlags)

test('a native SHA-1 kernel is built and loaded wherever the CPU has SHA extensions or AVX2', () => {
  // `npm run build` compiles it; on such an x86-64 machine, missing it means hashing at about half speed.
  if (cpuHasShaExtensions || cpuHasAvx2) assert.ok(sha1Lanes, 'dist/native/sha1_lanes.node is missing or failed to load: run "node native/build.mjs" to see why')
  else assert.equal(sha1Lanes, null)
  if (sha1Lanes) assert.equal(sha1Lanes.kernel, cpuHasShaExtensions ? 'sha-ni' : 'avx2')
})

const kernels = [
  { name: 'SHA-NI, 3 lanes', available: cpuHasShaExtensions, fn: nativeAddon?.sha1Pieces },
  { name: 'AVX2, 8 lanes', available: cpuHasAvx2, fn: nativeAddon?.sha1PiecesAvx2 },
]

for (const { name, available, fn } of kernels) test(`native digests (${name}) equal node:crypto for every padding edge and lane count`, () => {
  if (!available) return
  assert.ok(fn, 'the kernel must exist on this CPU')
  const kernel = { sha1Pieces: fn }
  let checked = 0
  for (const pieceLength of [64, 128, 1000, 16384, 262144]) {
    for (const count of [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17]) {
      for (const last of [1, 55, 56, 63, 64, 65, 119, 120, pieceLength]) {
        if (last > pieceLength) continue
        const data = randomBytes((count - 1) * pieceLength + last)
        const out = Buffer.alloc(count * 20)
        kernel.sha1Pieces(data, pieceLength, count, last, out)
        for (let i = 0; i < count; i++) {
          const len = i === count - 1 ? last : pieceLength
          const expected = createHash('sha1').update(data.subarray(i * pieceLength, i * pieceLength + len)).digest()
          assert.deepEqual(out.subarray(i * 20, i * 20 + 20), expected, `piece ${i} of ${count}, length ${pieceLength}, last ${last}`)
          checked++
        }
      }
    }
  }
  assert.ok(checked > 500)
  assert.throws(() => kernel.sha1Pieces(Buffer.alloc(10), 64, 1, 64, Buffer.alloc(20)), /do not fit/)
})

test('create gives the same torrent with the native kernel and with node:crypto', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const file = path.join(dir, 'bundle.bin')
    await writeFile(file, pseudoRandom(9 * 1024 * 1024 + 777, 'lanes'))
    const hashes: string[] = []
    for (const native of ['1', 'avx2', '0']) {
      const r = await runCli(['create', file, '--piece-length', '65536', '-o', path.join(dir, `t${native}.torrent`)], { env: { ...process.env, SWARMDROP_NATIVE_SHA1: native } })
      assert.equal(r.code, 0, r.stderr)
      hashes.push(r.stdout.trim())
    }
    assert.match(hashes[0] as string, /^[0-9a-f]{40}$/)
    assert.equal(hashes[0], hashes[1])
    assert.equal(hashes[0], hashes[2])
  } finally {
    await cleanup()
  }
})
