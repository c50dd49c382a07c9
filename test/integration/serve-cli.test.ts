import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { startAria2 } from '../support/aria2.js'
import { makeTree, pseudoRandom } from '../support/fixtures.js'
import { freePorts } from '../support/ports.js'
import { runCli } from '../support/run-cli.js'
import { startServeProcess, type ServeProcess } from '../support/serve-process.js'
import { tempDir } from '../support/temp.js'
import { feedItems } from '../support/feed-items.js'

/** A raw HTTP announce, as a BitTorrent client sends it. */
async function announce(httpPort: number, infoHash: string): Promise<string> {
  const enc = (hex: string): string => [...Buffer.from(hex, 'hex')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')
  const url = `http://127.0.0.1:${httpPort}/announce?info_hash=${enc(infoHash)}&peer_id=${enc(Buffer.from('-XX0001-').toString('hex') + randomBytes(12).toString('hex'))}&port=6999&uploaded=0&downloaded=0&left=100&compact=1&event=started`
  return Buffer.from(await (await fetch(url)).arrayBuffer()).toString('latin1')
}

interface StatusJson {
  ok: boolean
  releases: { infoHash: string; name: string; state: string; error: { code: string; message: string } | null }[]
}

async function status(dataDir: string): Promise<StatusJson> {
  const r = await runCli(['status', '--data-dir', dataDir, '--json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as StatusJson
}

test('serve/publish/status/retire: restart keeps every release seeding and the feed unchanged; bad input gets clear errors', async () => {
  const { dir, cleanup } = await tempDir()
  const dataDir = path.join(dir, 'data')
  const [httpPort, peerPort, ariaPort, busyPort, otherPeer] = await freePorts(5)
  const flags = ['--data-dir', dataDir, '--address', '127.0.0.1', '--http-port', String(httpPort), '--peer-port', String(peerPort)]
  let serve: ServeProcess | null = null
  const busy = createServer()
  try {
    // Nothing running yet.
    const lonely = await runCli(['publish', dir, '--data-dir', dataDir])
    assert.equal(lonely.code, 1)
    assert.match(lonely.stderr, new RegExp(`error NOT_RUNNING: no Swarmdrop is running for ${dataDir}; start it with "swarmdrop serve`))

    serve = await startServeProcess(flags)
    assert.match(serve.output(), new RegExp(`feed: +http://127\\.0\\.0\\.1:${httpPort}/feed\\.xml`))
    assert.match(serve.output(), /dashboard: +http:\/\/127\.0\.0\.1:\d+/)
    const feedUrl = `http://127.0.0.1:${httpPort}/feed.xml`

    await mkdir(path.join(dir, 'pub'))
    const file = path.join(dir, 'pub', 'hotfix-1.bin')
    await writeFile(file, pseudoRandom(3 * 1024 * 1024 + 1, 'hotfix'))
    const touched = path.join(dir, 'pub', 'touched.bin')
    await writeFile(touched, pseudoRandom(2 * 1024 * 1024, 'touched'))
    const broken = path.join(dir, 'pub', 'broken.bin')
    await writeFile(broken, pseudoRandom(1024 * 1024, 'broken'))
    const folder = path.join(dir, 'pub', 'site-config')
    const entries = await makeTree(folder, 300)

    const hashes: string[] = []
    for (const p of [file, folder, touched, broken]) {
      const r = await runCli(['publish', p, '--data-dir', dataDir, '--json'])
      assert.equal(r.code, 0, r.stderr)
      const out = JSON.parse(r.stdout) as { ok: boolean; release: { infoHash: string; state: string; torrentUrl: string; magnet: string } }
      assert.equal(out.release.state, 'seeding')
      assert.match(out.release.torrentUrl, new RegExp(`^http://127\\.0\\.0\\.1:${httpPort}/torrents/${out.release.infoHash}\\.torrent$`))
      assert.match(out.release.magnet, new RegExp(`^magnet:\\?xt=urn:btih:${out.release.infoHash}`))
      hashes.push(out.release.infoHash)
    }
    const [fileHash, folderHash, touchedHash, brokenHash] = hashes as [string, string, string, string]
    const human = await runCli(['publish', file, '--data-dir', dataDir])
    assert.equal(human.code, 0, human.stderr)
    assert.equal(human.stdout.trim(), fileHash, 'publishing the same content again is the same release')
    assert.match(human.stderr, /torrent: http:\/\/127\.0\.0\.1:\d+\/torrents\//)
    const before = await feedItems(feedUrl)
    assert.equal(before.items.length, 4)

    // A second instance for the same data dir.
    const second = await runCli(['serve', '--data-dir', dataDir, '--http-port', String(busyPort), '--peer-port', String(otherPeer)])
    assert.equal(second.code, 1)
    assert.match(second.stderr, new RegExp(`error ALREADY_RUNNING: Swarmdrop is already running for ${dataDir} \\(pid ${serve.child.pid}\\)`))
    // A port already in use (another data dir, so the lock is not what stops it).
    await new Promise<void>((resolve) => busy.listen(busyPort, '0.0.0.0', resolve))
    const taken = await runCli(['serve', '--data-dir', path.join(dir, 'other'), '--address', '127.0.0.1', '--http-port', String(busyPort), '--peer-port', String(otherPeer)])
    assert.equal(taken.code, 1)
    assert.match(taken.stderr, new RegExp(`error PORT_IN_USE: HTTP port ${busyPort} is already in use`))
    // An unknown info-hash at the tracker gets a failure reason.
    const refused = await announce(httpPort!, randomBytes(20).toString('hex'))
    assert.match(refused, /failure reason/)
    assert.match(await announce(httpPort!, fileHash), /interval/)
    // Still up after all that.
    assert.equal((await feedItems(feedUrl)).items.length, 4)

    // Restart: an mtime that moved (same bytes) is re-verified; changed bytes are an error.
    assert.equal(await serve.stop(), 0)
    assert.match(serve.output(), /swarmdrop: stopped/)
    const later = new Date(Date.now() + 60_000)
    await utimes(touched, later, later)
    await writeFile(broken, pseudoRandom(1024 * 1024, 'tampered'))
    serve = await startServeProcess(flags)
    const after = await feedItems(feedUrl)
    // Every release that seeds again keeps its item byte for byte; the one whose bytes changed
    // is not seeding, so it is not offered to the servers.
    assert.deepEqual(after.items, before.items.filter((item) => item.guid !== brokenHash), 'the feed items of seeding releases are unchanged by a restart')
    const st = await status(dataDir)
    const stateOf = (ih: string): string | undefined => st.releases.find((r) => r.infoHash === ih)?.state
    assert.equal(stateOf(fileHash), 'seeding')
    assert.equal(stateOf(folderHash), 'seeding')
    assert.equal(stateOf(touchedHash), 'seeding')
    assert.equal(stateOf(brokenHash), 'error')
    const brokenError = st.releases.find((r) => r.infoHash === brokenHash)?.error
    assert.equal(brokenError?.code, 'FILE_CHANGED')
    assert.match(brokenError?.message ?? '', /broken\.bin/)

    // The re-seeded folder really serves: aria2c fetches it from the restarted instance.
    const aria = startAria2({ torrent: `http://127.0.0.1:${httpPort}/torrents/${folderHash}.torrent`, dir: path.join(dir, 'dl'), listenPort: ariaPort! })
    const t = setTimeout(() => void aria.stop(), 60_000)
    const code = await aria.exited
    clearTimeout(t)
    assert.equal(code, 0, aria.output())
    for (const e of entries.filter((_, i) => i % 37 === 0)) {
      assert.deepEqual(await readFile(path.join(dir, 'dl', 'site-config', ...e.path.split('/'))), await readFile(path.join(folder, ...e.path.split('/'))))
    }

    // Retire: out of the feed, not seeded, refused by the tracker.
    const retired = await runCli(['retire', fileHash, '--data-dir', dataDir])
    assert.equal(retired.code, 0, retired.stderr)
    assert.match(retired.stdout, /Retired "hotfix-1\.bin"/)
    const feedNow = await feedItems(feedUrl)
    // Four published: one retired now, and broken.bin is not seeding since its bytes changed.
    assert.equal(feedNow.items.length, 2)
    assert.ok(!feedNow.items.some((i) => i.guid === fileHash))
    assert.notEqual(feedNow.lastBuildDate, after.lastBuildDate)
    assert.match(await announce(httpPort!, fileHash), /failure reason/)
    assert.equal((await status(dataDir)).releases.find((r) => r.infoHash === fileHash)?.state, 'retired')
    const unknown = await runCli(['retire', randomBytes(20).toString('hex'), '--data-dir', dataDir])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /error UNKNOWN_RELEASE: No release with info-hash/)

    assert.equal(await serve.stop(), 0)
    serve = null
  } finally {
    busy.close()
    await serve?.stop()
    await cleanup()
  }
})

test('serve --watch: status names each watch folder with its channel and state, and the entry it published', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const dataDir = path.join(dir, 'data')
  const drop = path.join(dir, 'drop')
  await mkdir(drop)
  const [httpPort, peerPort] = await freePorts(2)
  const serve = await startServeProcess(['--data-dir', dataDir, '--address', '127.0.0.1', '--http-port', String(httpPort), '--peer-port', String(peerPort), '--watch', `${drop}=nightly`])
  t.after(() => serve.stop())
  assert.match(serve.output(), new RegExp(`watching: +${drop} \\(channel nightly\\)`))
  const text = async (): Promise<string> => {
    const r = await runCli(['status', '--data-dir', dataDir])
    assert.equal(r.code, 0, r.stderr)
    return r.stdout
  }
  assert.match(await text(), new RegExp(`watching: +${drop} \\(channel nightly\\): watching, `))
  await writeFile(path.join(drop, 'agent.bin'), pseudoRandom(100_000, 'agent'))
  const deadline = Date.now() + 60_000
  let last = ''
  while (!/: published, published "agent\.bin"/.test(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500))
    last = await text()
  }
  assert.match(last, new RegExp(`watching: +${drop} \\(channel nightly\\): published, published "agent\\.bin"`))
  assert.match(last, /seeding +agent\.bin/)
})
