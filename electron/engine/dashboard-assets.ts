/**
 * The policy the built dashboard (dist/dashboard) is served under, wherever it is served from:
 * the headless admin server over http://127.0.0.1 and the desktop window's private swarmdrop://
 * scheme. Both also share safe-path.ts and content-types.ts, so the two cannot drift apart.
 */

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
