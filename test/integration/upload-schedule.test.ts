/**
 * The weekly schedule with a clock the test moves: in a marked hour the alternative limit holds
 * the web seed back (a download cannot be faster than the limit allows), and when the clock
 * leaves the hour the normal (unlimited) limit is back within a second. And the limit is one total:
 * an aria2c fetching over BitTorrent and a reader of the web seed share it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { HOURS_PER_WEEK, hourOfWeek } from '../../electron/engine/upload-schedule.js'
import { aria2Download } from '../support/aria2.js'
import { pseudoRandom } from '../support/fixtures.js'
import { rawRequest } from '../support/http-request.js'
import { publish, startTestEngine, waitFor } from '../support/engine.js'
import { tempDir } from '../support/temp.js'

test('the schedule limits the web seed in its hours and lets go outside them', { timeout: 60_000 }, async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  let now = new Date(2026, 10, 30, 10, 30).getTime() // Monday 10:30, local time
  const hours = Array.from({ length: HOURS_PER_WEEK }, (_, h) => h === hourOfWeek(new Date(now)))
  const limit = 256 * 1024
  const engine = await startTestEngine(path.join(dir, 'data'), { uploadLimit: 0, uploadSchedule: { altLimit: limit, hours } }, { now: () => now })
  t.after(() => engine.close())
  const file = path.join(dir, 'image.bin')
  const content = pseudoRandom(768 * 1024, 'schedule')
  await writeFile(file, content)
  const release = await publish(engine, [file], { webSeed: true })
  const url = `${new URL(release.webSeedUrl ?? '').pathname}image.bin`

  assert.deepEqual(engine.snapshot().uploadLimitNow, { limit, source: 'schedule' })
  const started = Date.now()
  assert.deepEqual((await rawRequest(engine.httpPort, url)).body, content)
  const limited = (Date.now() - started) / 1000
  // 768 KiB at 256 KiB/s with at most a second of burst cannot take less than 2 s; a margin for
  // clock granularity, and nothing about how slow it may be.
  assert.ok(limited >= 1.5, `768 KiB took ${limited.toFixed(2)} s under the scheduled 256 KiB/s`)

  now += 3600_000 // Monday 11:30: not a marked hour
  await waitFor(() => engine.snapshot().uploadLimitNow.source === 'normal', 3000, 'the normal limit to be back')
  assert.deepEqual(engine.snapshot().uploadLimitNow, { limit: 0, source: 'normal' })
  const again = Date.now()
  assert.deepEqual((await rawRequest(engine.httpPort, url)).body, content)
  t.diagnostic(`768 KiB: ${limited.toFixed(2)} s in the scheduled hour, ${((Date.now() - again) / 1000).toFixed(2)} s outside it`)
})

test('one limit covers BitTorrent and the web seed together', { timeout: 120_000 }, async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const now = new Date(2026, 10, 30, 10, 30).getTime() // Monday 10:30, local time
  const hours = Array.from({ length: HOURS_PER_WEEK }, (_, h) => h === hourOfWeek(new Date(now)))
  const limit = 512 * 1024
  const engine = await startTestEngine(path.join(dir, 'data'), { uploadLimit: 0, uploadSchedule: { altLimit: limit, hours } }, { now: () => now })
  t.after(() => engine.close())
  const size = 2 * 1024 * 1024
  const overHttp = path.join(dir, 'http.bin')
  const overBitTorrent = path.join(dir, 'bt.bin')
  const httpContent = pseudoRandom(size, 'combined-http')
  const btContent = pseudoRandom(size, 'combined-bt')
  await writeFile(overHttp, httpContent)
  await writeFile(overBitTorrent, btContent)
  const webRelease = await publish(engine, [overHttp], { webSeed: true })
  const btRelease = await publish(engine, [overBitTorrent], { webSeed: false })
  const url = `${new URL(webRelease.webSeedUrl ?? '').pathname}http.bin`
  const out = path.join(dir, 'aria2')

  // Each side alone would take size/limit = 4 s; sharing one limit, both together need about 8 s.
  // Separate limits would finish both in about 4 s. 1.5 s of burst (the web seed's bucket and
  // webtorrent's throttle each allow about a second) is the margin.
  const started = Date.now()
  const [web] = await Promise.all([
    rawRequest(engine.httpPort, url).then((r) => ({ body: r.body, seconds: (Date.now() - started) / 1000 })),
    aria2Download(btRelease.torrentUrl, out, 100_000),
  ])
  const both = (Date.now() - started) / 1000
  assert.deepEqual(web.body, httpContent)
  assert.deepEqual(await readFile(path.join(out, 'bt.bin')), btContent)
  const rate = (2 * size) / both
  t.diagnostic(`4 MiB (2 over HTTP, 2 over BitTorrent) under a 512 KiB/s limit: ${both.toFixed(2)} s, ${(rate / 1024).toFixed(0)} KiB/s in all; HTTP done at ${web.seconds.toFixed(2)} s`)
  assert.ok(both >= (2 * size) / limit - 1.5, `both sides finished in ${both.toFixed(2)} s: ${(rate / 1024).toFixed(0)} KiB/s in all, over the 512 KiB/s limit`)
})
