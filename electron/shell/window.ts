/**
 * The main window and the rules every web page in the app lives under: sandboxed, isolated, no
 * Node, no navigation or pop-ups away from the app's own origin, no webviews, no permissions
 * beyond the clipboard.
 */
import { app, BrowserWindow, type Session, type WebContents } from 'electron'
import { APP_ENTRY_URL, isAppUrl, isPermissionAllowed } from './app-origin.js'

export interface MainWindowOptions {
  preloadPath: string
  iconPath: string
  /** Whether closing the window should hide it to the tray (true until the user quits). */
  hideOnClose: () => boolean
}

export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 720,
    minHeight: 480,
    title: 'Swarmdrop',
    icon: options.iconPath,
    show: false,
    webPreferences: {
      preload: options.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // DevTools while developing; an installed build gives a compromised page no console to hide in.
      devTools: !app.isPackaged,
    },
  })
  win.removeMenu()
  win.once('ready-to-show', () => win.show())
  // Closing is not quitting: the release keeps seeding and the tray stays.
  win.on('close', (event) => {
    if (options.hideOnClose()) {
      event.preventDefault()
      win.hide()
    }
  })
  void win.loadURL(APP_ENTRY_URL)
  return win
}

export function showWindow(win: BrowserWindow): void {
  if (win.isMinimized()) win.restore()
  win.show()
  win.focus()
}

/** Applies to every webContents the app ever creates, so a future window cannot forget them. */
export function hardenWebContents(): void {
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault()
    })
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault()
    })
    contents.on('will-attach-webview', (event) => event.preventDefault())
    // No pop-ups, and no shell.openExternal either: a compromised page must not launch URLs.
    contents.setWindowOpenHandler(() => ({ action: 'deny' }))
  })
}

export function restrictPermissions(session: Session): void {
  session.setPermissionRequestHandler((contents, permission, callback) => callback(isPermissionAllowed(permission, contents.getURL())))
  session.setPermissionCheckHandler((contents, permission) => isPermissionAllowed(permission, contents?.getURL() ?? ''))
}
