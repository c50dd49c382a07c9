/**
 * The window's one origin. The built dashboard is served from a private `swarmdrop://app/` scheme
 * rather than file://: a custom scheme gets a real origin (file:// pages share one opaque origin
 * with every file on disk), and its responses carry our CSP header, which file:// loads cannot
 * be relied on to do. Pure, so the path and URL checks are tested in plain Node.
 */
import path from 'node:path'
import { DASHBOARD_CSP } from '../engine/dashboard-assets.js'
import { safeRelativePath } from '../engine/safe-path.js'

export const APP_SCHEME = 'swarmdrop'
export const APP_HOST = 'app'
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`

/** The window's policy is the dashboard's, sent as a header by the swarmdrop:// handler. */
export const CONTENT_SECURITY_POLICY = DASHBOARD_CSP

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
  const relative = pathname === '/' ? 'index.html' : safeRelativePath(pathname)
  return relative === null ? null : path.join(path.resolve(root), relative)
}

/**
 * The one permission the window keeps: writing to the clipboard (the copy buttons for feed URL,
 * .torrent URL and magnet). Camera, notifications, geolocation and the rest are refused; native
 * notifications come from the main process, not the page.
 */
export function isPermissionAllowed(permission: string, requestingUrl: string): boolean {
  return permission === 'clipboard-sanitized-write' && isAppUrl(requestingUrl)
}
