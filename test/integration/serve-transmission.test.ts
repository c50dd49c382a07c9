import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startTestEngine, publish, waitFor } from '../support/engine.js'
import { pseudoRandom } from '../support/fixtures.js'
import { freePorts } from '../support/ports.js'
import { startTransmission, type Transmission } from '../support/transmission.js'
import { tempDir } from '../support/temp.js'

test('transmission-daemon adds the release by URL and completes it (the seeder dials it on its announce)', async () => {
  const { dir, cleanup } = await tempDir()
  const engine = await startTestEngine(path.join(dir, 'data'))
  let tr: Transmission | null = null
  try {
    const [rpcPort, peerPort] = await freePorts(2)
    tr = await startTransmission({ configDir: path.join(dir, 'tr'), downloadDir: path.join(dir, 'dl'), rpcPort: rpcPort!, peerPort: peerPort! })
    await mkdir(path.join(dir, 'pub'))
    const file = path.join(dir, 'pub', 'kernel-patch.bin')
    await writeFile(file, pseudoRandom(16 * 1024 * 1024 + 99, 'transmission'))
    const release = await publish(engine, [file])
    const added = performance.now()
    await tr.remote('-a', release.torrentUrl)
    // Transmission 3.00 never dials 127.0.0.0/8 peers, and the seeder never dials tracker peers
    // on its own: only its dial on Transmission's announce can start this download. Transmission
    // then declares interest on its 10-second rechoke pulse, so expect ~10 s before data flows.
    await waitFor(async () => (await tr!.percentDone()).includes('100%'), 45_000, 'Transmission to reach 100%')
    const seconds = (performance.now() - added) / 1000
    process.stdout.write(`# Transmission: add-by-URL -> 100% in ${seconds.toFixed(2)} s for 16 MiB\n`)
    assert.deepEqual(await readFile(path.join(dir, 'dl', 'kernel-patch.bin')), await readFile(file))
    const snap = engine.snapshot()
    const peer = snap.peers.find((p) => p.client === 'Transmission')
    assert.ok(peer === undefined || peer.transport === 'tcp')
    // Before its pulse it takes pieces over the web seed; those no server had are its first copy,
    // past the web seed's share (a twentieth), and BitTorrent never sends them again.
    const rollout = snap.rollouts.find((x) => x.infoHash === release.infoHash)
    const overBitTorrent = snap.swarms.find((x) => x.infoHash === release.infoHash)?.uploaded ?? 0
    const overHttp = Math.round((rollout?.uploadedCopies ?? 0) * release.totalSize - overBitTorrent)
    process.stdout.write(`# publisher sent ${rollout?.uploadedCopies.toFixed(3)} copies: ${overHttp} bytes over the web seed, ${overBitTorrent} over BitTorrent\n`)
    assert.ok(overHttp > release.totalSize / 10, `web seed ${overHttp} bytes`)
    assert.ok(rollout && rollout.uploadedCopies <= 1.05, `copies ${rollout?.uploadedCopies}`)
  } finally {
    await tr?.stop()
    await engine.close()
    await cleanup()
  }
})
