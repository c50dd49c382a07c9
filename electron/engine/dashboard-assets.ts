/**
 * How the built dashboard (dist/dashboard) is served, wherever it is served from: the headless
 * admin server over http://127.0.0.1 and the desktop window's private swarmdrop:// scheme. One
 * policy, one path rule, one type table, so the two front ends cannot drift apart.
 */
import path from 'node:path'

/**
 * No remote content at all: scripts, styles, images and fetches come from the page's own origin,
 * and nothing inline. React's style props go through the CSSOM, which style-src does not govern,
 * so the dashboard needs no 'unsafe-inline'. 'self' in connect-src also covers the same-origin
 * WebSocket of the headless dashboard.
 */
export const DASHBOARD_CSP = [
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

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
}

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream'
}

/**
 * A URL path as a relative file path that cannot leave its folder, or null: percent-decoding
 * happens once, and NUL bytes, backslashes and "." or ".." segments (encoded or not) are refused
 * rather than resolved. "/" alone names nothing; callers map it to index.html themselves.
 */
export function safeRelativePath(urlPath: string): string | null {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return null
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null
  const parts = decoded.split('/').filter((p) => p !== '')
  if (parts.length === 0 || parts.some((p) => p === '.' || p === '..')) return null
  return parts.join(path.sep)
}
