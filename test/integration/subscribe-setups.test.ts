/**
 * The "Subscribe your servers" setups are not prose: the qBittorrent one (WebUI API calls), the
 * aria2 one (a cron line) and the rTorrent one (rtorrent.rc lines and a cron line) are run here
 * exactly as printed, by sh and rtorrent, against the real clients, and each server then gets the
 * release published after it subscribed, byte for byte.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { subscribeSetups, type Setup } from '../../shared/subscribe-setups.js'
import { pseudoRandom } from '../support/fixtures.js'
import { freePorts } from '../support/ports.js'
import { publish, startTestEngine, waitFor } from '../support/engine.js'
import { startQbittorrent, type Qbt } from '../support/qbittorrent.js'
import { startRtorrent, type Rtorrent } from '../support/rtorrent.js'
import { runProcess } from '../support/run-cli.js'
import { tempDir } from '../support/temp.js'
import { toolPath } from '../support/tools.js'

function block(setups: Setup[], client: Setup['client'], label: RegExp): string {
  const text = setups.find((s) => s.client === client)?.blocks.find((b) => label.test(b.label))?.text
  assert.ok(text, `a ${client} block matching ${label}`)
  return text
}

test('the qBittorrent and aria2 setups, run as printed, subscribe real clients that then fetch a new release', { timeout: 180_000 }, async (t) => {
  for (const tool of ['sh', 'curl', 'flock', 'aria2c']) toolPath(tool)
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const engine = await startTestEngine(path.join(dir, 'data'), { feedKey: 'a-feed-key-of-at-least-22-chars' })
  t.after(() => engine.close())
  const feedUrl = engine.endpoints().feedUrl
  assert.match(feedUrl, /\?key=/, 'the setups carry the key')

  const [webUiPort, qbtPeerPort] = await freePorts(2)
  const qbtDir = path.join(dir, 'qbt-downloads')
  const ariaDir = path.join(dir, 'aria2-downloads')
  const stateDir = path.join(dir, 'state')
  let qbt: Qbt | null = null
  t.after(async () => void (await qbt?.stop()))
  qbt = await startQbittorrent({ profile: path.join(dir, 'qbt'), savePath: path.join(dir, 'qbt-default'), webUiPort: webUiPort as number, peerPort: qbtPeerPort as number })

  const qbtSetups = subscribeSetups({ feedUrl, saveDir: qbtDir, qbtWebUi: `http://127.0.0.1:${webUiPort}`, stateDir })
  const api = await runProcess('sh', ['-ec', block(qbtSetups, 'qbittorrent', /WebUI API/)])
  assert.equal(api.code, 0, `the WebUI API calls: ${api.stderr}`)
  await waitFor(async () => Object.keys(await qbt!.get<Record<string, unknown>>('rss/items')).includes('Swarmdrop'), 10_000, 'the feed in qBittorrent')
  const rules = await qbt.get<Record<string, { enabled: boolean; affectedFeeds: string[]; savePath: string }>>('rss/rules')
  assert.deepEqual({ enabled: rules.Swarmdrop?.enabled, feeds: rules.Swarmdrop?.affectedFeeds, savePath: rules.Swarmdrop?.savePath }, { enabled: true, feeds: [feedUrl], savePath: qbtDir })
  const prefs = await qbt.get<{ bittorrent_protocol: number; rss_refresh_interval: number; max_uploads: number; max_uploads_per_torrent: number }>('app/preferences')
  assert.deepEqual({ protocol: prefs.bittorrent_protocol, refresh: prefs.rss_refresh_interval }, { protocol: 1, refresh: 1 }, 'TCP only, polled every minute')
  assert.deepEqual({ global: prefs.max_uploads, perTorrent: prefs.max_uploads_per_torrent }, { global: -1, perTorrent: -1 }, 'no limit on upload slots')

  // Published after both servers subscribed.
  await mkdir(path.join(dir, 'pub'))
  const file = path.join(dir, 'pub', 'agent-7.2.0.tar')
  await writeFile(file, pseudoRandom(8 * 1024 * 1024 + 3, 'agent'))
  const release = await publish(engine, [file])

  // The aria2 cron line, minus its schedule, is what cron would run.
  const cron = block(subscribeSetups({ feedUrl, saveDir: ariaDir, stateDir }), 'aria2', /crontab/)
  const command = cron.replace(/^(\S+\s+){5}/, '')
  const first = await runProcess('sh', ['-c', command])
  assert.equal(first.code, 0, `the aria2 cron job: ${first.stderr}`)
  assert.deepEqual(await readFile(path.join(ariaDir, 'agent-7.2.0.tar')), await readFile(file))
  assert.deepEqual((await readFile(path.join(stateDir, 'aria2', 'seen'), 'utf8')).trim().split('\n'), [release.torrentUrl])
  // The next run has nothing new to do.
  const again = await runProcess('sh', ['-c', command])
  assert.equal(again.code, 0)
  assert.equal((await readFile(path.join(stateDir, 'aria2', 'seen'), 'utf8')).trim().split('\n').length, 1)

  await qbt.post('rss/refreshItem', { itemPath: 'Swarmdrop' })
  await waitFor(async () => (await qbt!.torrents()).some((tor) => tor.hash === release.infoHash && tor.progress === 1), 60_000, 'qBittorrent to complete the release')
  assert.deepEqual(await readFile(path.join(qbtDir, 'agent-7.2.0.tar')), await readFile(file))
})

test('the qBittorrent.conf block, as printed, is read by qBittorrent: TCP only and every upload slot', { timeout: 60_000 }, async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const ini = block(subscribeSetups({ feedUrl: 'http://192.0.2.1:7070/feed.xml' }), 'qbittorrent', /qBittorrent\.conf/).split('\n')
  const bitTorrent = ini.slice(ini.indexOf('[BitTorrent]') + 1, ini.indexOf(''))
  assert.ok(bitTorrent.length >= 3, `the [BitTorrent] lines: ${bitTorrent.join(', ')}`)
  const [webUiPort, peerPort] = await freePorts(2)
  let qbt: Qbt | null = null
  t.after(async () => void (await qbt?.stop()))
  // The harness writes the protocol line itself (a key twice in one file is not a test of anything).
  assert.ok(bitTorrent.includes('Session\\BTProtocol=TCP'), 'TCP only')
  const rest = bitTorrent.filter((l) => !l.startsWith('Session\\BTProtocol='))
  qbt = await startQbittorrent({ profile: path.join(dir, 'qbt'), savePath: path.join(dir, 'dl'), webUiPort: webUiPort as number, peerPort: peerPort as number, protocol: 'TCP', bitTorrent: rest })
  const prefs = await qbt.get<{ bittorrent_protocol: number; max_uploads: number; max_uploads_per_torrent: number }>('app/preferences')
  assert.deepEqual({ protocol: prefs.bittorrent_protocol, global: prefs.max_uploads, perTorrent: prefs.max_uploads_per_torrent }, { protocol: 1, global: -1, perTorrent: -1 })
})

test('the rTorrent setup, run as printed, loads a new release from its watch folder, with every peer put to use', { timeout: 120_000 }, async (t) => {
  for (const tool of ['sh', 'curl', 'flock', 'md5sum', 'rtorrent']) toolPath(tool)
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const engine = await startTestEngine(path.join(dir, 'data'), { feedKey: 'a-feed-key-of-at-least-22-chars' })
  t.after(() => engine.close())
  const feedUrl = engine.endpoints().feedUrl
  const saveDir = path.join(dir, 'rt-downloads')
  const stateDir = path.join(dir, 'state')
  const setups = subscribeSetups({ feedUrl, saveDir, stateDir })
  const rc = block(setups, 'rtorrent', /rtorrent\.rc/).split('\n')
  const [peerPort] = await freePorts(1)
  let rt: Rtorrent | null = null
  t.after(async () => void (await rt?.stop()))
  // The printed lines after the harness's own; a download cap (the test's, not the setup's) keeps
  // the release leeching for a few of the setup's 2 s rounds.
  rt = await startRtorrent({ dir: path.join(dir, 'rt'), downloadDir: path.join(dir, 'rt-default'), peerPort: peerPort as number, extraRc: [...rc, 'throttle.global_down.max_rate.set_kb = 1024'] })

  await mkdir(path.join(dir, 'pub'))
  const file = path.join(dir, 'pub', 'agent-7.3.0.tar')
  await writeFile(file, pseudoRandom(6 * 1024 * 1024 + 5, 'agent-rt'))
  const release = await publish(engine, [file])
  const command = block(setups, 'rtorrent', /crontab/).replace(/^(\S+\s+){5}/, '')
  const cron = await runProcess('sh', ['-c', command])
  assert.equal(cron.code, 0, `the rTorrent cron job: ${cron.stderr}`)

  // The watch schedule loads it (every 10 s); while it downloads, the setup's last line has set
  // the download's minimum of peers it downloads from.
  const hash = release.infoHash.toUpperCase()
  await waitFor(async () => (await rt!.downloads()).some((d) => d.hash === release.infoHash), 30_000, 'rTorrent to load the release from its watch folder')
  await waitFor(async () => Number(await rt!.call('d.downloads_min', hash)) === 50, 15_000, "the setup's schedule to reach the download")
  await waitFor(async () => Number(await rt!.call('d.uploads_min', hash)) === 50, 15_000, "the setup's upload schedule to reach the download")
  await waitFor(async () => (await rt!.downloads()).some((d) => d.hash === release.infoHash && d.complete), 60_000, 'rTorrent to complete the release')
  assert.deepEqual(await readFile(path.join(saveDir, 'agent-7.3.0.tar')), await readFile(file))
  // Seeding now: the upload minimum still holds, so it keeps serving the servers still fetching.
  await rt.call('d.uploads_min.set', hash, 0)
  await waitFor(async () => Number(await rt!.call('d.uploads_min', hash)) === 50, 15_000, 'the upload schedule to reach the finished download')
})
