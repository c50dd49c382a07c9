/**
 * The Electron IPC transport without Electron: the compiled sandboxed preload
 * (dist/electron/shell/preload.cjs) run in the same wrapper Electron's sandbox gives it, talking to
 * electron/shell/ipc-transport.ts through an in-memory stand-in for Electron's IPC pipe. The stand-in is the
 * mock (the Electron binary cannot run on these machines); payloads cross it through
 * structuredClone, as they cross Electron's.
 */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { CoreApi, PreloadApi as ContractPreloadApi } from '../../shared/contract.js'
import { APP_ENTRY_URL } from '../../electron/shell/app-origin.js'
import { registerIpcTransport, type SenderInfo } from '../../electron/shell/ipc-transport.js'

const PRELOAD = new URL('../../electron/shell/preload.cjs', import.meta.url)

export type Listener = (event: SenderInfo, ...args: unknown[]) => unknown

/** Mock of Electron's IPC pipe between one renderer and the main process. */
export class MockElectronIpc {
  readonly handlers = new Map<string, Listener>()
  readonly renderer = new EventEmitter()
  /** Who the next invoke claims to come from, as Electron would fill in event.sender/senderFrame. */
  sender: SenderInfo = { sender: { id: 1 }, senderFrame: { url: APP_ENTRY_URL, parent: null } }
  visible = true
  invokes = 0

  readonly ipcMain = {
    handle: (channel: string, listener: Listener): void => {
      assert.ok(!this.handlers.has(channel), `second handler for ${channel}`)
      this.handlers.set(channel, listener)
    },
    removeHandler: (channel: string): void => {
      this.handlers.delete(channel)
    },
  }

  readonly ipcRenderer = {
    invoke: async (channel: string, ...args: unknown[]): Promise<unknown> => {
      this.invokes++
      const handler = this.handlers.get(channel)
      if (!handler) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`)
      return structuredClone(await handler(this.sender, ...structuredClone(args)))
    },
    on: (channel: string, listener: (...args: unknown[]) => void) => this.renderer.on(channel, listener),
    removeListener: (channel: string, listener: (...args: unknown[]) => void) => this.renderer.removeListener(channel, listener),
  }

  /** The main window's webContents as ipc-main.ts sees it. */
  readonly target = {
    send: (channel: string, payload: unknown): void => {
      this.renderer.emit(channel, { sender: 'ipc-renderer-event' }, structuredClone(payload))
    },
    isVisible: (): boolean => this.visible,
  }
}

/** Loads the compiled preload as Electron's sandbox does: a function of (require, process, exports, module). */
export async function loadPreload(ipc: MockElectronIpc): Promise<{ exposed: Map<string, unknown>; required: string[] }> {
  const source = await readFile(PRELOAD, 'utf8')
  const exposed = new Map<string, unknown>()
  const required: string[] = []
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    ipcRenderer: ipc.ipcRenderer,
    webUtils: { getPathForFile: (file: { name: string }) => path.join('/home/admin/Downloads', file.name) },
  }
  const sandboxRequire = (id: string): unknown => {
    required.push(id)
    if (id === 'electron') return electron
    throw new Error(`module not found: ${id} (a sandboxed preload can only require electron and a few built-ins)`)
  }
  const exportsObject = {}
  const run = new Function('require', 'process', 'exports', 'module', source) as (...args: unknown[]) => void
  run(sandboxRequire, {}, exportsObject, { exports: exportsObject })
  return { exposed, required }
}

/** The preload's API as a test sees it: dropped "files" are whatever the mock's webUtils accepts. */
export type PreloadApi = ContractPreloadApi<unknown>

/**
 * A SwarmdropApi over the Electron transport in front of `core`, as the renderer sees it in the
 * desktop app: for running a command suite over IPC like over the WebSocket.
 */
export async function connectElectronIpc(
  core: CoreApi,
  onRejectedSender?: (event: SenderInfo, channel: string) => void,
): Promise<{ api: PreloadApi; ipc: MockElectronIpc; dispose: () => void }> {
  const ipc = new MockElectronIpc()
  const dispose = registerIpcTransport({ ipcMain: ipc.ipcMain, core, mainWebContentsId: () => 1, target: () => ipc.target, onRejectedSender })
  const { exposed } = await loadPreload(ipc)
  return { api: exposed.get('swarmdrop') as PreloadApi, ipc, dispose }
}
