/**
 * How the renderer reaches the core, whichever shell it runs in: the Electron preload's
 * `window.swarmdrop`, or the admin server's WebSocket when it is the web dashboard. Both carry
 * the same SwarmdropApi; they differ only in how a dropped file becomes a path the core can read.
 */
import type { PreloadApi as ContractPreloadApi, SwarmdropApi } from '../shared/contract.js'
import { SwarmdropError } from '../shared/errors.js'
import type { DroppedItems } from './dropped-files.js'
import type { TransferProgress } from './upload.js'

export interface Backend {
  kind: 'electron' | 'browser'
  api: SwarmdropApi
  /**
   * Paths on the publisher's machine for what was dropped: the real paths in Electron, uploaded
   * copies in the data dir for a browser.
   */
  stage(items: DroppedItems, onProgress: (p: TransferProgress) => void, signal: AbortSignal): Promise<string[]>
  /** Registers a listener for a lost connection (WebSocket only). */
  onDisconnect(listener: (reason: string) => void): void
}

/** What the Electron preload (electron/shell/preload.cts) exposes on window. */
export type PreloadApi = ContractPreloadApi<File>

declare global {
  interface Window {
    swarmdrop?: PreloadApi
  }
}

export function electronBackend(preload: PreloadApi): Backend {
  return {
    kind: 'electron',
    api: { call: (command, request) => preload.call(command, request), on: (event, listener) => preload.on(event, listener) },
    stage: (items) => Promise.resolve(electronPaths(items, (file) => preload.getPathForFile(file))),
    onDisconnect: () => {},
  }
}

/**
 * Real paths of a drop. Top-level items (files or folders) are used as they are; picked files
 * from a folder picker are mapped back to the folder they came from.
 */
export function electronPaths(items: DroppedItems, pathForFile: (file: File) => string): string[] {
  const paths = items.top.length > 0 ? items.top.map(pathForFile) : items.files.map((f) => topLevelPath(pathForFile(f.file), f.relativePath))
  const unique = [...new Set(paths.filter((p) => p !== ''))]
  if (unique.length === 0) throw new SwarmdropError('EMPTY_INPUT', 'Nothing to publish: no file paths came with the drop. Drop files from the file manager, or type a path.')
  return unique
}

function topLevelPath(absolute: string, relativePath: string): string {
  const depth = relativePath.split('/').length - 1
  let result = absolute
  for (let i = 0; i < depth; i++) result = result.replace(/[\\/][^\\/]*$/, '')
  return result
}

/** `#token=...` from the URL the admin server printed; null when the page was opened without it. */
export function tokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''))
  const token = params.get('token')
  return token !== null && token !== '' ? token : null
}
