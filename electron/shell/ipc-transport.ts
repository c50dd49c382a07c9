/**
 * The Electron IPC transport: one `ipcMain.handle` per contract command and one channel per core
 * event, nothing else. Every call is checked against the window that is allowed to talk
 * (GitHub Desktop's safeListener idea). Electron's ipcMain is passed in (typed structurally, by
 * ipc-main.ts), so this module runs under plain Node in the contract test.
 */
import {
  COMMAND_NAMES,
  EVENT_NAMES,
  type CommandName,
  type CommandResult,
  type CoreApi,
  type EventName,
} from '../../shared/contract.js'
import { toErrorInfo } from '../../shared/errors.js'
import { validateRequest } from '../../shared/request-validation.js'
import { isAppUrl } from './app-origin.js'

/** The preload (electron/preload.cts) spells these the same way; test/ipc-contract.test.ts checks it. */
export const COMMAND_CHANNEL_PREFIX = 'swarmdrop:command:'
export const EVENT_CHANNEL_PREFIX = 'swarmdrop:event:'

export function commandChannel(command: CommandName): string {
  return COMMAND_CHANNEL_PREFIX + command
}

export function eventChannel(event: EventName): string {
  return EVENT_CHANNEL_PREFIX + event
}

/** The parts of an invoke event the sender check reads. */
export interface SenderInfo {
  sender: { id: number }
  senderFrame: { url: string; parent: unknown } | null
}

/**
 * Only the main window's top frame, showing the app's own page, may call. A frame that has
 * navigated away (or an iframe, or a second window) is refused even if it shares the process.
 */
export function isTrustedSender(event: SenderInfo, mainWebContentsId: number | null): boolean {
  if (mainWebContentsId === null || event.sender.id !== mainWebContentsId) return false
  const frame = event.senderFrame
  if (!frame || frame.parent !== null) return false
  return isAppUrl(frame.url)
}

/** Where events go: the main window, while it exists. */
export interface EventTarget {
  send(channel: string, payload: unknown): void
  /** Snapshots are skipped while the window is hidden in the tray; the next one after show repaints. */
  isVisible(): boolean
}

/** The slice of Electron's ipcMain this transport uses. */
export interface IpcMainSlice {
  handle(channel: string, listener: (event: SenderInfo, ...args: unknown[]) => unknown): void
  removeHandler(channel: string): void
}

export interface IpcTransportOptions {
  ipcMain: IpcMainSlice
  core: CoreApi
  /** The main window's webContents id, or null before it exists / after it is gone. */
  mainWebContentsId: () => number | null
  target: () => EventTarget | null
  onRejectedSender?: (event: SenderInfo, channel: string) => void
}

/** Registers every command handler and event forwarder; returns a function that removes them all. */
export function registerIpcTransport(options: IpcTransportOptions): () => void {
  const { ipcMain, core } = options
  for (const command of COMMAND_NAMES) {
    const channel = commandChannel(command)
    ipcMain.handle(channel, (event, request) => handleCommand(options, event, channel, command, request))
  }
  const unsubscribes = EVENT_NAMES.map((name) =>
    core.on(name, (payload) => {
      const target = options.target()
      if (!target) return
      if (name === 'snapshot' && !target.isVisible()) return
      target.send(eventChannel(name), payload)
    }),
  )
  return () => {
    for (const command of COMMAND_NAMES) ipcMain.removeHandler(commandChannel(command))
    for (const unsubscribe of unsubscribes) unsubscribe()
  }
}

async function handleCommand<K extends CommandName>(
  options: IpcTransportOptions,
  event: SenderInfo,
  channel: string,
  command: K,
  request: unknown,
): Promise<CommandResult<K>> {
  if (!isTrustedSender(event, options.mainWebContentsId())) {
    options.onRejectedSender?.(event, channel)
    return { ok: false, error: { code: 'UNAUTHORIZED', message: `IPC call "${command}" refused: it did not come from the Swarmdrop window.` } }
  }
  try {
    // Structured clone guarantees plain data, not its shape: checked here, as the WebSocket does.
    const value = await options.core.handle(command, validateRequest(command, request))
    return { ok: true, value }
  } catch (err) {
    return { ok: false, error: toErrorInfo(err) }
  }
}
