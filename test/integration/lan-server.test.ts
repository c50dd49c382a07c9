import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import net, { type AddressInfo } from 'node:net'
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createTorrent, type CreatedTorrent } from '../../electron/engine/create.js'
import { LanServer, type LanRequestLog, type PublishedRelease } from '../../electron/engine/lan-server.js'
import { defaultRouteInterfaces, primaryLanIPv4, resolveAddress } from '../../electron/engine/lan-address.js'
import { Tracker, type AnnounceEvent } from '../../electron/engine/tracker.js'
import { parseTorrent } from '../support/torrent-parser.js'
import { bdecode } from '../../electron/engine/bencode.js'
import { SwarmdropError } from '../../shared/errors.js'
import { makeTree, pseudoRandom, type TreeEntry } from '../support/fixtures.js'
import { binaryQueryValue, rawRequest } from '../support/http-request.js'
import { freePort } from '../support/ports.js'
import { publishedRelease } from '../support/published-release.js'
import { runProcess } from '../support/run-cli.js'
import { tempDir } from '../support/temp.js'
import { toolPath } from '../support/tools.js'

interface Fixtures {
  dir: string
  cleanup: () => Promise<void>
  folder: CreatedTorrent
  folderEntries: TreeEntry[]
  single: CreatedTorrent
  other: CreatedTorrent
}
let fx: Fixtures

before(async () => {
  const { dir, cleanup } = await tempDir('swarmdrop-lan-')
  const bundle = path.join(dir, 'bundle-2.0')
  await mkdir(bundle)
  const folderEntries = await makeTree(bundle, 40)
  const extra: [string, Buffer][] = [
    ['notes.txt', Buffer.from('release notes\n'.repeat(200))],
    ['manifest.json', Buffer.from(JSON.stringify({ version: '2.0', files: 40 }))],
    ['big.dat', pseudoRandom(300_000 + 17, 'big')],
  ]
  for (const [name, data] of extra) {
    await writeFile(path.join(bundle, name), data)
    folderEntries.push({ path: name, length: data.length })
  }
  const singleFile = path.join(dir, 'tool-1.2.3.tar.gz')
  await writeFile(singleFile, pseudoRandom(200_000 + 3, 'single'))
  const otherDir = path.join(dir, 'other-release')
  await mkdir(otherDir)
  await writeFile(path.join(otherDir, 'secret.txt'), 'not yours\n')
  await writeFile(path.join(dir, 'unpublished.txt'), 'never published\n')

  const [folder, single, other] = await Promise.all([
    createTorrent(bundle, { pieceLength: 16384 }),
    createTorrent(singleFile, { pieceLength: 32768 }),
    createTorrent(otherDir, { pieceLength: 16384 }),
  ])
  // On disk but not in the release: must never be served.
  await writeFile(path.join(bundle, 'added-later.txt'), 'added after publishing\n')
  fx = { dir, cleanup, folder, folderEntries, single, other }
})

after(async () => {
  await fx.cleanup()
})

interface Running {
  server: LanServer
  tracker: Tracker
  port: number
  base: string
  logs: LanRequestLog[]
  releases: PublishedRelease[]
  setKey(key: string | null): void
  close(): Promise<void>
}

/** A LanServer on loopback with the folder and single-file releases published (newest first). */
async function startServer(options: { key?: string | null; announce?: boolean | 'http' | 'udp'; releases?: CreatedTorrent[] } = {}): Promise<Running> {
  let key = options.key ?? null
  const releases: PublishedRelease[] = []
  const tracker = new Tracker({ intervalSeconds: 30, isAllowed: (h) => releases.some((r) => r.infoHash === h) })
  let server: LanServer | null = null
  const base = () => `http://127.0.0.1:${server?.port ?? 0}`
  server = new LanServer({ port: 0, host: '127.0.0.1', address: '127.0.0.1', feedKey: () => key, releases: () => releases, tracker, feedTitle: 'Test fleet' })
  const s = server
  const t0 = Date.now() - 60_000
  for (const [i, created] of (options.releases ?? [fx.single, fx.folder]).entries()) {
    releases.push(
      publishedRelease(created, {
        title: `${created.name} release`,
        publishedAt: new Date(t0 - i * 10_000),
        announce: () => {
          const http = [`${base()}/announce`]
          const udp = [`udp://127.0.0.1:${s.port}`]
          if (options.announce === false) return []
          if (options.announce === 'http') return [http]
          if (options.announce === 'udp') return [udp]
          return [http, udp]
        },
        webSeeds: () => [s.urls.webSeed(created.infoHash)],
      }),
    )
  }
  const logs: LanRequestLog[] = []
  s.on('request', (l) => logs.push(l))
  await s.listen()
  return {
    server: s,
    tracker,
    port: s.port,
    base: base(),
    logs,
    releases,
    setKey: (k) => (key = k),
    close: async () => {
      await s.close()
      await tracker.close()
    },
  }
}

/** Waits for the 'close' of in-flight responses, so their log entries exist. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50))
}

function webSeedPath(created: CreatedTorrent, relPath: string | null): string {
  const parts = [created.name, ...(relPath === null ? [] : relPath.split('/'))]
  return `/webseed/${created.infoHash}/${parts.map(encodeURIComponent).join('/')}`
}

test('.torrent download: parses with the right info-hash, current announce and web seed; HEAD; Content-Disposition', async () => {
  const r = await startServer()
  try {
    for (const created of [fx.folder, fx.single]) {
      const res = await rawRequest(r.port, `/torrents/${created.infoHash}.torrent`, { headers: { 'user-agent': 'Transmission/3.00' } })
      assert.equal(res.status, 200)
      assert.equal(res.headers['content-type'], 'application/x-bittorrent')
      assert.equal(Number(res.headers['content-length']), res.body.length)
      assert.match(String(res.headers['content-disposition']), new RegExp(`filename\\*=UTF-8''${encodeURIComponent(created.name).replace(/\./g, '\\.')}\\.torrent`))
      const parsed = parseTorrent(res.body)
      assert.equal(parsed.infoHash, created.infoHash)
      assert.equal(parsed.name, created.name)
      assert.equal(parsed.private, true)
      assert.deepEqual(parsed.announce, [[`${r.base}/announce`], [`udp://127.0.0.1:${r.port}`]])
      assert.deepEqual(parsed.urlList, [`${r.base}/webseed/${created.infoHash}/`])
      const head = await rawRequest(r.port, `/torrents/${created.infoHash}.torrent`, { method: 'HEAD' })
      assert.equal(head.status, 200)
      assert.equal(head.body.length, 0)
      assert.equal(Number(head.headers['content-length']), res.body.length)
    }
    const unknown = await rawRequest(r.port, `/torrents/${fx.other.infoHash}.torrent`)
    assert.equal(unknown.status, 404)
    assert.equal(unknown.body.toString(), 'Not found\n')
    const post = await rawRequest(r.port, `/torrents/${fx.single.infoHash}.torrent`, { method: 'POST' })
    assert.equal(post.status, 405)

    await settle()
    const torrentLogs = r.logs.filter((l) => l.kind === 'torrent' && l.method === 'GET' && l.status === 200)
    assert.equal(torrentLogs.length, 2)
    assert.equal(torrentLogs[0]?.ip, '127.0.0.1')
    assert.equal(torrentLogs[0]?.infoHash, fx.folder.infoHash)
    assert.equal(torrentLogs[0]?.userAgent, 'Transmission/3.00')
    assert.ok((torrentLogs[0]?.bytes ?? 0) > 0)
  } finally {
    await r.close()
  }
})

test('web seed: GET, HEAD, single Range, 416, empty files, unicode paths and content types', async () => {
  const r = await startServer()
  try {
    const bundle = path.join(fx.dir, 'bundle-2.0')
    const cases: [string, string][] = [
      ['notes.txt', 'text/plain; charset=utf-8'],
      ['manifest.json', 'application/json'],
      ['big.dat', 'application/octet-stream'],
    ]
    for (const [rel, type] of cases) {
      const expected = await readFile(path.join(bundle, rel))
      const res = await rawRequest(r.port, webSeedPath(fx.folder, rel))
      assert.equal(res.status, 200, rel)
      assert.equal(res.headers['content-type'], type, rel)
      assert.equal(res.headers['accept-ranges'], 'bytes')
      assert.equal(Number(res.headers['content-length']), expected.length)
      assert.ok(res.headers['last-modified'])
      assert.ok(res.body.equals(expected), rel)
    }
    const single = await readFile(path.join(fx.dir, 'tool-1.2.3.tar.gz'))
    const whole = await rawRequest(r.port, webSeedPath(fx.single, null))
    assert.equal(whole.status, 200)
    assert.equal(whole.headers['content-type'], 'application/gzip')
    assert.ok(whole.body.equals(single))

    const head = await rawRequest(r.port, webSeedPath(fx.single, null), { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.body.length, 0)
    assert.equal(Number(head.headers['content-length']), single.length)

    const ranges: [string, number, number][] = [
      ['bytes=10-99', 10, 99],
      ['bytes=199990-', 199990, single.length - 1],
      ['bytes=-50', single.length - 50, single.length - 1],
      ['bytes=100-99999999', 100, single.length - 1],
      ['bytes=0-0', 0, 0],
    ]
    for (const [range, start, end] of ranges) {
      const res = await rawRequest(r.port, webSeedPath(fx.single, null), { headers: { range } })
      assert.equal(res.status, 206, range)
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/${single.length}`, range)
      assert.equal(Number(res.headers['content-length']), end - start + 1, range)
      assert.ok(res.body.equals(single.subarray(start, end + 1)), range)
    }
    const rangedHead = await rawRequest(r.port, webSeedPath(fx.single, null), { method: 'HEAD', headers: { range: 'bytes=5-9' } })
    assert.equal(rangedHead.status, 206)
    assert.equal(rangedHead.headers['content-length'], '5')
    assert.equal(rangedHead.body.length, 0)

    for (const range of [`bytes=${single.length}-`, `bytes=${single.length + 10}-${single.length + 20}`, 'bytes=-0']) {
      const res = await rawRequest(r.port, webSeedPath(fx.single, null), { headers: { range } })
      assert.equal(res.status, 416, range)
      assert.equal(res.headers['content-range'], `bytes */${single.length}`)
    }
    // Several ranges, or nonsense: ignored (RFC 9110), the whole file comes back.
    for (const range of ['bytes=0-1,5-6', 'pages=1-2', 'bytes=9-3']) {
      const res = await rawRequest(r.port, webSeedPath(fx.single, null), { headers: { range } })
      assert.equal(res.status, 200, range)
      assert.equal(res.body.length, single.length)
    }

    const empty = fx.folderEntries.find((e) => e.length === 0)
    assert.ok(empty, 'the fixture has an empty file')
    const emptyRes = await rawRequest(r.port, webSeedPath(fx.folder, empty.path))
    assert.equal(emptyRes.status, 200)
    assert.equal(emptyRes.headers['content-length'], '0')
    assert.equal((await rawRequest(r.port, webSeedPath(fx.folder, empty.path), { headers: { range: 'bytes=0-' } })).status, 416)

    const unicode = fx.folderEntries.find((e) => /[^\x20-\x7e]/.test(e.path) && e.length > 0)
    assert.ok(unicode, 'the fixture has a non-empty unicode path')
    const uniRes = await rawRequest(r.port, webSeedPath(fx.folder, unicode.path))
    assert.equal(uniRes.status, 200, unicode.path)
    assert.ok(uniRes.body.equals(await readFile(path.join(bundle, ...unicode.path.split('/')))))

    await settle()
    const seedLogs = r.logs.filter((l) => l.kind === 'webseed')
    assert.ok(seedLogs.every((l) => l.ip === '127.0.0.1' && l.infoHash !== null))
    const rangeLog = seedLogs.find((l) => l.range === 'bytes=10-99')
    assert.equal(rangeLog?.status, 206)
    assert.equal(rangeLog?.bytes, 90)
    assert.equal(rangeLog?.path, webSeedPath(fx.single, null))
  } finally {
    await r.close()
  }
})

test('traversal and anything that is not exactly a release file: 404, and the server keeps serving', async () => {
  const r = await startServer()
  try {
    const F = fx.folder.infoHash
    const S = fx.single.infoHash
    const attempts = [
      `/webseed/${F}/bundle-2.0/../other-release/secret.txt`,
      `/webseed/${F}/bundle-2.0/../../unpublished.txt`,
      `/webseed/${F}/bundle-2.0/%2e%2e/unpublished.txt`,
      `/webseed/${F}/bundle-2.0/%2e%2e%2f%2e%2e%2funpublished.txt`,
      `/webseed/${F}/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd`,
      `/webseed/${F}/bundle-2.0%2F..%2Funpublished.txt`,
      `/webseed/${F}/bundle-2.0%2fnotes.txt`,
      `/webseed/${F}/bundle-2.0/..%5c..%5cunpublished.txt`,
      `/webseed/${F}/bundle-2.0%5cnotes.txt`,
      `/webseed/${F}//etc/passwd`,
      `/webseed/${F}/%2Fetc%2Fpasswd`,
      `/webseed/${F}/${encodeURIComponent(path.join(fx.dir, 'bundle-2.0', 'notes.txt'))}`,
      `/webseed/${F}/bundle-2.0/notes.txt%00`,
      `/webseed/${F}/bundle-2.0/notes.txt%00.png`,
      `/webseed/${F}/bundle-2.0/./notes.txt`,
      `/webseed/${F}/bundle-2.0//notes.txt`,
      `/webseed/${F}/bundle-2.0/notes.txt/`,
      `/webseed/${F}/bundle-2.0/%zz`,
      `/webseed/${F}/bundle-2.0/added-later.txt`,
      `/webseed/${F}/bundle-2.0`,
      `/webseed/${F}/bundle-2.0/`,
      `/webseed/${F}/`,
      `/webseed/${F}`,
      `/webseed/${F}/other-release/secret.txt`,
      `/webseed/${S}/bundle-2.0/notes.txt`,
      `/webseed/${S}/tool-1.2.3.tar.gz/extra`,
      `/webseed/${fx.other.infoHash}/other-release/secret.txt`,
      `/webseed/${F.toUpperCase()}/bundle-2.0/notes.txt`,
      `/webseed/../feed.xml`,
      `/torrents/../feed.xml`,
      `/torrents/%2e%2e%2ffeed.xml`,
      `/torrents/${F}.torrent/..`,
      `/torrents/${F}`,
      `/torrents/${fx.other.infoHash}.torrent`,
      '/etc/passwd',
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/stats',
      '/stats.json',
      '/',
      '/feed.xml/..',
    ]
    for (const attempt of attempts) {
      const res = await rawRequest(r.port, attempt)
      assert.equal(res.status, 404, attempt)
      assert.equal(res.body.toString(), 'Not found\n', attempt)
    }
    // An absolute-form request target (proxy style) is not a path of ours either.
    const absolute = await rawRequest(r.port, `http://127.0.0.1:${r.port}/webseed/${F}/bundle-2.0/notes.txt`)
    assert.equal(absolute.status, 404)

    // A raw NUL or space cannot even form a request: a 400 from the parser, not a crash.
    const sock = net.connect(r.port, '127.0.0.1')
    const reply = await new Promise<string>((resolve) => {
      let data = ''
      sock.on('data', (d) => (data += d.toString()))
      sock.on('close', () => resolve(data))
      sock.on('error', () => resolve(data))
      sock.write(`GET /webseed/${F}/bundle-2.0/notes.txt\u0000x HTTP/1.1\r\nHost: x\r\n\r\n`)
    })
    assert.match(reply, /^HTTP\/1.1 400/)

    const ok = await rawRequest(r.port, webSeedPath(fx.folder, 'notes.txt'))
    assert.equal(ok.status, 200)
    assert.equal((await rawRequest(r.port, '/feed.xml')).status, 200)
  } finally {
    await r.close()
  }
})

test('feed key: required on the feed, .torrent and web-seed URLs (plain 404 otherwise); announces work without it', async () => {
  const key = 'k3y/with space&=more'
  const r = await startServer({ key })
  try {
    const q = `?key=${encodeURIComponent(key)}`
    assert.equal(r.server.urls.feed(), `${r.base}/feed.xml${q}`)
    assert.equal(r.server.urls.torrent(fx.single.infoHash), `${r.base}/torrents/${fx.single.infoHash}.torrent${q}`)
    assert.equal(r.server.urls.webSeed(fx.single.infoHash), `${r.base}/webseed/${encodeURIComponent(key)}/${fx.single.infoHash}/`)

    const seedWithKey = `/webseed/${encodeURIComponent(key)}/${fx.single.infoHash}/tool-1.2.3.tar.gz`
    const guarded: [string, string][] = [
      ['/feed.xml', '/feed.xml' + q],
      [`/torrents/${fx.single.infoHash}.torrent`, `/torrents/${fx.single.infoHash}.torrent${q}`],
      [webSeedPath(fx.single, null), seedWithKey],
    ]
    for (const [without, withKey] of guarded) {
      for (const bad of [without, `${without}?key=wrong`, `${without}?key=`, `${without}?key=${encodeURIComponent(key.slice(0, -1))}`]) {
        const res = await rawRequest(r.port, bad)
        assert.equal(res.status, 404, bad)
        assert.equal(res.body.toString(), 'Not found\n', bad)
      }
      assert.equal((await rawRequest(r.port, withKey)).status, 200, withKey)
    }
    assert.equal((await rawRequest(r.port, `/webseed/wrong/${fx.single.infoHash}/tool-1.2.3.tar.gz`)).status, 404)
    assert.equal((await rawRequest(r.port, `/webseed/${encodeURIComponent(key)}/${fx.single.infoHash}/../tool-1.2.3.tar.gz`)).status, 404)

    // Every URL inside the feed carries the key, and each one works as given.
    const feed = (await rawRequest(r.port, '/feed.xml' + q)).body.toString()
    const urls = [...feed.matchAll(/(?:url="|<link>|href=")(http:[^"<]+)/g)].map((m) => (m[1] ?? '').replace(/&amp;/g, '&'))
    assert.ok(urls.length >= 5, feed)
    for (const url of urls) {
      const parsed = new URL(url)
      if (parsed.pathname === '/') continue
      assert.equal(parsed.searchParams.get('key'), key, url)
      assert.equal((await rawRequest(r.port, parsed.pathname + parsed.search)).status, 200, url)
    }
    // The .torrent's web seed carries the key in the path.
    const torrent = parseTorrent((await rawRequest(r.port, `/torrents/${fx.folder.infoHash}.torrent${q}`)).body)
    assert.deepEqual(torrent.urlList, [r.server.urls.webSeed(fx.folder.infoHash)])
    assert.deepEqual(torrent.announce[0], [`${r.base}/announce`], 'the announce URL stays /announce without the key')

    const announce = await rawRequest(
      r.port,
      `/announce?info_hash=${binaryQueryValue(Buffer.from(fx.folder.infoHash, 'hex'))}&peer_id=${binaryQueryValue(Buffer.from('-qB4520-abcdefghijkl'))}&port=6881&uploaded=0&downloaded=0&left=5&compact=1&key=1a2b3c&event=started`,
      { headers: { 'user-agent': 'qBittorrent/4.5.2' } },
    )
    const decoded = bdecode(announce.body).value as Record<string, unknown>
    assert.equal(decoded['failure reason'], undefined)
    assert.equal(decoded.interval, 30n)

    // The logged path never contains the key.
    await settle()
    assert.ok(r.logs.length > 10)
    for (const l of r.logs) {
      assert.ok(!l.path.includes(encodeURIComponent(key)) && !l.path.includes('key='), l.path)
      assert.equal(l.ip, '127.0.0.1')
    }
    // Announces reach the fleet view as the tracker's own events, not through this log.
    assert.ok(!r.logs.some((l) => l.path === '/announce'), 'announces are not logged as requests')
    assert.ok(r.logs.some((l) => l.kind === 'webseed' && l.status === 200 && l.path === `/webseed/${fx.single.infoHash}/tool-1.2.3.tar.gz` && l.bytes === fx.single.totalSize))
    assert.ok(r.logs.some((l) => l.kind === 'feed' && l.status === 404))

    // Removing the key opens the plain URLs again.
    r.setKey(null)
    assert.equal((await rawRequest(r.port, '/feed.xml')).status, 200)
    assert.equal((await rawRequest(r.port, seedWithKey)).status, 404)
  } finally {
    await r.close()
  }
})

test('feed over HTTP: RSS content type, enclosure lengths match the served .torrent, lastBuildDate moves only on change', async () => {
  const r = await startServer()
  try {
    const first = await rawRequest(r.port, '/feed.xml', { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:68.0) Gecko/20100101 Firefox/68.0' } })
    assert.equal(first.status, 200)
    assert.equal(first.headers['content-type'], 'application/rss+xml; charset=utf-8')
    const xml = first.body.toString()
    const enclosures = [...xml.matchAll(/<enclosure url="([^"]+)" length="(\d+)" type="([^"]+)"/g)]
    assert.equal(enclosures.length, 2)
    for (const [, url = '', length, type] of enclosures) {
      assert.equal(type, 'application/x-bittorrent')
      const served = await rawRequest(r.port, new URL(url).pathname)
      assert.equal(served.body.length, Number(length), url)
    }
    const lastBuild = (x: string) => /<lastBuildDate>([^<]+)<\/lastBuildDate>/.exec(x)?.[1] ?? ''
    const d1 = lastBuild(xml)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const d2 = lastBuild((await rawRequest(r.port, '/feed.xml')).body.toString())
    assert.equal(d2, d1, 'no change, no bump: qBittorrent may skip re-parsing')

    // A new release appears: the next render bumps lastBuildDate, without anyone calling releasesChanged().
    r.releases.unshift(publishedRelease(fx.other, { title: 'other release', publishedAt: new Date(), announce: () => [], webSeeds: () => [] }))
    const x3 = (await rawRequest(r.port, '/feed.xml')).body.toString()
    const d3 = lastBuild(x3)
    assert.ok(Date.parse(d3) > Date.parse(d2), `${d3} > ${d2}`)
    assert.match(x3, /<title><!\[CDATA\[other release\]\]><\/title>/)
    assert.equal((await rawRequest(r.port, `/torrents/${fx.other.infoHash}.torrent`)).status, 200)

    // releasesChanged() bumps at once, strictly and by at least a second, even within one second.
    const before = r.server.lastBuildDate.getTime()
    r.server.releasesChanged()
    r.server.releasesChanged()
    assert.ok(r.server.lastBuildDate.getTime() >= before + 2000)
    const d4 = lastBuild((await rawRequest(r.port, '/feed.xml')).body.toString())
    assert.equal(Date.parse(d4), r.server.lastBuildDate.getTime())

    // Retire: gone from the feed, the torrents route, the web seed and the tracker.
    r.releases.shift()
    const x5 = (await rawRequest(r.port, '/feed.xml')).body.toString()
    assert.doesNotMatch(x5, /other release/)
    assert.ok(Date.parse(lastBuild(x5)) > Date.parse(d4))
    assert.equal((await rawRequest(r.port, `/torrents/${fx.other.infoHash}.torrent`)).status, 404)
    assert.equal((await rawRequest(r.port, webSeedPath(fx.other, 'secret.txt'))).status, 404)

    await settle()
    const feedLog = r.logs.find((l) => l.kind === 'feed')
    assert.equal(feedLog?.userAgent, 'Mozilla/5.0 (X11; Linux x86_64; rv:68.0) Gecko/20100101 Firefox/68.0')
    assert.equal(feedLog?.bytes, first.body.length)
  } finally {
    await r.close()
  }
})

/** A UDP socket bound on 127.0.0.1 to a port that was free on TCP as well a moment before. */
async function udpOnlyBlocker(): Promise<{ socket: dgram.Socket; port: number }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort()
    const socket = dgram.createSocket('udp4')
    const bound = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false))
      socket.bind(port, '127.0.0.1', () => resolve(true))
    })
    if (bound) return { socket, port }
    socket.close()
  }
  throw new Error('no port free on both TCP and UDP at 127.0.0.1 in 20 attempts')
}

test('port in use: TCP and UDP each give PORT_IN_USE naming the port, and nothing is left listening', async () => {
  const blocker = net.createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  const tcpPort = (blocker.address() as AddressInfo).port
  const tracker = new Tracker({ intervalSeconds: 30, isAllowed: () => false })
  try {
    const server = new LanServer({ port: tcpPort, host: '127.0.0.1', address: '127.0.0.1', feedKey: () => null, releases: () => [], tracker })
    await assert.rejects(server.listen(), (err: unknown) => {
      assert.ok(err instanceof SwarmdropError)
      assert.equal(err.code, 'PORT_IN_USE')
      assert.equal(err.message, `HTTP port ${tcpPort} is already in use by another program (TCP). Stop it or pick another port with --http-port.`)
      return true
    })
  } finally {
    blocker.close()
  }

  // A UDP port whose TCP number is free too: the OS picks a UDP port without looking at TCP, and
  // the tests running beside this one hold TCP ports of their own (CI once saw the TCP error here).
  const { socket: udpBlocker, port: udpPort } = await udpOnlyBlocker()
  try {
    const server = new LanServer({ port: udpPort, host: '127.0.0.1', address: '127.0.0.1', feedKey: () => null, releases: () => [], tracker })
    await assert.rejects(server.listen(), (err: unknown) => {
      assert.ok(err instanceof SwarmdropError)
      assert.equal(err.code, 'PORT_IN_USE')
      assert.match(err.message, new RegExp(`UDP port ${udpPort} is already in use by another program \\(UDP\\)\\. Stop it or pick another port with --http-port \\(the UDP tracker uses the same number\\)\\.`))
      return true
    })
    // The TCP half was released again.
    const probe = net.createServer()
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject)
      probe.listen(udpPort, '127.0.0.1', resolve)
    })
    await new Promise<void>((resolve) => probe.close(() => resolve()))
  } finally {
    udpBlocker.close()
    await tracker.close()
  }
})

test('real client: aria2c downloads a single file and a folder purely from the web seed, byte-identical', async () => {
  const aria2c = toolPath('aria2c')
  // No announce URL and no peers: the url-list is the only source.
  const r = await startServer({ announce: false })
  const { dir: out, cleanup } = await tempDir('swarmdrop-aria2-')
  try {
    for (const created of [fx.single, fx.folder]) {
      const torrentUrl = r.server.urls.torrent(created.infoHash)
      const parsed = parseTorrent((await rawRequest(r.port, new URL(torrentUrl).pathname)).body)
      assert.deepEqual(parsed.announce, [])
      const started = performance.now()
      const dl = await runProcess(
        aria2c,
        [
          `--dir=${out}`,
          '--seed-time=0',
          '--enable-dht=false',
          '--enable-dht6=false',
          '--bt-enable-lpd=false',
          '--enable-peer-exchange=false',
          '--follow-torrent=mem',
          '--file-allocation=none',
          '--summary-interval=0',
          '--console-log-level=warn',
          '--bt-stop-timeout=60',
          `--listen-port=${await freePort()}`,
          torrentUrl,
        ],
        { timeout: 60_000 },
      )
      assert.equal(dl.code, 0, `aria2c failed:\n${dl.stdout}\n${dl.stderr}`)
      console.log(`aria2c ${created.name}: ${created.totalSize} bytes in ${((performance.now() - started) / 1000).toFixed(2)} s`)
    }
    assert.ok((await readFile(path.join(out, 'tool-1.2.3.tar.gz'))).equals(await readFile(path.join(fx.dir, 'tool-1.2.3.tar.gz'))))
    for (const entry of fx.folderEntries) {
      const got = await readFile(path.join(out, 'bundle-2.0', ...entry.path.split('/')))
      const want = await readFile(path.join(fx.dir, 'bundle-2.0', ...entry.path.split('/')))
      assert.ok(got.equals(want), entry.path)
    }
    const downloaded = await listFiles(path.join(out, 'bundle-2.0'))
    assert.deepEqual(downloaded.sort(), fx.folderEntries.map((e) => e.path).sort(), 'exactly the release, nothing more')

    await settle()
    const seeded = r.logs.filter((l) => l.kind === 'webseed' && (l.status === 200 || l.status === 206))
    assert.ok(seeded.length > 0)
    assert.ok(seeded.every((l) => l.ip === '127.0.0.1' && /aria2/.test(l.userAgent ?? '')))
    const bytes = seeded.reduce((s, l) => s + l.bytes, 0)
    assert.ok(bytes >= fx.single.totalSize + fx.folder.totalSize, `web seed sent ${bytes} bytes`)
    console.log(`web seed: ${seeded.length} requests, ${bytes} bytes for ${fx.single.totalSize + fx.folder.totalSize} bytes of content`)
  } finally {
    await cleanup()
    await r.close()
  }
})

test('real client: aria2c announces started, completed and stopped to the tracker over HTTP and over UDP', async () => {
  const aria2c = toolPath('aria2c')
  for (const protocol of ['http', 'udp'] as const) {
    const r = await startServer({ announce: protocol, releases: [fx.single] })
    const events: AnnounceEvent[] = []
    r.tracker.on('announce', (e) => events.push(e))
    const { dir: out, cleanup } = await tempDir('swarmdrop-aria2-')
    try {
      const listenPort = await freePort()
      const dl = await runProcess(
        aria2c,
        [
          `--dir=${out}`,
          '--seed-time=0',
          // aria2 speaks UDP trackers only through its DHT socket. The torrent is private, so aria2
          // never uses DHT for it, and with no entry point and a fresh routing table it contacts nobody.
          `--enable-dht=${protocol === 'udp'}`,
          `--dht-listen-port=${await freeUdpPort()}`,
          `--dht-file-path=${path.join(out, 'dht.dat')}`,
          '--enable-dht6=false',
          '--bt-enable-lpd=false',
          '--enable-peer-exchange=false',
          '--follow-torrent=mem',
          '--file-allocation=none',
          '--summary-interval=0',
          '--console-log-level=warn',
          `--listen-port=${listenPort}`,
          r.server.urls.torrent(fx.single.infoHash),
        ],
        { timeout: 60_000 },
      )
      assert.equal(dl.code, 0, `aria2c failed:\n${dl.stdout}\n${dl.stderr}`)
      assert.ok((await readFile(path.join(out, 'tool-1.2.3.tar.gz'))).equals(await readFile(path.join(fx.dir, 'tool-1.2.3.tar.gz'))))
      const seen = events.map((e) => e.event)
      assert.equal(seen[0], 'started', `${protocol}: ${seen.join(',')}`)
      assert.ok(seen.includes('stopped'), `${protocol}: ${seen.join(',')}`)
      const first = events[0]
      assert.equal(first?.protocol, protocol)
      assert.equal(first?.ip, '127.0.0.1')
      assert.equal(first?.port, listenPort)
      assert.equal(first?.clientPrefix, 'A2-1-36-')
      assert.equal(first?.infoHash, fx.single.infoHash)
      assert.equal(first?.left, fx.single.totalSize)
      assert.equal(events.at(-1)?.left, 0, 'aria2c reports the finished download')
    } finally {
      await cleanup()
      await r.close()
    }
  }
})

test('LAN address: default-route interface first, a configured host wins', () => {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
    'eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0',
    'tun0\t00000000\t00000000\t0000\t0\t0\t1\t00000000\t0\t0\t0',
  ].join('\n')
  assert.deepEqual(defaultRouteInterfaces(table), ['eth0', 'wlan0'])
  assert.deepEqual(defaultRouteInterfaces(''), [])
  assert.equal(resolveAddress('  updates.lan '), 'updates.lan')
  assert.equal(resolveAddress('10.1.2.3'), '10.1.2.3')
  assert.equal(resolveAddress(null), primaryLanIPv4())
  assert.equal(resolveAddress(''), primaryLanIPv4())
  assert.match(primaryLanIPv4(), /^\d+\.\d+\.\d+\.\d+$/)
})

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve))
  const port = s.address().port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

async function listFiles(root: string, rel: string[] = []): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(path.join(root, ...rel), { withFileTypes: true })) {
    if (entry.isDirectory()) out.push(...(await listFiles(root, [...rel, entry.name])))
    else out.push([...rel, entry.name].join('/'))
  }
  return out
}
