/** Picks the transport at startup: the preload when Electron provides one, else the WebSocket. */
import { connectWs } from '../shared/ws-client.js'
import { SwarmdropError } from '../shared/errors.js'
import { electronBackend, tokenFromHash, type Backend } from './backend.js'
import { uploadFiles } from './upload.js'

/** Where the token is kept once read, for reloads of this tab only (never localStorage). */
const TOKEN_KEY = 'swarmdrop.token'

/**
 * The token arrives in the URL fragment (never sent to a server) and is taken out of the address
 * bar at once, so it stays out of the browser history and of any link copied from the page.
 */
export function takeToken(win: Window): string | null {
  const fromUrl = tokenFromHash(win.location.hash)
  if (fromUrl !== null) {
    win.sessionStorage.setItem(TOKEN_KEY, fromUrl)
    win.history.replaceState(null, '', `${win.location.pathname}${win.location.search}`)
    return fromUrl
  }
  return win.sessionStorage.getItem(TOKEN_KEY)
}

export async function connectBackend(win: Window): Promise<Backend> {
  if (win.swarmdrop) return electronBackend(win.swarmdrop)
  const token = takeToken(win)
  if (token === null) {
    throw new SwarmdropError(
      'UNAUTHORIZED',
      'This dashboard needs its sign-in link: run "swarmdrop dashboard" on the publisher and open the URL it prints.',
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
