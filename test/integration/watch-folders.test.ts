/**
 * Watch folders against the real engine and real clients: entries written slowly are published
 * only once they stopped changing, exactly once, with the right bytes; a restart publishes
 * nothing twice (and catches up with what changed or went while it was down); and a watched
 * release reaches aria2c and a qBittorrent subscribed to the channel's feed.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Engine } from '../../electron/engine/engine.js'
import type { ReleaseSummary, Settings, WatchFolderStatus } from '../../shared/contract.js'
import { aria2Download } from '../support/aria2.js'
import { startTestEngine, waitFor } from '../support/engine.js'
import { feedItems } from '../support/feed-items.js'
import { pseudoRandom } from '../support/fixtures.js'
import { freePorts } from '../support/ports.js'
import { startQbittorrent, type Qbt } from '../support/qbittorrent.js'
import { tempDir } from '../support/temp.js'
import { toolPath } from '../support/tools.js'

/** Far above the gap between two writes below (300 ms), far below a test's patience. */
const SETTLE_MS = 2000
const POLL_MS = 200
const CHANNEL = 'drops'

interface Watched {
  engine: Engine
  /** Every publish.done, and when it came. */
  done: { release: ReleaseSummary; at: number }[]
  /** When hashing of each job first reported progress. */
  firstProgressAt: number[]
  logs: string[]
}

async function startWatching(t: TestContext, dataDir: string, watchDir: string): Promise<Watched> {
  const logs: string[] = []
  const settings: Partial<Settings> = { watchFolders: [{ dir: watchDir, channel: CHANNEL }] }
  const engine = await startTestEngine(dataDir, settings, { watch: { settleMs: SETTLE_MS, pollMs: POLL_MS }, log: (l) => logs.push(l) })
  t.after(() => engine.close())
  const w: Watched = { engine, done: [], firstProgressAt: [], logs }
  const jobs = new Set<string>()
  engine.on('publish.done', (e) => w.done.push({ release: e.release, at: Date.now() }))
  engine.on('publish.progress', (e) => {
    if (jobs.has(e.jobId)) return
    jobs.add(e.jobId)
    w.firstProgressAt.push(Date.now())
  })
  return w
}

/** waitFor, with the engine's log in the failure. */
async function until(w: Watched, check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  try {
    await waitFor(check, ms, what)
  } catch (err) {
    throw new Error(`${(err as Error).message}\nengine log:\n${w.logs.join('\n')}`)
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const folderStatus = (w: Watched): WatchFolderStatus | undefined => w.engine.snapshot().watchFolders[0]
const live = (w: Watched): ReleaseSummary[] => w.engine.snapshot().releases.filter((r) => r.state !== 'retired')

const download = (torrentUrl: string, into: string): Promise<void> => aria2Download(torrentUrl, into)

test('a file written in chunks over seconds is published once, after it stopped changing, with the right bytes', async (t) => {
  toolPath('aria2c')
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const watchDir = path.join(dir, 'drop')
  await mkdir(watchDir)
  const w = await startWatching(t, path.join(dir, 'data'), watchDir)

  const name = 'agent-3.1.0.tar'
  const content = pseudoRandom(12 * 1024 * 1024 + 333, name)
  const chunk = 1024 * 1024
  const states = new Set<string>()
  const fh = await open(path.join(watchDir, name), 'w')
  // Taken before the write is issued: the write lands after it, so hashing must begin at least
  // the settle time after this. (Taken after it returns, a busy machine's delay between the write
  // and this code's turn would look like the watcher starting early.)
  let lastWriteAt = 0
  try {
    for (let offset = 0; offset < content.length; offset += chunk) {
      lastWriteAt = Date.now()
      await fh.write(content, offset, Math.min(chunk, content.length - offset), offset)
      const s = folderStatus(w)
      if (s) states.add(`${s.state}: ${s.message.replace(/\(unchanged for .*\)/, '(...)')}`)
      await sleep(300)
    }
  } finally {
    await fh.close()
  }
  assert.equal(w.done.length, 0, `nothing published while it was being written:\n${w.logs.join('\n')}`)
  assert.ok(states.has(`settling: waiting for "${name}" to settle (...)`), [...states].join('\n'))

  await until(w, () => w.done.length === 1, 30_000, 'the watched file to be published')
  // Hashing started only after the settle time had passed since the last write.
  assert.ok((w.firstProgressAt[0] ?? 0) >= lastWriteAt + SETTLE_MS, `hashing began ${(w.firstProgressAt[0] ?? 0) - lastWriteAt} ms after the last write`)
  const release = w.done[0]?.release as ReleaseSummary
  assert.equal(release.name, name)
  assert.equal(release.channel, CHANNEL)
  assert.equal(release.totalSize, content.length)
  assert.equal(release.fileCount, 1)
  // publish.done comes from the engine before the watcher has saved watch.json (an fsync of the
  // file and its folder, slow on some disks); the folder's status says "published" after that.
  await until(w, () => folderStatus(w)?.state === 'published', 10_000, 'the watch folder to report what it published')
  assert.equal(folderStatus(w)?.message, `published "${name}"`)

  await download(release.torrentUrl, path.join(dir, 'dl'))
  assert.equal(sha256(await readFile(path.join(dir, 'dl', name))), sha256(content))
  // Several settle times later, still exactly one release.
  await sleep(3 * SETTLE_MS)
  assert.equal(w.done.length, 1)
  assert.deepEqual(live(w).map((r) => r.infoHash), [release.infoHash])
})

test('a folder whose files arrive one by one is published once, complete; hidden and partial names are ignored', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const watchDir = path.join(dir, 'drop')
  await mkdir(watchDir)
  const w = await startWatching(t, path.join(dir, 'data'), watchDir)

  const bundle = path.join(watchDir, 'config-pack')
  const files = ['manifest.json', 'etc/app.conf', 'etc/app.d/10-limits.conf', 'bin/agent', 'share/doc/README', 'share/doc/CHANGES']
  let total = 0
  for (const [i, rel] of files.entries()) {
    await mkdir(path.dirname(path.join(bundle, rel)), { recursive: true })
    const bytes = pseudoRandom(200_000 + i * 77_777, rel)
    total += bytes.length
    await writeFile(path.join(bundle, rel), bytes)
    if (i === 2) {
      await writeFile(path.join(watchDir, '.staging-notes'), 'hidden')
      await writeFile(path.join(watchDir, 'next-agent.tar.part'), 'half a download')
    }
    await sleep(500)
  }
  assert.equal(w.done.length, 0, `nothing published while files were arriving:\n${w.logs.join('\n')}`)
  await until(w, () => w.done.length === 1, 30_000, 'the folder to be published')
  const release = w.done[0]?.release as ReleaseSummary
  assert.equal(release.name, 'config-pack')
  assert.equal(release.fileCount, files.length)
  assert.equal(release.totalSize, total)
  await sleep(3 * SETTLE_MS)
  assert.equal(w.done.length, 1, 'published once; the hidden and .part entries never')
  assert.deepEqual(live(w).map((r) => r.name), ['config-pack'])
})

test('a restart publishes nothing twice, and catches up with entries changed, removed or added while it was down', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const watchDir = path.join(dir, 'drop')
  const dataDir = path.join(dir, 'data')
  await mkdir(watchDir)
  await writeFile(path.join(watchDir, 'a.bin'), pseudoRandom(300_000, 'a'))
  await writeFile(path.join(watchDir, 'b.bin'), pseudoRandom(400_000, 'b1'))
  let w = await startWatching(t, dataDir, watchDir)
  await until(w, () => w.done.length === 2, 30_000, 'both entries to be published')
  const first = Object.fromEntries(w.done.map((d) => [d.release.name, d.release.infoHash]))
  // The watcher records a release once its publish has returned, a moment after "publish.done"
  // reaches listeners (a slow machine once read the file in between).
  const storedEntries = async (): Promise<Record<string, string>> => {
    const stored = JSON.parse(await readFile(path.join(dataDir, 'watch.json'), 'utf8').catch(() => '{"entries":[]}')) as { entries: { name: string; infoHash: string }[] }
    return Object.fromEntries(stored.entries.map((e) => [e.name, e.infoHash]))
  }
  await until(w, async () => Object.keys(await storedEntries()).length === 2, 10_000, 'watch.json to record both releases')
  assert.deepEqual(await storedEntries(), first)
  await w.engine.close()

  // Nothing changed: several settle times after the restart, nothing was published.
  w = await startWatching(t, dataDir, watchDir)
  await w.engine.restored
  await until(w, () => folderStatus(w)?.state === 'published', 10_000, 'the watch folder to report what it published')
  await sleep(3 * SETTLE_MS)
  assert.deepEqual(w.done, [], `nothing published again:\n${w.logs.join('\n')}`)
  assert.equal(live(w).length, 2)
  await w.engine.close()

  // While it is down: b.bin is replaced, a.bin removed, c.bin added.
  await writeFile(path.join(watchDir, 'b.bin'), pseudoRandom(400_000, 'b2'))
  await rm(path.join(watchDir, 'a.bin'))
  await writeFile(path.join(watchDir, 'c.bin'), pseudoRandom(100_000, 'c'))
  w = await startWatching(t, dataDir, watchDir)
  const stateOf = (infoHash: string | undefined): string | undefined => w.engine.snapshot().releases.find((r) => r.infoHash === infoHash)?.state
  await until(w, () => w.done.length === 2 && stateOf(first['a.bin']) === 'retired' && stateOf(first['b.bin']) === 'retired', 30_000, 'b.bin and c.bin published, a.bin and the old b.bin retired')
  const names = w.done.map((d) => d.release.name).sort()
  assert.deepEqual(names, ['b.bin', 'c.bin'])
  const b2 = w.done.find((d) => d.release.name === 'b.bin')?.release.infoHash
  assert.notEqual(b2, first['b.bin'])
  await sleep(3 * SETTLE_MS)
  assert.equal(w.done.length, 2, 'each published once')
  assert.deepEqual(live(w).map((r) => r.name).sort(), ['b.bin', 'c.bin'])
  assert.equal(stateOf(b2), 'seeding')
})

test('a watched release reaches a real aria2c and a real qBittorrent subscribed to the channel by RSS', async (t) => {
  toolPath('aria2c')
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const watchDir = path.join(dir, 'drop')
  await mkdir(watchDir)
  const w = await startWatching(t, path.join(dir, 'data'), watchDir)
  const channelFeed = w.engine.endpoints().feedUrl.replace(/\/feed\.xml$/, `/feeds/${CHANNEL}.xml`)

  const [webUiPort, qbtPeerPort] = await freePorts(2)
  let qbt: Qbt | null = null
  t.after(async () => void (await qbt?.stop()))
  qbt = await startQbittorrent({ profile: path.join(dir, 'qbt'), savePath: path.join(dir, 'qbt-dl'), webUiPort: webUiPort as number, peerPort: qbtPeerPort as number })
  const name = `fleet-agent-${Date.now()}.bin`
  await qbt.post('rss/addFeed', { url: channelFeed, path: 'swarmdrop-drops' })
  await qbt.post('rss/setRule', {
    ruleName: 'swarmdrop-drops',
    ruleDef: JSON.stringify({ enabled: true, mustContain: name, affectedFeeds: [channelFeed], savePath: path.join(dir, 'qbt-dl') }),
  })
  await waitFor(async () => Object.keys(await qbt!.get<Record<string, unknown>>('rss/items')).includes('swarmdrop-drops'), 10_000, 'the feed in qBittorrent')

  const content = pseudoRandom(16 * 1024 * 1024 + 5, name)
  await writeFile(path.join(watchDir, name), content)
  await until(w, () => w.done.length === 1, 30_000, 'the dropped file to be published')
  const release = w.done[0]?.release as ReleaseSummary
  const items = (await feedItems(channelFeed)).items
  assert.deepEqual(items.map((i) => i.guid), [release.infoHash], 'listed in its channel feed')
  assert.deepEqual((await feedItems(w.engine.endpoints().feedUrl)).items, [], 'and not in the default one')

  await qbt.post('rss/refreshItem', { itemPath: 'swarmdrop-drops' })
  const enclosure = (items[0]?.enclosure ?? '').replace(/&amp;/g, '&')
  await Promise.all([
    download(enclosure, path.join(dir, 'aria-dl')),
    until(w, async () => (await qbt!.torrents()).some((tor) => tor.hash === release.infoHash && tor.progress === 1), 60_000, 'qBittorrent to complete the watched release'),
  ])
  const want = sha256(content)
  assert.equal(sha256(await readFile(path.join(dir, 'aria-dl', name))), want)
  assert.equal(sha256(await readFile(path.join(dir, 'qbt-dl', name))), want)
})
