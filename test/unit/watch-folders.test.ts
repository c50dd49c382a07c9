/**
 * Watch folders on a clock moved by hand: real files in a temp folder, the engine replaced by a
 * recorder that names each release by the SHA-1 of its name and bytes (like an info-hash, the same
 * content gives the same one).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { appendFile, mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { SwarmdropError } from '../../shared/errors.js'
import { checkWatchFolders, isIgnoredName, parseWatchFlags, WatchFolders, type WatchActions } from '../../electron/engine/watch-folders.js'
import { tempDir } from '../support/temp.js'

const SETTLE = 10_000
const POLL = 2_000

class Recorder implements WatchActions {
  readonly published: { path: string; channel: string; infoHash: string }[] = []
  readonly retired: string[] = []
  readonly rechecked: string[] = []
  /** Thrown by the next publish, once. */
  failNext: SwarmdropError | null = null

  async publish(entry: { path: string; channel: string }): Promise<{ infoHash: string }> {
    if (this.failNext) {
      const err = this.failNext
      this.failNext = null
      throw err
    }
    const infoHash = await contentHash(entry.path)
    this.published.push({ ...entry, infoHash })
    return { infoHash }
  }

  async retire(infoHash: string): Promise<void> {
    this.retired.push(infoHash)
  }

  async recheck(infoHash: string): Promise<void> {
    this.rechecked.push(infoHash)
  }
}

async function contentHash(p: string): Promise<string> {
  const h = createHash('sha1').update(path.basename(p))
  const add = async (q: string, rel: string): Promise<void> => {
    try {
      h.update(rel).update(await readFile(q))
    } catch {
      for (const n of (await readdir(q)).sort()) await add(path.join(q, n), `${rel}/${n}`)
    }
  }
  await add(p, '')
  return h.digest('hex')
}

interface Rig {
  root: string
  dir: string
  stateFile: string
  actions: Recorder
  clock: { now: number }
  watcher: WatchFolders
  /** Moves the clock by `ms`, polls, and waits for a publish it started. */
  poll(ms?: number): Promise<void>
  /** Polls every POLL ms of clock time for `ms`. */
  pollFor(ms: number): Promise<void>
  restart(): WatchFolders
  cleanup(): Promise<void>
}

async function rig(): Promise<Rig> {
  const { dir: root, cleanup } = await tempDir('swarmdrop-watch-')
  const dir = path.join(root, 'drop')
  await mkdir(dir)
  const stateFile = path.join(root, 'watch.json')
  const actions = new Recorder()
  const clock = { now: 1_000_000 }
  const make = (): WatchFolders => new WatchFolders({ stateFile, folders: [{ dir, channel: 'drops' }], actions, settleMs: SETTLE, pollMs: POLL, now: () => clock.now })
  const r: Rig = {
    root,
    dir,
    stateFile,
    actions,
    clock,
    watcher: make(),
    async poll(ms = 0) {
      clock.now += ms
      await r.watcher.tick()
      await r.watcher.idle()
    },
    async pollFor(ms) {
      for (let t = 0; t < ms; t += POLL) await r.poll(POLL)
    },
    restart() {
      r.watcher = make()
      return r.watcher
    },
    cleanup,
  }
  return r
}

test('an entry is published once it has stayed unchanged for the settle time, and only then', async (t) => {
  const r = await rig()
  t.after(r.cleanup)
  const file = path.join(r.dir, 'agent-2.5.tar')
  await writeFile(file, 'first chunk;')
  await r.poll()
  assert.equal(r.watcher.status()[0]?.state, 'settling')
  assert.equal(r.watcher.status()[0]?.entry, 'agent-2.5.tar')
  // Written to every few seconds: never settles while it grows.
  for (let i = 0; i < 6; i++) {
    await r.poll(POLL)
    await r.poll(POLL)
    await appendFile(file, `chunk ${i};`)
  }
  assert.equal(r.actions.published.length, 0, 'nothing published while it was still growing')
  await r.poll(POLL)
  const waiting = r.watcher.status()[0]
  assert.equal(waiting?.stableMs, 0)
  assert.equal(waiting?.message, 'waiting for "agent-2.5.tar" to settle (unchanged for 0 s of 10 s)')
  await r.poll(4_000)
  assert.equal(r.watcher.status()[0]?.message, 'waiting for "agent-2.5.tar" to settle (unchanged for 4 s of 10 s)')
  await r.poll(5_999)
  assert.equal(r.actions.published.length, 0, 'not at 9.999 s')
  await r.poll(1)
  assert.deepEqual(r.actions.published, [{ path: file, channel: 'drops', infoHash: await contentHash(file) }])
  assert.equal(r.watcher.status()[0]?.state, 'published')
  assert.equal(r.watcher.status()[0]?.message, 'published "agent-2.5.tar"')
  await r.pollFor(60_000)
  assert.equal(r.actions.published.length, 1, 'exactly once')
})

test('hidden and partial-download names are never published; an empty entry waits for content', async (t) => {
  const r = await rig()
  t.after(r.cleanup)
  for (const name of ['.DS_Store', '.sync-tmp', 'update.zip.part', 'bundle.TMP', 'big.iso.crdownload']) await writeFile(path.join(r.dir, name), 'x')
  await mkdir(path.join(r.dir, 'empty-folder'))
  await writeFile(path.join(r.dir, 'empty.bin'), '')
  await r.pollFor(30_000)
  assert.equal(r.actions.published.length, 0)
  const s = r.watcher.status()[0]
  assert.equal(s?.state, 'settling')
  assert.match(s?.message ?? '', /^waiting for "(empty-folder|empty\.bin)" to settle \(it is empty so far\) \(1 more waiting\)$/)
  assert.equal(s?.pending, 2)
  // A browser finishing its download renames the .crdownload file: that name is new, and published.
  await writeFile(path.join(r.dir, 'big.iso'), 'the whole iso')
  await rm(path.join(r.dir, 'big.iso.crdownload'))
  await r.pollFor(12_000)
  assert.deepEqual(r.actions.published.map((p) => path.basename(p.path)), ['big.iso'])
  assert.equal(isIgnoredName('notes.tmp.txt'), false)
  assert.equal(isIgnoredName('release.Part'), true)
})

test('a folder whose files arrive one by one is published once, complete', async (t) => {
  const r = await rig()
  t.after(r.cleanup)
  const bundle = path.join(r.dir, 'config-pack')
  await mkdir(path.join(bundle, 'etc'), { recursive: true })
  for (let i = 0; i < 5; i++) {
    await writeFile(path.join(bundle, i % 2 ? 'etc' : '', `file-${i}.conf`), `setting ${i}\n`)
    await r.poll(3_000)
  }
  assert.equal(r.actions.published.length, 0)
  await r.pollFor(12_000)
  assert.equal(r.actions.published.length, 1)
  assert.equal(r.actions.published[0]?.infoHash, await contentHash(bundle), 'the complete folder')
})

test('what was published is remembered across a restart; nothing is published twice', async (t) => {
  const r = await rig()
  t.after(r.cleanup)
  await writeFile(path.join(r.dir, 'a.bin'), 'aaa')
  await writeFile(path.join(r.dir, 'b.bin'), 'bbb')
  await r.pollFor(14_000)
  assert.equal(r.actions.published.length, 2)
  await r.watcher.stop()
  const stored = JSON.parse(await readFile(r.stateFile, 'utf8')) as { version: number; entries: { dir: string; name: string; infoHash: string; fingerprint: { size: number; count: number } }[] }
  assert.equal(stored.version, 1)
  assert.deepEqual(
    stored.entries.map((e) => [e.dir, e.name, e.infoHash, e.fingerprint.size, e.fingerprint.count]),
    [
      [r.dir, 'a.bin', r.actions.published.find((p) => p.path.endsWith('a.bin'))?.infoHash, 3, 1],
      [r.dir, 'b.bin', r.actions.published.find((p) => p.path.endsWith('b.bin'))?.infoHash, 3, 1],
    ],
  )
  r.restart()
  await r.pollFor(30_000)
  assert.equal(r.actions.published.length, 2, 'no entry published again')
  assert.deepEqual(r.actions.retired, [])
  assert.equal(r.watcher.status()[0]?.state, 'published')
})

test('an entry changed after it was published becomes a new release and the old one is retired', async (t) => {
  const r = await rig()
  t.after(r.cleanup)
  const file = path.join(r.dir, 'app.tar')
  await writeFile(file, 'version 1')
  await r.pollFor(12_000)
  const v1 = r.actions.published[0]?.infoHash
  assert.ok(v1)
  await writeFile(file, 'version 2, longer')
  await r.poll(POLL)
  assert.equal(r.watcher.status()[0]?.state, 'settling')
  await r.pollFor(12_000)
  const v2 = r.actions.published[1]?.infoHash
  assert.ok(v2 && v2 !== v1)
  assert.deepEqual(r.actions.retired, [v1])
  // The same bytes under a new mtime (touched, or copied over itself): the same info-hash, so
  // nothing is retired; the release re-checks its files instead of failing on the next read.
  await utimes(file, new Date(), new Date(Date.now() + 5000))
  await r.pollFor(12_000)
  assert.equal(r.actions.published[2]?.infoHash, v2)
  assert.deepEqual(r.actions.retired, [v1])
  assert.deepEqual(r.actions.rechecked, [v2])
})

test('a removed entry is retired once it has been gone for the settle time; a missing folder retires nothing', async (t) => {
  const r = await rig()
  t.after(r.cleanup)
  await writeFile(path.join(r.dir, 'keep.bin'), 'keep')
  await writeFile(path.join(r.dir, 'drop.bin'), 'drop')
  await r.pollFor(12_000)
  const dropHash = r.actions.published.find((p) => p.path.endsWith('drop.bin'))?.infoHash
  // Deleted and written again at once (an editor's save): not a removal.
  await rm(path.join(r.dir, 'drop.bin'))
  await r.poll(POLL)
  await writeFile(path.join(r.dir, 'drop.bin'), 'drop')
  await utimes(path.join(r.dir, 'drop.bin'), new Date(), new Date())
  await r.pollFor(4_000)
  assert.deepEqual(r.actions.retired, [])

  await rm(path.join(r.dir, 'drop.bin'))
  await r.poll(POLL)
  assert.match(r.watcher.status()[0]?.message ?? '', /^"drop\.bin" was removed; its release is retired in \d+ s unless it comes back$/)
  await r.pollFor(12_000)
  assert.deepEqual(r.actions.retired, [dropHash])
  const stored = JSON.parse(await readFile(r.stateFile, 'utf8')) as { entries: { name: string }[] }
  assert.deepEqual(stored.entries.map((e) => e.name), ['keep.bin'])

  // The whole folder goes away (an unmounted drive): an error naming it, and nothing retired.
  await rm(r.dir, { recursive: true })
  await r.pollFor(30_000)
  assert.deepEqual(r.actions.retired, [dropHash])
  const s = r.watcher.status()[0]
  assert.equal(s?.state, 'error')
  assert.equal(s?.message, `The watch folder ${r.dir} does not exist: create it, or remove it from the watch folders.`)
})

test('a publish that fails because the entry changed waits for it to settle again; another failure is not retried until it changes', async (t) => {
  const r = await rig()
  t.after(r.cleanup)
  const file = path.join(r.dir, 'pkg.deb')
  await writeFile(file, 'package')
  r.actions.failNext = new SwarmdropError('FILE_CHANGED', 'pkg.deb changed while it was being hashed')
  await r.pollFor(12_000)
  assert.equal(r.actions.published.length, 0)
  assert.equal(r.watcher.status()[0]?.state, 'settling')
  await r.pollFor(12_000)
  assert.equal(r.actions.published.length, 1, 'published after settling again')

  const other = path.join(r.dir, 'linked')
  await writeFile(other, 'x')
  r.actions.failNext = new SwarmdropError('LINK_OUTSIDE_RELEASE', 'linked/pw is a symlink to /etc/passwd')
  await r.pollFor(12_000)
  await r.pollFor(30_000)
  assert.equal(r.actions.published.length, 1, 'not retried while unchanged')
  assert.deepEqual(r.watcher.status()[0], {
    dir: r.dir,
    channel: 'drops',
    state: 'error',
    entry: 'linked',
    stableMs: null,
    settleMs: SETTLE,
    pending: 0,
    message: '"linked" was not published: linked/pw is a symlink to /etc/passwd',
  })
  await writeFile(other, 'fixed')
  await r.pollFor(12_000)
  assert.equal(r.actions.published.length, 2, 'retried once it changed')
})

test('a damaged watch.json is moved aside and named, and watching goes on', async (t) => {
  const r = await rig()
  t.after(r.cleanup)
  await writeFile(r.stateFile, '{"version":1,"entr')
  const lines: string[] = []
  const watcher = new WatchFolders({ stateFile: r.stateFile, folders: [{ dir: r.dir, channel: 'drops' }], actions: r.actions, settleMs: SETTLE, now: () => r.clock.now, log: (l) => lines.push(l) })
  await writeFile(path.join(r.dir, 'a.bin'), 'a')
  await watcher.tick()
  assert.match(lines.join('\n'), /watch\.json is damaged .*; moved to .*watch\.json\.damaged-\d+/)
  assert.equal((await readdir(r.root)).filter((n) => n.startsWith('watch.json.damaged-')).length, 1)
})

test('--watch DIR[=CHANNEL] and the watchFolders setting are checked and normalised', () => {
  assert.deepEqual(parseWatchFlags(['/srv/drop', '/srv/beta=beta', 'rel/dir=nightly.2']), [
    { dir: '/srv/drop', channel: 'default' },
    { dir: '/srv/beta', channel: 'beta' },
    { dir: path.resolve('rel/dir'), channel: 'nightly.2' },
  ])
  assert.throws(() => parseWatchFlags(['/srv/drop=Beta Ring']), /--watch \/srv\/drop=Beta Ring: "Beta Ring" is not a channel name/)
  assert.throws(() => parseWatchFlags(['']), /--watch needs a folder/)
  assert.throws(() => parseWatchFlags(['/srv/drop', '/srv/drop/inner=x']), /--watch: \/srv\/drop\/inner is inside \/srv\/drop, which is watched too/)
  const invalid = (m: string): Error => new Error(`Invalid setting: ${m}.`)
  assert.deepEqual(checkWatchFolders([{ dir: '/srv/drop/' }], invalid), [{ dir: '/srv/drop', channel: 'default' }])
  assert.throws(() => checkWatchFolders([{ dir: 'relative', channel: 'x' }], invalid), /watchFolders\[0\]\.dir must be an absolute path/)
  assert.throws(() => checkWatchFolders([{ dir: '/a', channel: 'x' }, { dir: '/a', channel: 'y' }], invalid), /\/a is watched twice/)
  assert.throws(() => checkWatchFolders('nope', invalid), /must be a list/)
})
