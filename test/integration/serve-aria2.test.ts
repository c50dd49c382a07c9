import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { startAria2 } from '../support/aria2.js'
import { startTestEngine, publish, waitFor } from '../support/engine.js'
import { makeTree, pseudoRandom } from '../support/fixtures.js'
import { freePorts } from '../support/ports.js'
import { tempDir } from '../support/temp.js'

/** The .torrent URL of the item titled `title`, read from the served feed like a client would. */
async function torrentUrlFromFeed(feedUrl: string, title: string): Promise<string> {
  const res = await fetch(feedUrl)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /application\/rss\+xml/)
  const xml = await res.text()
  for (const item of xml.split('<item>').slice(1)) {
    if (!item.includes(`<title><![CDATA[${title}]]></title>`) && !item.includes(`<title>${title}</title>`)) continue
    const m = /<enclosure url="([^"]+)"[^>]*type="application\/x-bittorrent"/.exec(item)
    if (m?.[1]) return m[1].replace(/&amp;/g, '&')
  }
  throw new Error(`no item titled ${title} in the feed:\n${xml}`)
}

test('aria2c downloads a published file and a published 2,000-file folder from the feed, byte-identical', async () => {
  const { dir, cleanup } = await tempDir()
  const engine = await startTestEngine(path.join(dir, 'data'))
  const arias: ReturnType<typeof startAria2>[] = []
  try {
    await mkdir(path.join(dir, 'pub'))
    const file = path.join(dir, 'pub', 'agent-2.4.1.tar')
    await writeFile(file, pseudoRandom(20 * 1024 * 1024 + 17, 'aria-single'))
    const folder = path.join(dir, 'pub', 'config-pack')
    const entries = await makeTree(folder, 2000)

    const completions: string[] = []
    engine.on('release.completedByServer', (e) => completions.push(e.infoHash))
    const single = await publish(engine, [file])
    const pack = await publish(engine, [folder])
    assert.equal(single.state, 'seeding')
    assert.equal(pack.fileCount, 2000)
    const feedUrl = engine.endpoints().feedUrl
    assert.match(feedUrl, /^http:\/\/127\.0\.0\.1:\d+\/feed\.xml$/)

    const [p1, p2] = await freePorts(2)
    const a1 = startAria2({ torrent: await torrentUrlFromFeed(feedUrl, single.name), dir: path.join(dir, 'dl1'), listenPort: p1! })
    const a2 = startAria2({ torrent: await torrentUrlFromFeed(feedUrl, pack.name), dir: path.join(dir, 'dl2'), listenPort: p2! })
    arias.push(a1, a2)
    const timeout = setTimeout(() => void Promise.all(arias.map((a) => a.stop())), 60_000)
    const [c1, c2] = await Promise.all([a1.exited, a2.exited])
    clearTimeout(timeout)
    assert.equal(c1, 0, a1.output())
    assert.equal(c2, 0, a2.output())
    assert.deepEqual(await readFile(path.join(dir, 'dl1', 'agent-2.4.1.tar')), await readFile(file))
    for (const e of entries) {
      const got = await readFile(path.join(dir, 'dl2', 'config-pack', ...e.path.split('/')))
      assert.equal(got.length, e.length, e.path)
    }
    for (const e of entries.filter((_, i) => i % 97 === 0)) {
      assert.deepEqual(await readFile(path.join(dir, 'dl2', 'config-pack', ...e.path.split('/'))), await readFile(path.join(folder, ...e.path.split('/'))))
    }
    // aria2 (--seed-time=0) announces "stopped" with nothing left instead of "completed": both count.
    await waitFor(() => completions.length === 2, 10_000, 'release.completedByServer for both downloads')
    assert.deepEqual([...completions].sort(), [single.infoHash, pack.infoHash].sort())
    const snap = engine.snapshot()
    const up = snap.swarms.find((s) => s.infoHash === single.infoHash)
    assert.ok(up && up.uploaded >= 20 * 1024 * 1024, `seeder uploaded ${up?.uploaded}`)
  } finally {
    await Promise.all(arias.map((a) => a.stop()))
    await engine.close()
    await cleanup()
  }
})

test('web seed on: aria2 (BitTorrent and HTTP at once) takes nothing from the web seed while it takes the release over BitTorrent, and completes', async () => {
  const { dir, cleanup } = await tempDir()
  // A limit keeps the download going long enough to look at it: 12 MiB at 3 MiB/s.
  const engine = await startTestEngine(path.join(dir, 'data'), { uploadLimit: 3 * 1024 * 1024 })
  let aria: ReturnType<typeof startAria2> | null = null
  try {
    await mkdir(path.join(dir, 'pub'))
    const file = path.join(dir, 'pub', 'agent-3.0.0.bin')
    await writeFile(file, pseudoRandom(12 * 1024 * 1024 + 5, 'aria-webseed'))
    const release = await publish(engine, [file], { webSeed: true })
    const seedUrl = `${release.webSeedUrl ?? ''}agent-3.0.0.bin`
    let probed = 0
    const probe = async (): Promise<Response> => {
      const res = await fetch(seedUrl, { headers: { Range: 'bytes=0-1023' } })
      if (res.status === 206) probed += 1024
      return res
    }
    // Another server, 127.0.0.2, that BitTorrent never reaches (behind a firewall, say): the web
    // seed first waits 5 s for a wire from it, then serves it.
    const asked = Date.now()
    const firewalled = await new Promise<number>((resolve, reject) => {
      http.get(seedUrl, { localAddress: '127.0.0.2', headers: { Range: 'bytes=0-1023' } }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      }).on('error', reject)
    })
    assert.equal(firewalled, 206, 'a server with no BitTorrent wire is served')
    probed += 1024
    assert.ok(Date.now() - asked >= 4_000, `served after ${Date.now() - asked} ms, not after the wait for a wire`)

    const [port] = await freePorts(1)
    aria = startAria2({ torrent: await torrentUrlFromFeed(engine.endpoints().feedUrl, release.name), dir: path.join(dir, 'dl'), listenPort: port! })
    let refused: Response | null = null
    await waitFor(
      async () => {
        const res = await probe()
        if (res.status === 503) refused = res
        else await res.arrayBuffer()
        return refused !== null
      },
      15_000,
      'the web seed refusing 127.0.0.1 while its aria2 downloads over BitTorrent',
    )
    const r = refused as Response | null
    assert.equal(r?.headers.get('retry-after'), '30')
    assert.match(await (r as Response).text(), /over BitTorrent/)

    const timeout = setTimeout(() => void aria?.stop(), 60_000)
    const code = await aria.exited
    clearTimeout(timeout)
    assert.equal(code, 0, aria.output())
    assert.deepEqual(await readFile(path.join(dir, 'dl', 'agent-3.0.0.bin')), await readFile(file))
    // Its wire closed when it was done: the web seed serves that address again.
    await waitFor(async () => (await probe()).status === 206, 10_000, 'the web seed serving 127.0.0.1 again once aria2 has left')
    const snap = engine.snapshot()
    const rollout = snap.rollouts.find((x) => x.infoHash === release.infoHash)
    assert.ok(rollout && rollout.uploadedCopies >= 1, `copies uploaded, web seed included: ${rollout?.uploadedCopies}`)
    // aria2 asks the web seed as soon as it loads the .torrent, before its wire to us is up: held,
    // then refused. Whatever the web seed sent went to this test's probes.
    const overBitTorrent = snap.swarms.find((x) => x.infoHash === release.infoHash)?.uploaded ?? 0
    const overHttp = Math.round(rollout.uploadedCopies * release.totalSize - overBitTorrent)
    assert.ok(overHttp <= probed, `the web seed sent ${overHttp} bytes, the probes took ${probed}`)
  } finally {
    await aria?.stop()
    await engine.close()
    await cleanup()
  }
})
