import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { mseKeyExchanges } from '../../electron/engine/mse-key-exchange.js'
import { startTestEngine, publish, waitFor } from '../support/engine.js'
import { pseudoRandom } from '../support/fixtures.js'
import { freePorts } from '../support/ports.js'
import { startQbittorrent, type Qbt } from '../support/qbittorrent.js'
import { tempDir } from '../support/temp.js'

test('qBittorrent subscribed to the feed downloads a release published after it subscribed, with no manual step', async () => {
  const { dir, cleanup } = await tempDir()
  const engine = await startTestEngine(path.join(dir, 'data'))
  let qbt: Qbt | null = null
  try {
    const [webUiPort, peerPort] = await freePorts(2)
    // qBittorrent's default protocol (TCP and uTP, uTP first): the seeder's TCP dial on announce
    // is what keeps the uTP wait out of the rollout.
    qbt = await startQbittorrent({ profile: path.join(dir, 'qbt'), savePath: path.join(dir, 'dl'), webUiPort: webUiPort!, peerPort: peerPort!, protocol: 'Both' })
    const feedUrl = engine.endpoints().feedUrl
    const title = `fleet-agent-${Date.now()}`
    await qbt.post('rss/addFeed', { url: feedUrl, path: 'swarmdrop' })
    await qbt.post('rss/setRule', {
      ruleName: 'swarmdrop-updates',
      ruleDef: JSON.stringify({ enabled: true, mustContain: title, affectedFeeds: [feedUrl], savePath: path.join(dir, 'dl') }),
    })
    // The subscription works before anything is published.
    await waitFor(async () => Object.keys(await qbt!.get<Record<string, unknown>>('rss/items')).includes('swarmdrop'), 10_000, 'the feed in qBittorrent')

    await mkdir(path.join(dir, 'pub'))
    const file = path.join(dir, 'pub', `${title}.bin`)
    await writeFile(file, pseudoRandom(32 * 1024 * 1024 + 5, title))
    const release = await publish(engine, [file], { name: title })
    const published = performance.now()
    // Force the poll instead of waiting for the 1-minute timer; the rule does the rest.
    await qbt.post('rss/refreshItem', { itemPath: 'swarmdrop' })
    await waitFor(async () => (await qbt!.torrents()).some((t) => t.hash === release.infoHash && t.progress === 1), 60_000, 'qBittorrent to complete the release')
    const seconds = (performance.now() - published) / 1000
    process.stdout.write(`# qBittorrent (TCP+uTP default): publish -> complete in ${seconds.toFixed(2)} s for 32 MiB\n`)
    assert.deepEqual(await readFile(path.join(dir, 'dl', title)), await readFile(file))
    const peer = engine.snapshot().peers.find((p) => p.infoHash === release.infoHash && p.client === 'qBittorrent')
    assert.ok(peer === undefined || peer.transport === 'tcp', 'any remaining wire to qBittorrent is TCP')
  } finally {
    await qbt?.stop()
    await engine.close()
    await cleanup()
  }
})

test('a qBittorrent that requires encryption gets the release over RC4, its key exchange done by ours', async () => {
  const { dir, cleanup } = await tempDir()
  const engine = await startTestEngine(path.join(dir, 'data'), { utp: false })
  let qbt: Qbt | null = null
  try {
    const [webUiPort, peerPort] = await freePorts(2)
    // Encryption=1 is qBittorrent's "require encryption": whoever dials, the wire is MSE with RC4.
    qbt = await startQbittorrent({ profile: path.join(dir, 'qbt'), savePath: path.join(dir, 'dl'), webUiPort: webUiPort!, peerPort: peerPort!, protocol: 'TCP', bitTorrent: ['Session\\Encryption=1'] })
    await mkdir(path.join(dir, 'pub'))
    const file = path.join(dir, 'pub', 'encrypted.bin')
    await writeFile(file, pseudoRandom(8 * 1024 * 1024 + 3, 'encrypted'))
    const exchangesBefore = mseKeyExchanges()
    const release = await publish(engine, [file], { webSeed: false })
    await qbt.post('torrents/add', { urls: release.torrentUrl, savepath: path.join(dir, 'dl') })
    const flags = new Set<string>()
    await waitFor(async () => {
      for (const f of await qbt!.peerFlags(release.infoHash)) flags.add(f)
      return (await qbt!.torrents()).some((t) => t.hash === release.infoHash && t.progress === 1)
    }, 60_000, 'qBittorrent to complete the release')
    assert.deepEqual(await readFile(path.join(dir, 'dl', 'encrypted.bin')), await readFile(file))
    assert.ok(flags.has('E'), `qBittorrent saw an RC4 wire (its peer flags: ${[...flags].join(' ')})`)
    assert.ok(mseKeyExchanges() > exchangesBefore, "webtorrent's wire took its Diffie-Hellman keys from mse-key-exchange.ts")
  } finally {
    await qbt?.stop()
    await engine.close()
    await cleanup()
  }
})
