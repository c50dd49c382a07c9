/**
 * MOCK of the `electron` module, for running the real main process (dist/electron/shell/main.js) under
 * plain Node where the Electron binary cannot run. It implements only the calls the shell makes,
 * records what it was asked to do, and is driven by the parent test over the fork IPC channel
 * (see test/electron-main.test.ts). Loaded in place of 'electron' by mock-electron-hooks.ts.
 */
import { EventEmitter } from 'node:events'

type Handler = (...args: unknown[]) => unknown

const record = {
  events: [] as string[],
  paths: {} as Record<string, string>,
  schemes: [] as unknown[],
  errors: [] as string[],
  clipboard: '',
  notifications: [] as { title: string; body: string }[],
  sent: {} as Record<string, number>,
}

let ready = false
let nextWebContentsId = 1

class MockWebContents extends EventEmitter {
  readonly id = nextWebContentsId++
  url = ''
  destroyed = false
  windowOpenHandler: Handler | null = null
  send(channel: string): void {
    record.sent[channel] = (record.sent[channel] ?? 0) + 1
  }
  setWindowOpenHandler(handler: Handler): void {
    this.windowOpenHandler = handler
  }
  getURL(): string {
    return this.url
  }
  isDestroyed(): boolean {
    return this.destroyed
  }
}

const windows: MockBrowserWindow[] = []

class MockBrowserWindow extends EventEmitter {
  readonly webContents = new MockWebContents()
  visible = false
  destroyed = false
  constructor(readonly options: { webPreferences?: Record<string, unknown> }) {
    super()
    windows.push(this)
    app.emit('web-contents-created', {}, this.webContents)
  }
  static getAllWindows(): MockBrowserWindow[] {
    return windows.filter((w) => !w.destroyed)
  }
  loadURL(url: string): Promise<void> {
    this.webContents.url = url
    setImmediate(() => this.emit('ready-to-show'))
    return Promise.resolve()
  }
  removeMenu(): void {}
  show(): void {
    this.visible = true
  }
  hide(): void {
    this.visible = false
  }
  focus(): void {}
  restore(): void {}
  isMinimized(): boolean {
    return false
  }
  isVisible(): boolean {
    return this.visible
  }
  isDestroyed(): boolean {
    return this.destroyed
  }
  close(): void {
    let prevented = false
    this.emit('close', { preventDefault: () => (prevented = true) })
    if (prevented) return
    this.destroyed = true
    this.webContents.destroyed = true
    this.visible = false
    this.emit('closed')
  }
}
export { MockBrowserWindow as BrowserWindow }

class MockApp extends EventEmitter {
  readonly isPackaged = false
  setName(name: string): void {
    record.events.push(`setName:${name}`)
  }
  setPath(name: string, value: string): void {
    record.paths[name] = value
    record.events.push(`setPath:${name}`)
  }
  requestSingleInstanceLock(): boolean {
    record.events.push('requestSingleInstanceLock')
    return process.env.MOCK_ELECTRON_SECOND_INSTANCE !== '1'
  }
  whenReady(): Promise<void> {
    return new Promise((resolve) =>
      setImmediate(() => {
        ready = true
        record.events.push('ready')
        resolve()
      }),
    )
  }
  quit(): void {
    let prevented = false
    this.emit('before-quit', { preventDefault: () => (prevented = true) })
    if (prevented) return
    for (const w of MockBrowserWindow.getAllWindows()) w.close()
    record.events.push('quit')
    process.exitCode = 0
    // Like Electron, the process ends once quit goes through; let pending IPC replies flush first.
    setImmediate(() => process.disconnect?.())
    setTimeout(() => process.exit(0), 50)
  }
  exit(code: number): void {
    record.events.push(`exit:${code}`)
    process.exit(code)
  }
}
export const app = new MockApp()

const handlers = new Map<string, Handler>()
export const ipcMain = {
  handle: (channel: string, listener: Handler): void => void handlers.set(channel, listener),
  removeHandler: (channel: string): void => void handlers.delete(channel),
}

let protocolHandler: ((request: { url: string }) => Promise<Response>) | null = null
let permissionRequest: Handler | null = null
let permissionCheck: Handler | null = null
export const session = {
  defaultSession: {
    protocol: {
      handle: (scheme: string, handler: (request: { url: string }) => Promise<Response>): void => {
        record.events.push(`protocol.handle:${scheme}`)
        protocolHandler = handler
      },
    },
    setPermissionRequestHandler: (h: Handler): void => void (permissionRequest = h),
    setPermissionCheckHandler: (h: Handler): void => void (permissionCheck = h),
  },
}

export const protocol = {
  registerSchemesAsPrivileged: (schemes: unknown[]): void => {
    record.events.push(ready ? 'registerSchemes:after-ready' : 'registerSchemes:before-ready')
    record.schemes.push(...schemes)
  },
}

interface MenuItemOptions {
  id?: string
  label?: string
  enabled?: boolean
  type?: string
  click?: () => void
}
export const Menu = { buildFromTemplate: (template: MenuItemOptions[]) => ({ items: template }) }
export const nativeImage = { createFromPath: (p: string) => ({ path: p, setTemplateImage: () => {} }) }

const trays: MockTray[] = []
class MockTray extends EventEmitter {
  image = ''
  tooltip = ''
  menu: MenuItemOptions[] = []
  menuBuilds = 0
  destroyed = false
  constructor(image: { path: string }) {
    super()
    this.image = image.path
    trays.push(this)
  }
  setImage(image: { path: string }): void {
    this.image = image.path
  }
  setToolTip(text: string): void {
    this.tooltip = text
  }
  setContextMenu(menu: { items: MenuItemOptions[] }): void {
    this.menu = menu.items
    this.menuBuilds++
  }
  destroy(): void {
    this.destroyed = true
  }
}
export { MockTray as Tray }

class MockNotification extends EventEmitter {
  constructor(private readonly options: { title: string; body: string }) {
    super()
  }
  static isSupported(): boolean {
    return true
  }
  show(): void {
    record.notifications.push({ title: this.options.title, body: this.options.body })
  }
}
export { MockNotification as Notification }

export const clipboard = { writeText: (text: string): void => void (record.clipboard = text) }
export const dialog = {
  showErrorBox: (title: string, content: string): void => {
    record.errors.push(`${title}: ${content}`)
  },
}

export default { app, BrowserWindow: MockBrowserWindow, ipcMain, session, protocol, Menu, nativeImage, Tray: MockTray, Notification: MockNotification, clipboard, dialog }

/** What the parent test can ask; each arrives as { seq, request } and gets one reply with the same seq. */
export type MockRequest =
  | { op: 'state' }
  | { op: 'invoke'; channel: string; request: unknown; senderId?: number; frameUrl?: string }
  | { op: 'trayMenuClick'; id: string }
  | { op: 'closeWindow' }
  | { op: 'secondInstance' }
  | { op: 'navigate'; url: string }
  | { op: 'windowOpen'; url: string }
  | { op: 'permission'; permission: string; url: string }
  | { op: 'protocol'; url: string }
  | { op: 'quit' }

function state(): unknown {
  const tray = trays.at(-1)
  return {
    ...record,
    windows: windows.map((w) => ({ visible: w.visible, destroyed: w.destroyed, url: w.webContents.url, webPreferences: w.options.webPreferences })),
    tray: tray && { image: tray.image, tooltip: tray.tooltip, destroyed: tray.destroyed, menuBuilds: tray.menuBuilds, menu: tray.menu.map((m) => ({ id: m.id, label: m.label, enabled: m.enabled, type: m.type })) },
    handlers: [...handlers.keys()],
  }
}

async function serve(req: MockRequest): Promise<unknown> {
  const win = windows[0]
  switch (req.op) {
    case 'state':
      return state()
    case 'invoke': {
      const handler = handlers.get(req.channel)
      if (!handler) throw new Error(`No handler registered for '${req.channel}'`)
      const event = { sender: { id: req.senderId ?? win?.webContents.id ?? -1 }, senderFrame: { url: req.frameUrl ?? win?.webContents.url ?? '', parent: null } }
      return structuredClone(await handler(event, structuredClone(req.request)))
    }
    case 'trayMenuClick': {
      const item = trays.at(-1)?.menu.find((m) => m.id === req.id)
      if (!item?.click) throw new Error(`no tray menu item ${req.id}`)
      item.click()
      return true
    }
    case 'closeWindow':
      win?.close()
      return true
    case 'secondInstance':
      app.emit('second-instance', {}, [], '')
      return true
    case 'navigate': {
      let prevented = false
      win?.webContents.emit('will-navigate', { preventDefault: () => (prevented = true) }, req.url)
      return prevented
    }
    case 'windowOpen':
      return win?.webContents.windowOpenHandler?.({ url: req.url })
    case 'permission': {
      const granted = await new Promise<boolean>((resolve) => permissionRequest?.({ getURL: () => req.url }, req.permission, resolve, {}))
      const checked = permissionCheck?.({ getURL: () => req.url }, req.permission, '', {})
      return { granted, checked }
    }
    case 'protocol': {
      if (!protocolHandler) throw new Error('no protocol handler')
      const res = await protocolHandler({ url: req.url })
      return { status: res.status, csp: res.headers.get('content-security-policy'), type: res.headers.get('content-type'), length: (await res.arrayBuffer()).byteLength }
    }
    case 'quit':
      app.quit()
      return true
  }
}

process.on('message', (message: { seq: number; request: MockRequest }) => {
  serve(message.request).then(
    (result) => process.send?.({ seq: message.seq, ok: true, result }),
    (err: unknown) => process.send?.({ seq: message.seq, ok: false, error: err instanceof Error ? err.message : String(err) }),
  )
})
