/**
 * The real Electron main process (dist/electron/shell/main.js) with the real engine and admin server,
 * under plain Node with a MOCK `electron` module (test/support/mock-electron.ts), because the
 * Electron binary cannot run here. What is real: the wiring order, the engine on loopback ports,
 * instance.json and the CLI driving the desktop app, IPC handlers, the tray model and its menu
 * actions, notifications, navigation/permission/protocol rules, close-to-tray and a clean quit.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fork, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { COMMAND_NAMES, type CommandResult } from '../../shared/contract.js'
import { APP_ENTRY_URL } from '../../electron/shell/app-origin.js'
import { commandChannel } from '../../electron/shell/ipc-transport.js'
import type { MockRequest } from '../support/mock-electron.js'
import { pseudoRandom } from '../support/fixtures.js'
import { freePorts } from '../support/ports.js'
import { runCli } from '../support/run-cli.js'
import { tempDir } from '../support/temp.js'

const MAIN = fileURLToPath(new URL('../../electron/shell/main.js', import.meta.url))
const REGISTER = fileURLToPath(new URL('../support/mock-electron-register.js', import.meta.url))

interface MockState {
  events: string[]
  paths: Record<string, string>
  schemes: { scheme: string; privileges: Record<string, boolean> }[]
  errors: string[]
  clipboard: string
  notifications: { title: string; body: string }[]
  sent: Record<string, number>
  windows: { visible: boolean; destroyed: boolean; url: string; webPreferences: Record<string, unknown> }[]
  tray: { image: string; tooltip: string; destroyed: boolean; menuBuilds: number; menu: { id?: string; label?: string; enabled?: boolean; type?: string }[] } | null
  handlers: string[]
}

class MainProcess {
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  output = ''
  readonly exited: Promise<number | null>

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()))
    child.on('message', (m: { seq: number; ok: boolean; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.seq)
      this.pending.delete(m.seq)
      if (m.ok) p?.resolve(m.result)
      else p?.reject(new Error(m.error))
    })
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)))
  }

  ask<T>(request: MockRequest): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      // Every exchange is bounded, so a wedged main process fails the test instead of hanging it.
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`no reply to ${request.op} within 10 s; output:\n${this.output}`))
      }, 10_000)
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer)
          resolve(v as T)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      this.child.send({ seq: id, request })
    })
  }

  state(): Promise<MockState> {
    return this.ask<MockState>({ op: 'state' })
  }

  async until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = await probe()
      if (value) return value
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output:\n${this.output}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

test('the main process wires engine, admin server, window, IPC, tray and notifications, and quits cleanly', { timeout: 90_000 }, async () => {
  const { dir, cleanup } = await tempDir()
  const dataDir = path.join(dir, 'data')
  const [httpPort, peerPort] = await freePorts(2)
  const child = fork(MAIN, ['--data-dir', dataDir, '--address', '127.0.0.1', '--http-port', String(httpPort), '--peer-port', String(peerPort)], {
    execArgv: ['--import', REGISTER],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, SWARMDROP_DATA_DIR: path.join(dir, 'not-this-one') },
  })
  const main = new MainProcess(child)
  try {
    const feedUrl = `http://127.0.0.1:${httpPort}/feed.xml`
    await main.until('the app to start', async () => main.output.includes(`feed ${feedUrl}`))

    let state = await main.state()
    // Order: the scheme is privileged before ready; the profile is per data dir before the lock.
    assert.ok(state.events.indexOf('registerSchemes:before-ready') < state.events.indexOf('ready'))
    assert.ok(state.events.indexOf('setPath:userData') < state.events.indexOf('requestSingleInstanceLock'))
    assert.equal(state.paths.userData, path.join(dataDir, 'chromium'))
    assert.deepEqual(state.schemes, [{ scheme: 'swarmdrop', privileges: { standard: true, secure: true, supportFetchAPI: true } }])

    // One secure window on the app origin with the compiled preload.
    assert.equal(state.windows.length, 1)
    const [win] = state.windows
    assert.ok(win)
    assert.equal(win.url, APP_ENTRY_URL)
    assert.equal(win.visible, true)
    const prefs = win.webPreferences
    assert.deepEqual(
      { contextIsolation: prefs.contextIsolation, sandbox: prefs.sandbox, nodeIntegration: prefs.nodeIntegration, webSecurity: prefs.webSecurity, webviewTag: prefs.webviewTag },
      { contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false },
    )
    assert.ok(existsSync(String(prefs.preload)) && String(prefs.preload).endsWith('preload.cjs'), `preload ${String(prefs.preload)}`)

    // Every contract command has its handler; the app page may call, another sender may not.
    assert.deepEqual([...state.handlers].sort(), COMMAND_NAMES.map(commandChannel).sort())
    const snap = await main.ask<CommandResult<'snapshot.get'>>({ op: 'invoke', channel: commandChannel('snapshot.get'), request: {} })
    assert.ok(snap.ok && snap.value.endpoints.feedUrl === feedUrl, JSON.stringify(snap).slice(0, 300))
    const refused = await main.ask<CommandResult<'snapshot.get'>>({ op: 'invoke', channel: commandChannel('snapshot.get'), request: {}, senderId: 99 })
    assert.ok(!refused.ok && refused.error.code === 'UNAUTHORIZED')

    // The tray starts idle, with the state's icon for this platform.
    assert.ok(state.tray)
    assert.ok(existsSync(state.tray.image), state.tray.image)
    assert.match(path.basename(state.tray.image), /^tray-idle/)
    assert.match(state.tray.tooltip, /^Swarmdrop: 0 releases seeding\n0 servers downloading\nUpload 0 B\/s$/)

    // The CLI finds the desktop app through instance.json and publishes into it.
    const instance = JSON.parse(await readFile(path.join(dataDir, 'instance.json'), 'utf8')) as { pid: number; adminPort: number; httpPort: number }
    assert.equal(instance.pid, child.pid)
    assert.equal(instance.httpPort, httpPort)
    const file = path.join(dir, 'site-patch-3.2.bin')
    await writeFile(file, pseudoRandom(2 * 1024 * 1024 + 3, 'electron-main'))
    const published = await runCli(['publish', file, '--data-dir', dataDir, '--json'])
    assert.equal(published.code, 0, published.stderr + published.stdout)

    // The release reaches the tray (from snapshots), a notification and the window (events).
    state = await main.until('the tray to show the release', async () => {
      const s = await main.state()
      return /^Swarmdrop: 1 release seeding/.test(s.tray?.tooltip ?? '') ? s : null
    })
    assert.match(path.basename(state.tray?.image ?? ''), /^tray-seeding/)
    assert.deepEqual(state.notifications, [{ title: 'Published site-patch-3.2.bin', body: '1 file, 2.00 MiB, now seeding. Servers pick it up on their next feed poll.' }])
    assert.ok((state.sent['swarmdrop:event:publish.done'] ?? 0) >= 1)
    assert.ok((state.sent['swarmdrop:event:snapshot'] ?? 0) >= 1)

    // Tray menu actions reach the engine and the clipboard.
    await main.ask({ op: 'trayMenuClick', id: 'copy-feed-url' })
    assert.equal((await main.state()).clipboard, feedUrl)
    await main.ask({ op: 'trayMenuClick', id: 'pause-all' })
    state = await main.until('pause all to show', async () => {
      const s = await main.state()
      return /0 releases seeding, 1 paused/.test(s.tray?.tooltip ?? '') ? s : null
    })
    assert.deepEqual(
      state.tray?.menu.filter((m) => m.id === 'pause-all' || m.id === 'resume-all').map((m) => [m.id, m.enabled]),
      [['pause-all', false], ['resume-all', true]],
    )
    await main.ask({ op: 'trayMenuClick', id: 'resume-all' })
    await main.until('resume all to show', async () => /^Swarmdrop: 1 release seeding/.test((await main.state()).tray?.tooltip ?? ''))

    // Hardening rules apply to the window's contents and session.
    assert.equal(await main.ask({ op: 'navigate', url: 'https://example.com/' }), true, 'navigation away is prevented')
    assert.equal(await main.ask({ op: 'navigate', url: 'swarmdrop://app/index.html' }), false)
    assert.deepEqual(await main.ask({ op: 'windowOpen', url: 'https://example.com/' }), { action: 'deny' })
    assert.deepEqual(await main.ask({ op: 'permission', permission: 'media', url: APP_ENTRY_URL }), { granted: false, checked: false })
    assert.deepEqual(await main.ask({ op: 'permission', permission: 'clipboard-sanitized-write', url: APP_ENTRY_URL }), { granted: true, checked: true })
    const page = await main.ask<{ status: number; csp: string; type: string; length: number }>({ op: 'protocol', url: APP_ENTRY_URL })
    const dashboardBuilt = existsSync(fileURLToPath(new URL('../../dashboard/index.html', import.meta.url)))
    assert.equal(page.status, dashboardBuilt ? 200 : 404)
    assert.match(page.csp, /^default-src 'self'; script-src 'self'/)
    const escape = await main.ask<{ status: number }>({ op: 'protocol', url: 'swarmdrop://app/assets/..%2F..%2F..%2F..%2Fpackage.json' })
    assert.equal(escape.status, 403)

    // Close hides to the tray and seeding goes on; a second launch brings the window back.
    await main.ask({ op: 'closeWindow' })
    state = await main.state()
    assert.deepEqual(state.windows.map((w) => [w.visible, w.destroyed]), [[false, false]])
    assert.equal((await fetch(feedUrl)).status, 200)
    await main.ask({ op: 'secondInstance' })
    assert.deepEqual((await main.state()).windows.map((w) => w.visible), [true])

    // Quit stops seeding: the process exits 0, the lock and instance.json are gone, the port is closed.
    const t0 = Date.now()
    await main.ask({ op: 'quit' })
    const code = await main.exited
    assert.equal(code, 0, main.output)
    assert.ok(Date.now() - t0 < 10_000, 'quit finished within the shutdown bound')
    assert.equal(existsSync(path.join(dataDir, 'lock')), false)
    assert.equal(existsSync(path.join(dataDir, 'instance.json')), false)
    await assert.rejects(fetch(feedUrl))
    assert.deepEqual(state.errors, [])
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await cleanup()
  }
})

test('a second instance for the same data dir exits at once and leaves the first alone', { timeout: 30_000 }, async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const child = fork(MAIN, ['--data-dir', path.join(dir, 'data')], {
      execArgv: ['--import', REGISTER],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, MOCK_ELECTRON_SECOND_INSTANCE: '1' },
    })
    const main = new MainProcess(child)
    const code = await main.exited
    assert.equal(code, 0)
    assert.equal(existsSync(path.join(dir, 'data', 'lock')), false, 'no engine was started')
    assert.doesNotMatch(main.output, /desktop app running/)
  } finally {
    await cleanup()
  }
})
