/**
 * The crash suite: `swarmdrop serve` killed with SIGKILL, 20 times, while it hashes a release,
 * while it seeds (a web-seed download in flight), in the middle of a browser upload, and in the
 * middle of settings writes. After every restart: no release that was published is lost, each
 * one seeds again, the feed's items are byte-for-byte what they were, no record is damaged, and
 * nothing is left behind (no temp files, no unfinished uploads).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { open, readdir, readFile, writeFile, mkdir } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import type { Snapshot } from '../../shared/contract.js'
import { connectInstance, type InstanceConnection } from '../../electron/cli/instance-client.js'
import { adminToken, readInstance } from '../../electron/engine/data-dir.js'
import { feedItems, type FeedItemView } from '../support/feed-items.js'
import { pseudoRandom } from '../support/fixtures.js'
import { freePorts } from '../support/ports.js'
import { startServeProcess, type ServeProcess } from '../support/serve-process.js'
import { tempDir } from '../support/temp.js'

const ROUNDS = 20
const SCENARIOS = ['hashing', 'seeding', 'upload', 'settings'] as const
type Scenario = (typeof SCENARIOS)[number]

/** Every file under `dir` whose name says it was left half-done. */
async function leftovers(dir: string): Promise<string[]> {
  const found: string[] = []
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else if (/\.(tmp|part)$/.test(e.name)) found.push(path.relative(dir, p))
    }
  }
  await walk(dir)
  return found
}

async function publishAndWait(conn: InstanceConnection, paths: string[], webSeed: boolean): Promise<string> {
  const done = new Promise<string>((resolve, reject) => {
    const offDone = conn.api.on('publish.done', (e) => {
      offDone()
      resolve(e.release.infoHash)
    })
    conn.api.on('publish.error', (e) => reject(new Error(e.error.message)))
  })
  await conn.call('publish.start', { paths, webSeed })
  return done
}

/** Resolves once `bytes` of a response body have arrived (the download is really in flight). */
function startDownload(url: string, bytes: number): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let got = 0
      res.on('data', (chunk: Buffer) => {
        got += chunk.length
        if (got >= bytes) {
          res.pause()
          resolve(req)
        }
      })
      res.on('error', () => undefined)
    })
    req.on('error', (err) => reject(err))
  })
}

/** Sends the headers and half the body of an upload, then leaves it hanging. */
async function startUpload(adminPort: number, token: string, rel: string, size: number): Promise<http.ClientRequest> {
  const req = http.request({ host: '127.0.0.1', port: adminPort, method: 'PUT', path: `/upload/crash${rel}`, headers: { host: `127.0.0.1:${adminPort}`, authorization: `Bearer ${token}`, 'content-length': size } })
  req.on('error', () => undefined)
  await new Promise<void>((resolve) => req.write(pseudoRandom(size / 2, rel), () => resolve()))
  // Give the server time to open its .part file and write into it.
  await new Promise((resolve) => setTimeout(resolve, 150))
  return req
}

test('kill -9 while hashing, seeding, uploading and writing settings, 20 rounds: nothing lost, nothing left behind', { timeout: 300_000 }, async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const dataDir = path.join(dir, 'data')
  const [httpPort, peerPort] = await freePorts(2)
  const flags = ['--data-dir', dataDir, '--address', '127.0.0.1', '--http-port', String(httpPort), '--peer-port', String(peerPort)]
  const feedUrl = `http://127.0.0.1:${httpPort}/feed.xml`
  let serve: ServeProcess | null = null
  t.after(async () => void (await serve?.stop()))

  // What must survive every crash: the releases published so far and their feed items.
  const folder = path.join(dir, 'fleet-config')
  await mkdir(path.join(folder, 'etc'), { recursive: true })
  for (let i = 0; i < 20; i++) await writeFile(path.join(folder, 'etc', `conf-${i}.yaml`), pseudoRandom(3000 + i, `conf-${i}`))
  const image = path.join(dir, 'image.bin')
  await writeFile(image, pseudoRandom(8 * 1024 * 1024, 'image'))
  // Big enough that hashing takes several progress ticks: a sparse file reads as zeros, fast to create.
  const big = path.join(dir, 'big.iso')
  const fh = await open(big, 'w')
  await fh.truncate(1536 * 1024 * 1024)
  await fh.close()

  serve = await startServeProcess(flags)
  let conn = await connectInstance(dataDir)
  const published = new Set<string>()
  published.add(await publishAndWait(conn, [folder], false))
  const imageHash = await publishAndWait(conn, [image], true)
  published.add(imageHash)
  let expectedItems: FeedItemView[] = (await feedItems(feedUrl)).items
  assert.equal(expectedItems.length, 2)
  conn.close()

  const counts: Record<Scenario, number> = { hashing: 0, seeding: 0, upload: 0, settings: 0 }
  for (let round = 0; round < ROUNDS; round++) {
    const scenario = SCENARIOS[round % SCENARIOS.length] as Scenario
    counts[scenario]++
    conn = await connectInstance(dataDir)
    const instance = await readInstance(dataDir)
    assert.ok(instance)
    const token = await adminToken(dataDir)
    let inFlight: http.ClientRequest | null = null
    switch (scenario) {
      case 'hashing': {
        // Kill on the first progress tick: the release is half hashed and never stored.
        const ticked = new Promise<void>((resolve) => conn.api.on('publish.progress', () => resolve()))
        const finished = new Promise<string>((resolve) => conn.api.on('publish.done', (e) => resolve(e.release.infoHash)))
        await conn.call('publish.start', { paths: [big], name: `big-${round}` })
        const first = await Promise.race([ticked.then(() => null), finished])
        // Hashing that beat the first tick counts as published, and must survive too.
        if (first !== null) published.add(first)
        break
      }
      case 'seeding':
        inFlight = await startDownload(`http://127.0.0.1:${httpPort}/webseed/${imageHash}/image.bin`, 256 * 1024)
        break
      case 'upload':
        inFlight = await startUpload(instance.adminPort, token, `-${round}/drop/payload.bin`, 4 * 1024 * 1024)
        break
      case 'settings':
        for (let i = 0; i < 40; i++) void conn.call('settings.update', { uploadLimit: (round * 40 + i) * 1024 }).catch(() => undefined)
        await new Promise((resolve) => setTimeout(resolve, 5))
        break
    }
    serve.child.kill('SIGKILL')
    await serve.exited
    inFlight?.destroy()
    conn.close()

    serve = await startServeProcess(flags)
    const after = await connectInstance(dataDir)
    const snap: Snapshot = await after.call('snapshot.get', {})
    after.close()
    const label = `round ${round + 1} (${scenario})`
    assert.deepEqual(snap.damagedReleases, [], `${label}: no record damaged`)
    for (const infoHash of published) {
      const r = snap.releases.find((x) => x.infoHash === infoHash)
      assert.equal(r?.state, 'seeding', `${label}: ${infoHash} seeds again (${r?.state ?? 'missing'}${r?.error ? `: ${r.error.message}` : ''})`)
    }
    const items = (await feedItems(feedUrl)).items
    const known = items.filter((i) => expectedItems.some((e) => e.guid === i.guid))
    assert.deepEqual(known, expectedItems, `${label}: the feed's items are unchanged`)
    assert.deepEqual(items.map((i) => i.guid).sort(), [...published].sort(), `${label}: the feed lists exactly the published releases`)
    expectedItems = items
    assert.deepEqual(await leftovers(dataDir), [], `${label}: nothing half-written is left behind`)
    JSON.parse(await readFile(path.join(dataDir, 'settings.json'), 'utf8').catch(() => '{}'))
  }
  t.diagnostic(`${ROUNDS} kills: ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ')}; ${published.size} releases survived every restart`)
})
