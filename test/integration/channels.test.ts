/**
 * Channels: each has its own feed (/feed.xml for the default one, /feeds/<name>.xml for the
 * others), and a server subscribed to one never receives another's release. Real clients,
 * subscribed with the ready setups: qBittorrent to the default channel, aria2 to "beta".
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { subscribeSetups } from '../../shared/subscribe-setups.js'
import { feedItems } from '../support/feed-items.js'
import { pseudoRandom } from '../support/fixtures.js'
import { freePorts } from '../support/ports.js'
import { startTestEngine, waitFor } from '../support/engine.js'
import { startQbittorrent, type Qbt } from '../support/qbittorrent.js'
import { runProcess } from '../support/run-cli.js'
import { tempDir } from '../support/temp.js'
import { toolPath } from '../support/tools.js'
import type { Engine } from '../../electron/engine/engine.js'
import type { ReleaseSummary } from '../../shared/contract.js'

async function publishTo(engine: Engine, file: string, channel: string | undefined): Promise<ReleaseSummary> {
  const done = new Promise<ReleaseSummary>((resolve, reject) => {
    engine.on('publish.done', (e) => resolve(e.release))
    engine.on('publish.error', (e) => reject(new Error(e.error.message)))
  })
  await engine.handle('publish.start', channel ? { paths: [file], channel } : { paths: [file] })
  return done
}

test('a server subscribed to one channel never receives another channel\'s release', { timeout: 180_000 }, async (t) => {
  for (const tool of ['sh', 'curl', 'flock', 'aria2c']) toolPath(tool)
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const engine = await startTestEngine(path.join(dir, 'data'))
  t.after(() => engine.close())
  await mkdir(path.join(dir, 'pub'))
  const stableFile = path.join(dir, 'pub', 'app-2.4.1.tar')
  const betaFile = path.join(dir, 'pub', 'app-2.5.0-beta1.tar')
  await writeFile(stableFile, pseudoRandom(4 * 1024 * 1024, 'stable'))
  await writeFile(betaFile, pseudoRandom(4 * 1024 * 1024 + 9, 'beta'))

  // Invalid channel names are refused by name before anything is hashed.
  await assert.rejects(engine.handle('publish.start', { paths: [betaFile], channel: 'Beta Ring!' }), /"channel" must be a channel name/)

  const stable = await publishTo(engine, stableFile, undefined)
  const beta = await publishTo(engine, betaFile, 'beta')
  const ep = engine.endpoints()
  const betaFeed = ep.channels.find((c) => c.name === 'beta')?.feedUrl
  assert.deepEqual(ep.channels.map((c) => c.name), ['default', 'beta'])
  assert.equal(betaFeed, `http://127.0.0.1:${engine.httpPort}/feeds/beta.xml`)
  assert.deepEqual((await feedItems(ep.feedUrl)).items.map((i) => i.guid), [stable.infoHash])
  assert.deepEqual((await feedItems(betaFeed as string)).items.map((i) => i.guid), [beta.infoHash])
  // A channel nobody published to yet is an empty feed, so servers can subscribe ahead of time.
  assert.deepEqual((await feedItems(`http://127.0.0.1:${engine.httpPort}/feeds/nightly.xml`)).items, [])

  // aria2, subscribed to "beta" with the ready cron line.
  const ariaDir = path.join(dir, 'aria2')
  const stateDir = path.join(dir, 'state')
  const cron = subscribeSetups({ feedUrl: betaFeed as string, saveDir: ariaDir, stateDir }).find((s) => s.client === 'aria2')?.blocks[0]?.text ?? ''
  const run = await runProcess('sh', ['-c', cron.replace(/^(\S+\s+){5}/, '')])
  assert.equal(run.code, 0, run.stderr)
  // aria2 keeps the .torrent beside what it downloaded; nothing of the default channel is there.
  assert.deepEqual((await readdir(ariaDir)).filter((n) => !n.endsWith('.torrent')), ['app-2.5.0-beta1.tar'])
  assert.deepEqual(await readFile(path.join(ariaDir, 'app-2.5.0-beta1.tar')), await readFile(betaFile))

  // qBittorrent, subscribed to the default channel with the ready WebUI calls.
  const [webUiPort, qbtPeerPort] = await freePorts(2)
  let qbt: Qbt | null = null
  t.after(async () => void (await qbt?.stop()))
  qbt = await startQbittorrent({ profile: path.join(dir, 'qbt'), savePath: path.join(dir, 'qbt-default'), webUiPort: webUiPort as number, peerPort: qbtPeerPort as number })
  const qbtDir = path.join(dir, 'qbt-dl')
  const api = subscribeSetups({ feedUrl: ep.feedUrl, saveDir: qbtDir, qbtWebUi: `http://127.0.0.1:${webUiPort}` }).find((s) => s.client === 'qbittorrent')?.blocks[0]?.text ?? ''
  const subscribed = await runProcess('sh', ['-ec', api])
  assert.equal(subscribed.code, 0, subscribed.stderr)
  await waitFor(async () => Object.keys(await qbt!.get<Record<string, unknown>>('rss/items')).includes('Swarmdrop'), 10_000, 'the feed in qBittorrent')
  await qbt.post('rss/refreshItem', { itemPath: 'Swarmdrop' })
  await waitFor(async () => (await qbt!.torrents()).some((tor) => tor.hash === stable.infoHash && tor.progress === 1), 60_000, 'qBittorrent to complete the stable release')
  // Another poll, so a wrong item would have had its chance: still only the stable release.
  await qbt.post('rss/refreshItem', { itemPath: 'Swarmdrop' })
  await new Promise((resolve) => setTimeout(resolve, 1500))
  assert.deepEqual((await qbt.torrents()).map((tor) => tor.hash), [stable.infoHash])
  assert.deepEqual(await readFile(path.join(qbtDir, 'app-2.4.1.tar')), await readFile(stableFile))
})
