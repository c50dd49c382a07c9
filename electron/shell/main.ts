/**
 * The Electron main process: wiring only. One instance per data dir, then the core (the same
 * engine `swarmdrop serve` runs), the admin server (so `swarmdrop publish` can drive the desktop
 * app), the window, the IPC transport, the tray and notifications. Closing the window keeps
 * seeding from the tray; Quit stops seeding cleanly before the process exits.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { app, BrowserWindow, clipboard, dialog, session } from 'electron'
import { toErrorInfo } from '../../shared/errors.js'
import { handleFatalErrors } from '../engine/fatal.js'
import { parseInstanceFlags, startInstance, type Instance, type InstanceFlags } from '../engine/instance.js'
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

class DesktopShell {
  private window: BrowserWindow | null = null
  private readonly disposers: (() => void)[] = []
  private state: 'running' | 'stopping' | 'stopped' = 'running'

  constructor(private readonly instance: Instance) {}

  private get engine(): Instance['engine'] {
    return this.instance.engine
  }

  start(): void {
    const { engine } = this
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
    await this.instance.stop()
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

let args: InstanceFlags
try {
  // Electron and Chromium add switches of their own, so unknown flags are left alone.
  args = parseInstanceFlags(process.argv.slice(1), { strict: false })
} catch (err) {
  process.stderr.write(`swarmdrop: ${toErrorInfo(err).message}\n`)
  process.exit(2)
}
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
      let instance: Instance
      try {
        instance = await startInstance({ ...args, dashboardDir: DASHBOARD_DIR, log: (line) => process.stdout.write(`swarmdrop: ${line}\n`) })
      } catch (err) {
        fail('Swarmdrop could not start', err)
        return
      }
      // Electron shows its own dialog for an uncaught exception and keeps running half-broken.
      handleFatalErrors(process, { stop: () => instance.stop(), log: (line) => process.stderr.write(`swarmdrop: ${line}\n`), exit: (code) => app.exit(code) })
      if (!instance.hasDashboard) process.stderr.write(`swarmdrop: the dashboard is not built (${DASHBOARD_DIR}/index.html is missing); run "npm run build".\n`)
      shell = new DesktopShell(instance)
      try {
        shell.start()
      } catch (err) {
        await shell.stop().catch(() => {})
        fail('Swarmdrop could not start', err)
        return
      }
      process.stdout.write(`swarmdrop: desktop app running; feed ${instance.engine.endpoints().feedUrl}\n`)
    })
    .catch((err: unknown) => fail('Swarmdrop could not start', err))
}
