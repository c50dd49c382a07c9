/**
 * The desktop app's renderer path, as close to Electron as this machine allows: the built
 * dashboard in Debian Chromium under the shell's CSP header, with the compiled sandboxed preload
 * running in the page and electron/shell/ipc-transport.ts in front of the real engine. Only Electron's own
 * plumbing is a mock (contextBridge, the IPC pipe and the swarmdrop://app/ scheme, here served as
 * http://127.0.0.1 and mapped back to the app URL), because the Electron binary cannot run here.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { CommandResult, Events, SwarmdropApi } from '../../shared/contract.js'
import { APP_HOST, APP_SCHEME, CONTENT_SECURITY_POLICY, resolveAppFile } from '../../electron/shell/app-origin.js'
import { publishDoneNotification } from '../../electron/shell/notification-rules.js'
import { trayModel } from '../../electron/shell/tray-state.js'
import { registerIpcTransport, type IpcMainSlice, type SenderInfo } from '../../electron/shell/ipc-transport.js'
import { startEngine } from '../../electron/engine/engine.js'
import { CHROMIUM_ARGS } from '../support/browser.js'
import { pseudoRandom } from '../support/fixtures.js'
import { freePorts } from '../support/ports.js'
import { tempDir } from '../support/temp.js'
import { noResolver } from '../../electron/engine/fleet-tracker.js'
import { toolPath } from '../support/tools.js'

const DASHBOARD = fileURLToPath(new URL('../../dashboard/', import.meta.url))
const PRELOAD = new URL('../../electron/shell/preload.cjs', import.meta.url)

/** Mock of the swarmdrop:// protocol handler: same file resolution and CSP header, over HTTP. */
async function serveDashboard(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname
    const file = resolveAppFile(DASHBOARD, `${APP_SCHEME}://${APP_HOST}${pathname}`)
    const headers: Record<string, string> = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY }
    if (!file) return void res.writeHead(403, headers).end()
    readFile(file).then(
      (body) => {
        const ext = path.extname(file)
        headers['Content-Type'] = ext === '.js' ? 'text/javascript' : ext === '.css' ? 'text/css' : ext === '.html' ? 'text/html' : 'application/octet-stream'
        res.writeHead(200, headers).end(body)
      },
      () => res.writeHead(404, headers).end(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  return { server, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/index.html` }
}

/**
 * The page-side mock of Electron: the compiled preload wrapped exactly as the sandbox wraps it,
 * given a `require('electron')` whose contextBridge defines a frozen window property and whose
 * ipcRenderer goes through a Playwright binding. Injected as a script (not eval), so the page's
 * CSP stays fully in force for the page's own code.
 */
function preloadInitScript(preloadSource: string, droppedDir: string): string {
  return `(() => {
  window.__cspViolations = []
  document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI))
  const listeners = new Map()
  window.__swarmdropDeliver = (channel, payload) => { for (const l of listeners.get(channel) ?? []) l({ sender: 'mock' }, payload) }
  const electron = {
    contextBridge: { exposeInMainWorld: (key, api) => Object.defineProperty(window, key, { value: Object.freeze(api), enumerable: true }) },
    ipcRenderer: {
      invoke: (channel, request) => window.__swarmdropInvoke(channel, request),
      on: (channel, l) => { if (!listeners.has(channel)) listeners.set(channel, new Set()); listeners.get(channel).add(l) },
      removeListener: (channel, l) => listeners.get(channel)?.delete(l),
    },
    webUtils: { getPathForFile: (file) => ${JSON.stringify(droppedDir)} + '/' + file.name },
  }
  const sandboxRequire = (id) => { if (id === 'electron') return electron; throw new Error('sandboxed preload cannot require ' + id) }
  const exports = {}
  ;(function (require, process, exports, module) {
${preloadSource}
  })(sandboxRequire, {}, exports, { exports })
})()`
}

test('the dashboard runs on the preload API under the shell CSP and publishes through IPC to the real engine', { timeout: 90_000 }, async (t) => {
  // A missing browser fails here, before anything is started that would then need stopping.
  const executablePath = toolPath('chromium')
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const [httpPort, peerPort] = await freePorts(2)
  const engine = await startEngine({ dataDir: path.join(dir, 'data'), overrides: { address: '127.0.0.1', httpPort, peerPort }, bindHost: '127.0.0.1', resolver: noResolver })
  let server: Server | null = null
  let browser: Browser | null = null
  let page: Page | null = null
  const handlers = new Map<string, (event: SenderInfo, ...args: unknown[]) => unknown>()
  const ipcMain: IpcMainSlice = { handle: (channel, listener) => void handlers.set(channel, listener), removeHandler: (channel) => void handlers.delete(channel) }
  const invoked: string[] = []
  const dispose = registerIpcTransport({
    ipcMain,
    core: engine,
    mainWebContentsId: () => 1,
    target: () =>
      page && {
        send: (channel, payload) => void page?.evaluate(([c, p]) => (globalThis as unknown as { __swarmdropDeliver(c: string, p: unknown): void }).__swarmdropDeliver(c, p), [channel, payload] as const).catch(() => {}),
        isVisible: () => true,
      },
  })
  try {
    const dashboard = await serveDashboard()
    server = dashboard.server
    const url = dashboard.url
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 })
    const context = await browser.newContext()
    // Mock of Electron's IPC pipe: the frame URL is mapped back to the app origin, as Electron would report it.
    await context.exposeBinding('__swarmdropInvoke', async (source, channel: string, request: unknown) => {
      invoked.push(channel)
      const handler = handlers.get(channel)
      if (!handler) throw new Error(`No handler registered for '${channel}'`)
      const frameUrl = `${APP_SCHEME}://${APP_HOST}${new URL(source.frame.url()).pathname}`
      return handler({ sender: { id: 1 }, senderFrame: { url: frameUrl, parent: null } }, request)
    })
    const droppedDir = path.join(dir, 'dropped')
    await context.addInitScript({ content: preloadInitScript(await readFile(PRELOAD, 'utf8'), droppedDir) })
    page = await context.newPage()
    const consoleErrors: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text())
    })
    page.on('pageerror', (e) => consoleErrors.push(e.message))
    await page.goto(url)

    // The renderer picked the preload transport, fetched a snapshot over IPC and shows the feed URL.
    const feedUrl = engine.endpoints().feedUrl
    await page.getByText(feedUrl).first().waitFor({ timeout: 15_000 })
    assert.ok(invoked.includes('swarmdrop:command:snapshot.get'), `IPC calls: ${invoked.join(', ')}`)

    // Publish from the page through window.swarmdrop, as the wizard does after a drop.
    await mkdir(droppedDir, { recursive: true })
    const file = path.join(droppedDir, 'hotfix-2.4.1.bin')
    await writeFile(file, pseudoRandom(3 * 1024 * 1024 + 5, 'electron-renderer'))
    const done = await page.evaluate(async () => {
      const api = (globalThis as unknown as { swarmdrop: SwarmdropApi & { getPathForFile(f: unknown): string } }).swarmdrop
      const path = api.getPathForFile(new File(['x'], 'hotfix-2.4.1.bin'))
      const progress: number[] = []
      const finished = new Promise<Events['publish.done']>((resolve) => {
        const off = api.on('publish.done', (payload) => {
          off()
          resolve(payload)
        })
      })
      api.on('publish.progress', (p) => progress.push(p.hashedBytes))
      const started: CommandResult<'publish.start'> = await api.call('publish.start', { paths: [path] })
      if (!started.ok) return { error: started.error.message }
      const payload = await finished
      return { jobId: started.value.jobId, doneJob: payload.jobId, name: payload.release.name, infoHash: payload.release.infoHash, progressEvents: progress.length }
    })
    assert.ok(!('error' in done), JSON.stringify(done))
    assert.equal(done.doneJob, done.jobId)
    assert.equal(done.name, 'hotfix-2.4.1.bin')
    assert.match(done.infoHash ?? '', /^[0-9a-f]{40}$/)

    // The release shows up in the UI from the pushed snapshots, and errors come back as values.
    const releasesTab = page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: /Releases/ })
    await releasesTab.filter({ hasText: '1' }).waitFor({ timeout: 15_000 })
    await releasesTab.click()
    await page.getByRole('button', { name: 'hotfix-2.4.1.bin' }).waitFor({ timeout: 15_000 })
    // The tray and the notification read the same real snapshot and event.
    const tray = trayModel(engine.snapshot())
    assert.equal(tray.counts.seeding, 1)
    assert.equal(tray.icon, 'seeding')
    assert.match(tray.tooltip, /^Swarmdrop: 1 release seeding\n0 servers downloading\nUpload 0 B\/s$/)
    assert.deepEqual(tray.menu.find((m) => m.type === 'item' && m.id === 'copy-feed-url'), { type: 'item', id: 'copy-feed-url', label: 'Copy feed URL', enabled: true, action: { kind: 'copyFeedUrl', url: feedUrl } })
    const release = engine.snapshot().releases[0]
    assert.ok(release)
    assert.deepEqual(publishDoneNotification({ jobId: done.jobId ?? '', release }), {
      title: 'Published hotfix-2.4.1.bin',
      body: '1 file, 3.00 MiB, now seeding. Servers pick it up on their next feed poll.',
      urgent: false,
    })

    const missing = await page.evaluate(() => (globalThis as unknown as { swarmdrop: SwarmdropApi }).swarmdrop.call('publish.preview', { paths: ['/nonexistent/update.tar'] }))
    assert.equal(missing.ok, false)
    assert.ok(!missing.ok && missing.error.code === 'PATH_NOT_FOUND', JSON.stringify(missing))

    const violations = await page.evaluate(() => (globalThis as unknown as { __cspViolations: string[] }).__cspViolations)
    assert.deepEqual(violations, [], 'the dashboard needs nothing the CSP forbids')
    assert.deepEqual(consoleErrors.filter((e) => /Content Security Policy|Refused to/.test(e)), [])
    t.diagnostic(`IPC commands seen: ${[...new Set(invoked)].map((c) => c.replace('swarmdrop:command:', '')).join(', ')}`)
  } finally {
    dispose()
    await browser?.close().catch(() => {})
    if (server) await new Promise<void>((resolve) => server?.close(() => resolve()))
    await engine.close()
  }
})
