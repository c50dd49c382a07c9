/**
 * Several unrelated files and folders published as one release, under a virtual root named after
 * the release: the info-hash is exactly that of a real folder laid out the same way, the files
 * are seeded where they are (nothing copied), a real aria2c downloads it byte for byte, and it
 * seeds again after a restart.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createTorrent } from '../../electron/engine/create.js'
import { aria2Download } from '../support/aria2.js'
import { publish, startTestEngine, waitFor } from '../support/engine.js'
import { pseudoRandom } from '../support/fixtures.js'
import { tempDir } from '../support/temp.js'

test('several paths as one release round-trip through aria2c, byte-identical, and survive a restart', { timeout: 120_000 }, async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  // Three sources from three places on disk.
  const binary = path.join(dir, 'build', 'agent')
  const notes = path.join(dir, 'docs', 'CHANGES.md')
  const config = path.join(dir, 'etc', 'agent.d')
  await mkdir(path.dirname(binary), { recursive: true })
  await mkdir(path.dirname(notes), { recursive: true })
  await mkdir(path.join(config, 'profiles'), { recursive: true })
  await writeFile(binary, pseudoRandom(3 * 1024 * 1024 + 5, 'agent'))
  await writeFile(notes, '# 2.4.1\n- fixes\n')
  await writeFile(path.join(config, 'main.yaml'), pseudoRandom(4000, 'main'))
  await writeFile(path.join(config, 'profiles', 'edge.yaml'), pseudoRandom(777, 'edge'))

  // The same content as one real folder: the release must be exactly this torrent.
  const real = path.join(dir, 'reference', 'agent-2.4.1-bundle')
  await mkdir(real, { recursive: true })
  await cp(binary, path.join(real, 'agent'))
  await cp(notes, path.join(real, 'CHANGES.md'))
  await cp(config, path.join(real, 'agent.d'), { recursive: true })
  const reference = await createTorrent(real, { pieceLength: 32768 })

  const dataDir = path.join(dir, 'data')
  let engine = await startTestEngine(dataDir)
  t.after(() => engine.close())
  const release = await publish(engine, [binary, notes, config], { name: 'agent-2.4.1-bundle' })
  assert.equal(release.fileCount, 4)
  const bundled = await createTorrent([binary, notes, config], { name: 'agent-2.4.1-bundle', pieceLength: 32768 })
  assert.equal(bundled.infoHash, reference.infoHash, 'the same info-hash as the real folder')

  // Two sources with the same name cannot share the release's root.
  await mkdir(path.join(dir, 'other'))
  await writeFile(path.join(dir, 'other', 'agent'), 'x')
  await assert.rejects(createTorrent([binary, path.join(dir, 'other', 'agent')], { name: 'clash' }), /Two of the paths are both called "agent"/)
  await assert.rejects(createTorrent([binary, notes]), /give the release a name/)

  const download = async (into: string, torrentUrl: string): Promise<void> => {
    await aria2Download(torrentUrl, into)
    const root = path.join(into, 'agent-2.4.1-bundle')
    assert.deepEqual(await readFile(path.join(root, 'agent')), await readFile(binary))
    assert.deepEqual(await readFile(path.join(root, 'CHANGES.md')), await readFile(notes))
    assert.deepEqual(await readFile(path.join(root, 'agent.d', 'profiles', 'edge.yaml')), await readFile(path.join(config, 'profiles', 'edge.yaml')))
  }
  await download(path.join(dir, 'dl1'), release.torrentUrl)

  await engine.close()
  engine = await startTestEngine(dataDir)
  await waitFor(async () => (await engine.handle('snapshot.get', {})).releases[0]?.state === 'seeding', 20_000, 'the bundle to seed again after a restart')
  // The restarted engine listens on other ports: its .torrent URL is the one to use.
  await download(path.join(dir, 'dl2'), (await engine.handle('snapshot.get', {})).releases[0]?.torrentUrl ?? '')
})
