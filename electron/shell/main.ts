/**
 * The Electron main process: wiring only. One instance per data dir, then the core (the same
 * engine `swarmdrop serve` runs), the admin server (so `swarmdrop publish` can drive the desktop
 * app), the window, the IPC transport, the tray and notifications. Closing the window keeps
 * seeding from the tray; Quit stops seeding cleanly before the process exits.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { app, BrowserWindow, clipboard, dialog, session } from 'electron'
import type { Settings } from '../../shared/contract.js'
import { toErrorInfo } from '../../shared/errors.js'
import { AdminServer } from '../engine/admin-server.js'
import { adminToken, removeInstance, resolveDataDir, writeInstance } from '../engine/data-dir.js'
import { startEngine, type Engine } from '../engine/engine.js'
import { registerAppScheme, serveAppScheme } from './app-protocol.js'
import { registerElectronIpc } from './ipc-main.js'
import { startNotifications } from './notifications.js'
import { AppTray } from './tray.js'
import type { TrayAction } from './tray-state.js'
import { createMainWindow, hardenWebContents, restrictPermissions, showWindow } from './window.js'

const HERE = path.dirname(fileURLToPath(import.meta.url)) // dist/electron/shell
const ROOT = path.resolve(HERE, '..', '..', '..')
const DASHBOARD_DIR = path.join(ROOT, 'dist', 'dashboard')
const ASSETS_DIR = path.join(ROOT, 'assets')
const APP_ICON = path.join(ASSETS_DIR, 'icon.png')
const PRELOAD = path.join(HERE, 'preload.cjs')
/** Quit must not hang on a stuck peer socket: after this, the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 10_000

interface ShellArgs {
  dataDir: string
  overrides: Partial<Settings>
}

/** The same flags as `swarmdrop serve`, so `npm start -- --data-dir DIR` means the same in both. */
function parseShellArgs(argv: string[]): ShellArgs {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    options: { 'data-dir': { type: 'string' }, address: { type: 'string' }, 'http-port': { type: 'string' }, 'peer-port': { type: 'string' } },
  })
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
  const overrides: Partial<Settings> = {}
  const address = str(values.address)
  if (address) overrides.address = address
  const httpPort = str(values['http-port'])
  if (httpPort) overrides.httpPort = Number(httpPort)
  const peerPort = str(values['peer-port'])
  if (peerPort) overrides.peerPort = Number(peerPort)
  return { dataDir: resolveDataDir(str(values['data-dir'])), overrides }
}

class DesktopShell {
  private window: BrowserWindow | null = null
  private admin: AdminServer | null = null
  private readonly disposers: (() => void)[] = []
  private state: 'running' | 'stopping' | 'stopped' = 'running'

  constructor(
    private readonly engine: Engine,
    private readonly dataDir: string,
  ) {}

  async start(): Promise<void> {
    const { engine } = this
    this.admin = new AdminServer({ core: engine, token: await adminToken(this.dataDir), port: 0, host: '127.0.0.1', staticDir: DASHBOARD_DIR, uploadDir: path.join(this.dataDir, 'uploads') })
    await this.admin.listen()
    engine.setDashboardUrl(this.admin.dashboardUrl)
    await writeInstance(this.dataDir, { pid: process.pid, adminPort: this.admin.port, httpPort: engine.httpPort, startedAt: new Date().toISOString() })

    this.openWindow()
    this.disposers.push(
      registerElectronIpc({
        core: engine,
        mainWebContentsId: () => (this.window && !this.window.isDestroyed() ? this.window.webContents.id : null),
        target: () => {
          const win = this.window
          if (!win || win.isDestroyed()) return null
          return { send: (channel, payload) => win.webContents.send(channel, payload), isVisible: () => win.isVisible() && !win.isMinimized() }
        },
        onRejectedSender: (event, channel) => process.stderr.write(`swarmdrop: refused IPC ${channel} from webContents ${event.sender.id} (${event.senderFrame?.url ?? 'no frame'})\n`),
      }),
    )

    const tray = new AppTray(ASSETS_DIR, (action) => this.onTrayAction(action))
    tray.update(engine.snapshot())
    this.disposers.push(engine.on('snapshot', (snapshot) => tray.update(snapshot)))
    this.disposers.push(tray.destroy.bind(tray))
    this.disposers.push(startNotifications(engine, APP_ICON, () => this.openWindow()))
  }

  openWindow(): void {
    if (this.window && !this.window.isDestroyed()) {
      showWindow(this.window)
      return
    }
    this.window = createMainWindow({ preloadPath: PRELOAD, iconPath: APP_ICON, hideOnClose: () => this.state === 'running' })
    this.window.on('closed', () => (this.window = null))
  }

  /** Everything the shell started, in reverse, then the engine: seeding stops, the lock is released. */
  async stop(): Promise<void> {
    if (this.state !== 'running') return
    this.state = 'stopping'
    for (const dispose of this.disposers.reverse()) dispose()
    await this.admin?.close()
    await removeInstance(this.dataDir)
    await this.engine.close()
    this.state = 'stopped'
  }

  private onTrayAction(action: TrayAction): void {
    switch (action.kind) {
      case 'open':
        this.openWindow()
        return
      case 'copyFeedUrl':
        clipboard.writeText(action.url)
        return
      case 'command':
        this.engine.handle(action.command, {}).catch((err: unknown) => dialog.showErrorBox('Swarmdrop', toErrorInfo(err).message))
        return
      case 'quit':
        app.quit()
    }
  }
}

function fail(title: string, err: unknown): void {
  const info = toErrorInfo(err)
  process.stderr.write(`swarmdrop: error ${info.code}: ${info.message}\n`)
  dialog.showErrorBox(title, info.message)
  app.exit(1)
}

const args = parseShellArgs(process.argv.slice(1))
registerAppScheme()
hardenWebContents()
app.setName('Swarmdrop')
// Chromium's own profile (cache, local storage, the single-instance lock) lives beside our data
// rather than mixed into it, and one data dir means one app window.
app.setPath('userData', path.join(args.dataDir, 'chromium'))

let shell: DesktopShell | null = null
let quitState: 'running' | 'stopping' | 'done' = 'running'

if (!app.requestSingleInstanceLock()) {
  // The first instance gets 'second-instance' and shows its window; this one has nothing to do.
  app.quit()
} else {
  app.on('second-instance', () => shell?.openWindow())
  app.on('activate', () => shell?.openWindow())
  // The window hides to the tray; all windows gone means nothing to the app, only Quit quits.
  app.on('window-all-closed', () => {})
  app.on('before-quit', (event) => {
    if (quitState === 'done') return
    event.preventDefault()
    if (quitState === 'stopping') return
    quitState = 'stopping'
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_TIMEOUT_MS).unref())
    Promise.race([shell?.stop() ?? Promise.resolve(), timeout])
      .catch((err: unknown) => process.stderr.write(`swarmdrop: error while stopping: ${toErrorInfo(err).message}\n`))
      .finally(() => {
        quitState = 'done'
        app.quit()
      })
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit())

  app
    .whenReady()
    .then(async () => {
      restrictPermissions(session.defaultSession)
      serveAppScheme(session.defaultSession, DASHBOARD_DIR)
      if (!existsSync(path.join(DASHBOARD_DIR, 'index.html'))) {
        process.stderr.write(`swarmdrop: the dashboard is not built (${DASHBOARD_DIR}/index.html is missing); run "npm run build".\n`)
      }
      let engine: Engine
      try {
        engine = await startEngine({ dataDir: args.dataDir, overrides: args.overrides, log: (line) => process.stdout.write(`swarmdrop: ${line}\n`) })
      } catch (err) {
        fail('Swarmdrop could not start', err)
        return
      }
      shell = new DesktopShell(engine, args.dataDir)
      try {
        await shell.start()
      } catch (err) {
        await shell.stop().catch(() => {})
        fail('Swarmdrop could not start', err)
        return
      }
      process.stdout.write(`swarmdrop: desktop app running; feed ${engine.endpoints().feedUrl}\n`)
    })
    .catch((err: unknown) => fail('Swarmdrop could not start', err))
}
