/**
 * Retention with a real client: the rule retires all but the newest releases of a channel as
 * soon as a new one is published; a retired release is gone from the feed and its .torrent URL
 * (aria2c cannot fetch it), while its files stay where they were.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { access, mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startAria2 } from '../support/aria2.js'
import { publish, startTestEngine } from '../support/engine.js'
import { feedItems } from '../support/feed-items.js'
import { pseudoRandom } from '../support/fixtures.js'
import { freePorts } from '../support/ports.js'
import { tempDir } from '../support/temp.js'

test('keep the last 2: publishing a third retires the oldest; aria2c can no longer fetch it; its files stay', { timeout: 90_000 }, async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const engine = await startTestEngine(path.join(dir, 'data'), { retention: [{ channel: 'default', keepLast: 2, olderThanDays: null }] })
  t.after(() => engine.close())
  await mkdir(path.join(dir, 'pub'))
  const files = [1, 2, 3].map((n) => path.join(dir, 'pub', `app-2.4.${n}.tar`))
  const releases = []
  for (const [i, f] of files.entries()) {
    await writeFile(f, pseudoRandom(1024 * 1024 + i, f))
    releases.push(await publish(engine, [f]))
    await new Promise((resolve) => setTimeout(resolve, 1100)) // distinct publication seconds
  }
  const [oldest, , newest] = releases
  const states = Object.fromEntries((await engine.handle('snapshot.get', {})).releases.map((r) => [r.name, r.state]))
  assert.deepEqual(states, { 'app-2.4.1.tar': 'retired', 'app-2.4.2.tar': 'seeding', 'app-2.4.3.tar': 'seeding' })
  assert.deepEqual((await feedItems(engine.endpoints().feedUrl)).items.map((i) => i.title), ['app-2.4.3.tar', 'app-2.4.2.tar'])
  await access(files[0] as string)

  const [port] = await freePorts(1)
  const aria = startAria2({ torrent: oldest?.torrentUrl ?? '', dir: path.join(dir, 'dl'), listenPort: port as number })
  const code = await aria.exited
  assert.notEqual(code, 0, 'the retired release cannot be fetched')
  assert.match(aria.output(), /404|Not Found/i)

  // The same rule on demand, as `swarmdrop retire --keep-last 1` sends it.
  const { retired } = await engine.handle('releases.retireOld', { keepLast: 1 })
  assert.deepEqual(retired.map((r) => r.name), ['app-2.4.2.tar'])
  assert.deepEqual((await feedItems(engine.endpoints().feedUrl)).items.map((i) => i.guid), [newest?.infoHash])
})
