import { afterEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { button, byLabel, click, fakeBackend, mount, text, typeInto, type Mounted } from './mount.js'
import { App } from '../../renderer/App.js'
import { FakeSwarmdropApi, FEED_URL } from '../support/fake-api.js'

let view: Mounted | null = null
afterEach(async () => {
  await view?.unmount()
  view = null
})

const code = (root: Element): string[] => [...root.querySelectorAll('pre code')].map((c) => c.textContent ?? '')

describe('subscribe your servers', () => {
  test('a ready setup per client for the feed in use, following the save folder typed', async () => {
    view = await mount(<App initialView="subscribe" />, fakeBackend(new FakeSwarmdropApi()))
    assert.match(text(view.container), new RegExp(`follows the feed ${FEED_URL.replace(/[.]/g, '\\.')}`))
    // qBittorrent first: WebUI API calls that add this feed and an auto-download rule.
    const qbt = code(view.container)
    assert.ok(qbt[0]?.includes(`FEED='${FEED_URL}'`) && qbt[0].includes('/api/v2/rss/setRule'), qbt[0])
    assert.match(qbt[1] ?? '', /AutoDownloader\\EnableProcessing=true/)

    await click(button(view.container, 'aria2'))
    const [cron] = code(view.container)
    assert.match(cron ?? '', /^\*\/2 \* \* \* \* mkdir -p .* flock -n /)
    assert.ok(cron?.includes(FEED_URL))
    assert.ok(!cron?.includes('%'), 'cron would turn a % into a newline')

    await typeInto(byLabel(view.container, 'Where the servers keep releases'), '/opt/releases')
    assert.ok(code(view.container)[0]?.includes('/opt/releases'), 'the save folder is in the cron line')
    for (const name of ['Transmission', 'Deluge', 'µTorrent', 'rTorrent']) {
      await click(button(view.container, name))
      assert.ok(code(view.container).some((c) => c.includes(FEED_URL) || c.includes('/opt/releases')), name)
    }
  })
})
