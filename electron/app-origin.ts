/**
 * The window's one origin. The built dashboard is served from a private `swarmdrop://app/` scheme
 * rather than file://: a custom scheme gets a real origin (file:// pages share one opaque origin
 * with every file on disk), and its responses carry our CSP header, which file:// loads cannot
 * be relied on to do. Pure, so the path and URL checks are tested in plain Node.
 */
import path from 'node:path'

export const APP_SCHEME = 'swarmdrop'
export const APP_HOST = 'app'
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`

/**
 * No remote content at all: scripts, styles, images and fetches come from the app's own origin,
 * and nothing inline. React's style props go through the CSSOM, which style-src does not govern,
 * so the dashboard needs no 'unsafe-inline' (test/electron-renderer.test.ts proves it in Chromium).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "frame-src 'none'",
  "worker-src 'self'",
].join('; ')

/** True for the app's own pages only: right scheme and host, nothing else (not file://, not http). */
export function isAppUrl(url: string): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === ''
}

/**
 * The file under `root` that an app URL names, or null when it is not an app URL or tries to
 * leave `root` (`..`, encoded slashes, absolute paths).
 */
export function resolveAppFile(root: string, url: string): string | null {
  if (!isAppUrl(url)) return null
  const { pathname } = new URL(url)
  let decoded: string
  try {
    decoded = decodeURIComponent(pathname)
  } catch {
    return null
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null
  const relative = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '')
  const resolvedRoot = path.resolve(root)
  const file = path.resolve(resolvedRoot, relative)
  if (file !== resolvedRoot && !file.startsWith(resolvedRoot + path.sep)) return null
  return file
}

/**
 * The one permission the window keeps: writing to the clipboard (the copy buttons for feed URL,
 * .torrent URL and magnet). Camera, notifications, geolocation and the rest are refused; native
 * notifications come from the main process, not the page.
 */
export function isPermissionAllowed(permission: string, requestingUrl: string): boolean {
  return permission === 'clipboard-sanitized-write' && isAppUrl(requestingUrl)
}
