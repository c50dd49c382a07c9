import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startAria2, type Aria2Run } from '../support/aria2.js'
import { startTestEngine, publish } from '../support/engine.js'
import { pseudoRandom } from '../support/fixtures.js'
import { freePorts } from '../support/ports.js'
import { tempDir } from '../support/temp.js'

test('two aria2c downloading at once exchange pieces with each other, not only with the seeder', async () => {
  const { dir, cleanup } = await tempDir()
  const size = 24 * 1024 * 1024
  // A slow seeder: without sharing, it would have to upload two full copies.
  const engine = await startTestEngine(path.join(dir, 'data'), { uploadLimit: 3 * 1024 * 1024 })
  const arias: Aria2Run[] = []
  try {
    await mkdir(path.join(dir, 'pub'))
    const file = path.join(dir, 'pub', 'db-migration.bin')
    await writeFile(file, pseudoRandom(size, 'swarm'))
    const release = await publish(engine, [file], { name: 'db-migration.bin' })
    const ports = await freePorts(2)
    for (const [i, port] of ports.entries()) {
      arias.push(startAria2({ torrent: release.torrentUrl, dir: path.join(dir, `dl${i}`), listenPort: port }))
    }
    const timeout = setTimeout(() => void Promise.all(arias.map((a) => a.stop())), 60_000)
    const codes = await Promise.all(arias.map((a) => a.exited))
    clearTimeout(timeout)
    for (const [i, a] of arias.entries()) {
      assert.equal(codes[i], 0, a.output())
      assert.deepEqual(await readFile(path.join(dir, `dl${i}`, 'db-migration.bin')), await readFile(file))
    }
    const uploaded = engine.snapshot().swarms.find((s) => s.infoHash === release.infoHash)?.uploaded ?? 0
    const fromEachOther = 2 * size - uploaded
    process.stdout.write(`# seeder uploaded ${(uploaded / size).toFixed(2)} copies for 2 downloaders; ${(fromEachOther / 2 ** 20).toFixed(1)} MiB went between them\n`)
    assert.ok(fromEachOther > size / 4, `the downloaders exchanged ${fromEachOther} bytes (seeder uploaded ${uploaded} of ${2 * size})`)
  } finally {
    await Promise.all(arias.map((a) => a.stop()))
    await engine.close()
    await cleanup()
  }
})
