/**
 * The sandboxed preload: exposes `window.swarmdrop`, a SwarmdropApi over Electron IPC, and
 * nothing else (no ipcRenderer, no Node). It is CommonJS because sandboxed preloads are, and a
 * sandboxed preload can require only `electron` and a few built-ins, never a file of ours: so the
 * command and event names are spelled out here, and the compiler proves they are exactly the
 * contract's (the two `…Complete` checks below). test/ipc-contract.test.ts runs this file against
 * electron/ipc-main.ts.
 */
// verbatimModuleSyntax forbids `import … from` in a CommonJS file; this is the typed require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import electron = require('electron')
import type { CommandName, CommandRequest, CommandResult, EventName, Events, PreloadApi } from '../../shared/contract.js'

const COMMANDS = [
  'snapshot.get',
  'publish.preview',
  'publish.start',
  'publish.cancel',
  'release.pause',
  'release.resume',
  'release.retire',
  'releases.pauseAll',
  'releases.resumeAll',
  'settings.update',
  'settings.generateFeedKey',
  'fleet.get',
  'fleet.server',
  'fleet.roster.set',
  'fleet.rename',
  'releases.retireOld',
] as const satisfies readonly CommandName[]

const EVENTS = [
  'snapshot',
  'publish.progress',
  'publish.done',
  'publish.error',
  'release.completedByServer',
  'fleet.changed',
  'release.rolloutComplete',
] as const satisfies readonly EventName[]

// Adding a command or event to shared/contract.ts without listing it above fails the build here.
const commandsComplete: [Exclude<CommandName, (typeof COMMANDS)[number]>] extends [never] ? true : false = true
const eventsComplete: [Exclude<EventName, (typeof EVENTS)[number]>] extends [never] ? true : false = true
void commandsComplete
void eventsComplete

const COMMAND_CHANNEL_PREFIX = 'swarmdrop:command:'
const EVENT_CHANNEL_PREFIX = 'swarmdrop:event:'

const commandSet: ReadonlySet<string> = new Set(COMMANDS)
const eventSet: ReadonlySet<string> = new Set(EVENTS)

const api: PreloadApi<File> = {
  call<K extends CommandName>(command: K, request: CommandRequest<K>): Promise<CommandResult<K>> {
    if (typeof command !== 'string' || !commandSet.has(command)) {
      return Promise.resolve({ ok: false, error: { code: 'INVALID_ARGUMENT', message: `Unknown command "${String(command)}".` } })
    }
    return electron.ipcRenderer.invoke(COMMAND_CHANNEL_PREFIX + command, request) as Promise<CommandResult<K>>
  },

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    if (typeof event !== 'string' || !eventSet.has(event) || typeof listener !== 'function') {
      throw new TypeError(`Unknown event "${String(event)}" or listener is not a function.`)
    }
    const channel = EVENT_CHANNEL_PREFIX + event
    // The IpcRendererEvent (with its sender) never reaches the page: only the payload does.
    const forward = (_event: unknown, payload: Events[E]): void => listener(payload)
    electron.ipcRenderer.on(channel, forward)
    return () => {
      electron.ipcRenderer.removeListener(channel, forward)
    }
  },

  getPathForFile(file: File): string {
    return electron.webUtils.getPathForFile(file)
  },
}

electron.contextBridge.exposeInMainWorld('swarmdrop', api)
