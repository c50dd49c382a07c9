/**
 * Only what was published is served, and only while it is seeding: a file swapped after
 * publishing (same size, or a symlink to /etc/passwd) is never served and turns the release to
 * "source changed"; paused releases leave the feed and the web seed; release files are served as
 * downloads, never as active pages; the upload limit covers the web seed; the LAN server binds
 * where the user asked; stalled readers are dropped and connections per IP are capped.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, rename, rm, symlink, writeFile, mkdir } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import type { Engine } from '../../electron/engine/engine.js'
import { LanServer } from '../../electron/engine/lan-server.js'
import { Tracker } from '../../electron/engine/tracker.js'
import type { ReleaseSummary } from '../../shared/contract.js'
import { pseudoRandom } from '../support/fixtures.js'
import { rawRequest } from '../support/http-request.js'
import { publish, startTestEngine, waitFor } from '../support/engine.js'
import { freePorts } from '../support/ports.js'
import { tempDir } from '../support/temp.js'
import { noResolver } from '../../electron/engine/fleet-tracker.js'

async function feedTitles(engine: Engine): Promise<string[]> {
  const res = await rawRequest(engine.httpPort, '/feed.xml')
  return [...res.body.toString().matchAll(/<item>\s*<title><!\[CDATA\[(.*?)\]\]><\/title>/g)].map((m) => m[1] ?? '')
}

function webSeedPath(release: ReleaseSummary, ...rest: string[]): string {
  return new URL(release.webSeedUrl ?? '').pathname + rest.map(encodeURIComponent).join('/')
}

test('a file swapped after publishing is never served, and the release turns to "source changed"', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const engine = await startTestEngine(path.join(dir, 'data'))
  t.after(() => engine.close())
  const folder = path.join(dir, 'app-2.4.1')
  await mkdir(folder)
  const original = pseudoRandom(4096, 'original')
  await writeFile(path.join(folder, 'passwd'), original)
  await writeFile(path.join(folder, 'readme.txt'), 'read me\n')
  const release = await publish(engine, [folder], { webSeed: true })
  const url = webSeedPath(release, 'app-2.4.1', 'passwd')
  assert.deepEqual((await rawRequest(engine.httpPort, url)).body, original)

  // Same size, other content, other inode: `cp` to a temp name and `mv` over the original.
  await writeFile(path.join(folder, '.swap'), pseudoRandom(4096, 'other'))
  await rename(path.join(folder, '.swap'), path.join(folder, 'passwd'))
  const swapped = await rawRequest(engine.httpPort, url)
  assert.equal(swapped.status, 404)
  const summary = (await engine.handle('snapshot.get', {})).releases.find((r) => r.infoHash === release.infoHash)
  assert.equal(summary?.state, 'error')
  assert.equal(summary?.error?.code, 'FILE_CHANGED')
  assert.match(summary?.error?.message ?? '', /Source changed: .*passwd is not the file that was published \(it was replaced by another file\)/)
  assert.deepEqual(await feedTitles(engine), [], 'no longer in the feed')
  assert.equal((await rawRequest(engine.httpPort, webSeedPath(release, 'app-2.4.1', 'readme.txt'))).status, 404, 'nothing of it is served')
})

test('a symlink to /etc/passwd put in place of a published file is never served', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const engine = await startTestEngine(path.join(dir, 'data'))
  t.after(() => engine.close())
  const passwd = await readFile('/etc/passwd')
  const file = path.join(dir, 'motd')
  await writeFile(file, pseudoRandom(passwd.length, 'same size as /etc/passwd'))
  const release = await publish(engine, [file], { webSeed: true })
  await rm(file)
  await symlink('/etc/passwd', file)
  const res = await rawRequest(engine.httpPort, webSeedPath(release, 'motd'))
  assert.equal(res.status, 404)
  assert.ok(!res.body.includes(passwd), '/etc/passwd never leaves')
  await waitFor(async () => (await engine.handle('snapshot.get', {})).releases[0]?.state === 'error', 5000, 'the release to stop')
})

test('paused releases leave the feed, the .torrent URL and the web seed; release files are downloads, not pages; the upload limit covers the web seed', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const limit = 256 * 1024
  const engine = await startTestEngine(path.join(dir, 'data'), { uploadLimit: limit })
  t.after(() => engine.close())
  const site = path.join(dir, 'site')
  await mkdir(site)
  await writeFile(path.join(site, 'index.html'), '<script>alert(document.cookie)</script>')
  await writeFile(path.join(site, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')
  const big = pseudoRandom(768 * 1024, 'big')
  await writeFile(path.join(site, 'big.bin'), big)
  const release = await publish(engine, [site], { webSeed: true })

  for (const name of ['index.html', 'logo.svg']) {
    const res = await rawRequest(engine.httpPort, webSeedPath(release, 'site', name))
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-disposition'], 'attachment', name)
    assert.equal(res.headers['x-content-type-options'], 'nosniff', name)
    assert.equal(res.headers['content-security-policy'], "default-src 'none'; sandbox", name)
  }

  // 768 KiB at 256 KiB/s, with at most one second of burst: no faster than about 2 s.
  const started = Date.now()
  const res = await rawRequest(engine.httpPort, webSeedPath(release, 'site', 'big.bin'))
  const seconds = (Date.now() - started) / 1000
  assert.deepEqual(res.body, big)
  assert.ok(seconds >= 1.8, `768 KiB took ${seconds.toFixed(2)} s under a 256 KiB/s limit`)
  t.diagnostic(`web seed under a 256 KiB/s limit: 768 KiB in ${seconds.toFixed(2)} s`)

  await engine.handle('release.pause', { infoHash: release.infoHash })
  assert.deepEqual(await feedTitles(engine), [])
  assert.equal((await rawRequest(engine.httpPort, new URL(release.torrentUrl).pathname)).status, 404)
  assert.equal((await rawRequest(engine.httpPort, webSeedPath(release, 'site', 'index.html'))).status, 404)
  await engine.handle('release.resume', { infoHash: release.infoHash })
  assert.deepEqual(await feedTitles(engine), ['site'])
})

test('the LAN server listens where the user asked: 127.0.0.1 stays on loopback, and an IPv6 address works', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const [httpPort, peerPort] = await freePorts(2)
  const { startEngine } = await import('../../electron/engine/engine.js')
  const v4 = await startEngine({ dataDir: path.join(dir, 'v4'), overrides: { address: '127.0.0.1', httpPort, peerPort }, resolver: noResolver })
  try {
    assert.equal((await rawRequest(v4.httpPort, '/feed.xml')).status, 200)
    // Bound to 127.0.0.1, not to every interface: another address of this machine is refused.
    await assert.rejects(rawRequest(v4.httpPort, '/feed.xml', { host: '127.0.0.2' }), /ECONNREFUSED/)
  } finally {
    await v4.close()
  }

  const [httpPort6, peerPort6] = await freePorts(2)
  const v6 = await startEngine({ dataDir: path.join(dir, 'v6'), overrides: { address: '::1', httpPort: httpPort6, peerPort: peerPort6 }, resolver: noResolver })
  t.after(() => v6.close())
  const ep = v6.endpoints()
  assert.equal(ep.feedUrl, `http://[::1]:${v6.httpPort}/feed.xml`)
  assert.deepEqual(ep.announceUrls, [`http://[::1]:${v6.httpPort}/announce`, `udp://[::1]:${v6.httpPort}`])
  const feed = await rawRequest(v6.httpPort, '/feed.xml', { host: '::1' })
  assert.equal(feed.status, 200)
  assert.match(feed.body.toString(), /<link>http:\/\/\[::1\]:\d+\/<\/link>/)
})

test('stalled readers are dropped and connections per IP are capped; the server keeps serving', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const file = path.join(dir, 'blob.bin')
  // Far more than loopback socket buffers hold, so a reader that stops really stalls the sender.
  const content = pseudoRandom(64 * 1024 * 1024, 'blob')
  await writeFile(file, content)
  const tracker = new Tracker({ intervalSeconds: 30, isAllowed: () => false })
  const release = { infoHash: 'ab'.repeat(20), title: 'blob', channel: 'default', publishedAt: new Date(), name: 'blob.bin', isDirectory: false, files: [{ path: [], absPath: file, length: content.length }], totalSize: content.length, torrent: () => Buffer.from('d4:infode'), magnet: '' }
  const server = new LanServer({ port: 0, host: '127.0.0.1', address: '127.0.0.1', feedKey: () => null, releases: () => [release], tracker, idleTimeoutMs: 1000, maxConnectionsPerIp: 4 })
  await server.listen()
  t.after(async () => {
    await server.close()
    await tracker.close()
  })

  // Six readers ask for the file and stop reading. A paused socket cannot see the server hang up
  // until it reads again, so they read after 3 s: what each got, and that each was cut off.
  const readers = Array.from({ length: 6 }, () => {
    const s = net.connect(server.port, '127.0.0.1')
    s.pause()
    s.on('error', () => undefined)
    s.write(`GET /webseed/${release.infoHash}/blob.bin HTTP/1.1\r\nHost: x\r\n\r\n`)
    return s
  })
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const received = await Promise.all(
    readers.map(
      (s) =>
        new Promise<number>((resolve) => {
          let bytes = 0
          s.on('data', (chunk: Buffer) => (bytes += chunk.length))
          const timer = setTimeout(() => resolve(-1), 8000)
          s.once('close', () => {
            clearTimeout(timer)
            resolve(bytes)
          })
          s.resume()
        }),
    ),
  )
  t.diagnostic(`bytes each stalled reader got before the server hung up: ${received.join(', ')}`)
  assert.ok(received.every((n) => n >= 0), 'every connection was closed by the server')
  assert.equal(received.filter((n) => n === 0).length, 2, 'the two over the per-IP cap got nothing')
  assert.ok(received.filter((n) => n > 0).every((n) => n < content.length), 'the four let in were dropped mid-transfer once idle')
  // The server still answers a well-behaved client afterwards.
  const ok = await rawRequest(server.port, `/webseed/${release.infoHash}/blob.bin`, { headers: { range: 'bytes=0-9' } })
  assert.equal(ok.status, 206)
  assert.deepEqual(ok.body, content.subarray(0, 10))
})

test('a parseable record with missing fields is set aside and named; the rest of the library starts and serves', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const dataDir = path.join(dir, 'data')
  const file = path.join(dir, 'app.bin')
  await writeFile(file, pseudoRandom(64 * 1024, 'app'))
  const first = await startTestEngine(dataDir)
  const good = await publish(first, [file])
  await first.close()
  // What a half-finished hand edit or another tool's bug leaves: valid JSON, no "source".
  const stored = JSON.parse(await readFile(path.join(dataDir, 'releases', `${good.infoHash}.json`), 'utf8')) as Record<string, unknown>
  const badHash = 'f'.repeat(40)
  await writeFile(path.join(dataDir, 'releases', `${badHash}.json`), JSON.stringify({ ...stored, infoHash: badHash, source: undefined }))

  const engine = await startTestEngine(dataDir)
  t.after(() => engine.close())
  await waitFor(async () => (await engine.handle('snapshot.get', {})).releases[0]?.state === 'seeding', 10_000, 'the good release to seed')
  const snap = await engine.handle('snapshot.get', {})
  assert.deepEqual(snap.releases.map((r) => r.infoHash), [good.infoHash])
  assert.equal(snap.damagedReleases.length, 1)
  assert.equal(snap.damagedReleases[0]?.name, `${badHash}.json`)
  assert.match(snap.damagedReleases[0]?.reason ?? '', /"info" does not hash to "infoHash"|"source" is not an object/)
  assert.ok(snap.damagedReleases[0]?.keptAt?.includes(path.join('releases', 'damaged')))
  assert.equal((await rawRequest(engine.httpPort, '/feed.xml')).status, 200)
  assert.deepEqual(await feedTitles(engine), ['app.bin'])
})
