/**
 * The weekly schedule with a clock the test moves: in a marked hour the alternative limit holds
 * the web seed back (a download cannot be faster than the limit allows), and when the clock
 * leaves the hour the normal (unlimited) limit is back within a second.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { HOURS_PER_WEEK, hourOfWeek } from '../../electron/engine/upload-schedule.js'
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
