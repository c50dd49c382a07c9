/** Picks the transport at startup: the preload when Electron provides one, else the WebSocket. */
import { connectWs } from '../shared/ws-client.js'
import { SwarmdropError } from '../shared/errors.js'
import { electronBackend, tokenFromHash, type Backend } from './backend.js'
import { uploadFiles } from './upload.js'

export async function connectBackend(win: Window): Promise<Backend> {
  if (win.swarmdrop) return electronBackend(win.swarmdrop)
  const token = tokenFromHash(win.location.hash)
  if (token === null) {
    throw new SwarmdropError(
      'UNAUTHORIZED',
      'This dashboard needs its access token. Open the full URL that "swarmdrop serve" printed (it ends in #token=…).',
    )
  }
  const baseUrl = win.location.origin
  let ws
  try {
    ws = await connectWs(baseUrl, token, WebSocket)
  } catch (err) {
    throw new SwarmdropError('NOT_RUNNING', `${(err as Error).message}. Check that "swarmdrop serve" is running and that you opened the URL it printed.`)
  }
  return {
    kind: 'browser',
    api: ws,
    stage: (items, onProgress, signal) => uploadFiles({ baseUrl, token }, items.files, onProgress, signal),
    onDisconnect: (listener) => ws.onDisconnect(listener),
  }
}
