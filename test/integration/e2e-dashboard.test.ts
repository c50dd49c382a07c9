/**
 * End to end through the web dashboard: the real `swarmdrop serve` (engine, tracker, LAN server,
 * admin server) and the built dashboard in Debian Chromium. Files are dropped through a real
 * DataTransfer, uploaded, hashed and seeded; then a real aria2c downloads the release and its
 * row in the peers table reaches 100 %. Screenshots go to test-artifacts/.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { startAria2, type Aria2Run } from '../support/aria2.js'
import { launchChromium, type Chromium } from '../support/browser.js'
import { freePort } from '../support/ports.js'
import { startServeProcess, type ServeProcess } from '../support/serve-process.js'
import { tempDir } from '../support/temp.js'

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url))
const PAYLOAD_SIZE = 48 * 1024 * 1024 + 123

/** Records every wizard step, hashing progress value and aria2 peer row the page ever shows. */
async function watchPage(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen = { steps: [] as string[], hashing: [] as number[], aria2Rows: [] as string[] }
    ;(globalThis as unknown as { __seen: typeof seen }).__seen = seen
    const doc = (globalThis as unknown as { document: { body: object; querySelector(s: string): { getAttribute(a: string): string | null } | null; querySelectorAll(s: string): Iterable<{ textContent: string | null }> } }).document
    const record = (): void => {
      const step = doc.querySelector('.wizard')?.getAttribute('data-step')
      if (step && seen.steps[seen.steps.length - 1] !== step) seen.steps.push(step)
      const bar = doc.querySelector('.step-hashing [role="progressbar"]')?.getAttribute('aria-valuenow')
      if (bar != null) seen.hashing.push(Number(bar))
      for (const row of doc.querySelectorAll('.peers-body [role="row"]')) {
        const t = (row.textContent ?? '').trim()
        if (/aria2/.test(t) && seen.aria2Rows[seen.aria2Rows.length - 1] !== t) seen.aria2Rows.push(t)
      }
    }
    const Observer = (globalThis as unknown as { MutationObserver: new (cb: () => void) => { observe(n: object, o: object): void } }).MutationObserver
    new Observer(record).observe(doc.body, { subtree: true, childList: true, attributes: true, characterData: true })
    record()
  })
}

async function seen(page: Page): Promise<{ steps: string[]; hashing: number[]; aria2Rows: string[] }> {
  return page.evaluate(() => (globalThis as unknown as { __seen: { steps: string[]; hashing: number[]; aria2Rows: string[] } }).__seen)
}

/** A DataTransfer holding real File objects, built in the page, dropped on the drop zone. */
async function dropFiles(page: Page, files: { name: string; size: number; seed: number }[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle((specs) => {
    const g = globalThis as unknown as {
      DataTransfer: new () => { items: { add(f: unknown): void } }
      File: new (parts: unknown[], name: string) => unknown
    }
    const dt = new g.DataTransfer()
    for (const spec of specs) {
      // xorshift: incompressible, deterministic bytes without shipping 48 MiB over CDP.
      const bytes = new Uint8Array(spec.size)
      const words = new Uint32Array(bytes.buffer, 0, Math.floor(spec.size / 4))
      let x = spec.seed | 1
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        words[i] = x >>> 0
      }
      dt.items.add(new g.File([bytes], spec.name))
    }
    return dt
  }, files)
  for (const type of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent('[data-testid="drop-zone"]', type, { dataTransfer })
  await dataTransfer.dispose()
}

test('dashboard: drop files, watch hashing and the release, then aria2 downloads it to 100 %', { timeout: 110_000 }, async () => {
  await mkdir(ARTIFACTS, { recursive: true })
  const tmp = await tempDir('swarmdrop-e2e-')
  let serve: ServeProcess | null = null
  let browser: Chromium | null = null
  let aria: Aria2Run | null = null
  try {
    serve = await startServeProcess(['--data-dir', path.join(tmp.dir, 'data'), '--address', '127.0.0.1', '--http-port', '0', '--peer-port', '0'])
    assert.ok(serve.dashboardUrl, 'serve printed its dashboard URL')
    browser = await launchChromium()
    const page = await browser.context.newPage()
    const pageErrors: string[] = []
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await page.goto(serve.dashboardUrl as string)
    await page.getByText('Drop an update here').waitFor({ timeout: 15_000 })
    await watchPage(page)

    // Two files: the batch is published as one folder, under the name we type in the options.
    await dropFiles(page, [
      { name: 'agent-2.4.1.bin', size: PAYLOAD_SIZE, seed: 2401 },
      { name: 'CHANGELOG.txt', size: 4000, seed: 7 },
    ])
    await page.locator('.wizard[data-step="review"]').waitFor({ timeout: 30_000 })
    assert.equal((await page.getByTestId('file-count').textContent())?.trim(), '2')
    assert.equal((await page.getByTestId('total-size').textContent())?.trim(), '48.0 MiB')
    assert.match((await page.locator('[role="tree"]').textContent()) ?? '', /agent-2\.4\.1\.bin.*CHANGELOG\.txt/)
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-1-review.png') })

    await page.getByRole('button', { name: 'Next: options' }).click()
    await page.getByLabel('Name').fill('agent-2.4.1-e2e')
    await page.getByLabel('Comment').fill('dropped through the dashboard')
    await page.locator('.wizard').getByRole('button', { name: 'Publish', exact: true }).click()
    await page.locator('.wizard[data-step="done"]').waitFor({ timeout: 30_000 })
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-2-done.png') })

    const { steps, hashing } = await seen(page)
    assert.deepEqual(steps, ['empty', 'staging', 'review', 'options', 'hashing', 'done'])
    assert.ok(hashing.length > 0, 'the hashing progress bar was shown')
    assert.ok(hashing.every((v, i) => i === 0 || v >= (hashing[i - 1] ?? 0)), `hashing progress only grows: ${hashing.join(',')}`)
    const done = page.locator('.step-done')
    const torrentUrl = await done.getByRole('textbox', { name: '.torrent URL' }).inputValue()
    const magnet = await done.getByRole('textbox', { name: 'Magnet link' }).inputValue()
    const feedUrl = await done.getByRole('textbox', { name: 'Feed URL', exact: true }).inputValue()
    assert.match(torrentUrl, /^http:\/\/127\.0\.0\.1:\d+\/torrents\/[0-9a-f]{40}\.torrent/)
    assert.match(magnet, /^magnet:\?xt=urn:btih:[0-9a-f]{40}/)
    assert.match(feedUrl, /^http:\/\/127\.0\.0\.1:\d+\/feed\.xml/)
    const infoHash = /([0-9a-f]{40})\.torrent/.exec(torrentUrl)?.[1] ?? ''
    const feed = await (await fetch(feedUrl)).text()
    assert.ok(feed.includes('agent-2.4.1-e2e'), 'the release is in the RSS feed')

    await page.getByRole('button', { name: /^Releases/ }).click()
    const row = page.locator(`tr[data-release="${infoHash}"]`)
    await row.getByText('Seeding').waitFor({ timeout: 15_000 })
    assert.match((await row.textContent()) ?? '', /agent-2\.4\.1-e2e.*48\.0 MiB · 2 files/)
    await row.getByRole('button', { name: 'agent-2.4.1-e2e' }).click()
    await page.locator('.swarm-detail').waitFor()

    // aria2 downloads from the .torrent URL, capped so the transfer spans several snapshots, and
    // stays in the swarm afterwards like a server would. It hangs up on us (a seeder) the moment
    // it is complete; the row stays, and turns 100 % on its "completed" announce to the tracker.
    aria = startAria2({ torrent: torrentUrl, dir: path.join(tmp.dir, 'aria2'), listenPort: await freePort(), seed: true, extra: ['--max-download-limit=12M'] })
    const download = path.join(tmp.dir, 'aria2', 'agent-2.4.1-e2e', 'agent-2.4.1.bin')
    await page.waitForFunction(() => (globalThis as unknown as { __seen: { aria2Rows: string[] } }).__seen.aria2Rows.length >= 2, null, { timeout: 30_000 })
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-3-downloading.png'), fullPage: true })
    await page
      .locator('.peers-body [role="row"]', { hasText: 'aria2' })
      .filter({ hasText: '100 %' })
      .waitFor({ timeout: 45_000 })
      .catch(async (err: unknown) => {
        await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-failed.png') })
        throw new Error(`${(err as Error).message}\nrows seen: ${JSON.stringify((await seen(page)).aria2Rows)}\naria2: ${aria?.output()}\nserve: ${serve?.output()}`)
      })
    await page.waitForTimeout(1200)
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-4-complete.png'), fullPage: true })

    const rows = (await seen(page)).aria2Rows
    assert.match(rows[0] ?? '', /aria2\s*1\.36\.\d+.*TCP/)
    assert.match(rows[rows.length - 1] ?? '', /aria2\s*1\.36\.\d+\s*100 %/)
    assert.ok(rows.length >= 3, `the row was updated while downloading: ${JSON.stringify(rows)}`)
    const got = await readFile(download)
    assert.equal(got.length, PAYLOAD_SIZE)
    assert.equal(pageErrors.length, 0, pageErrors.join('\n'))
  } finally {
    await aria?.stop()
    await browser?.close()
    await serve?.stop()
    await tmp.cleanup()
  }
})
