/**
 * Serves the built dashboard (dist/dashboard) on the app's private `swarmdrop://app/` origin,
 * every response with the CSP header. Nothing outside that folder is reachable through it.
 */
import { readFile } from 'node:fs/promises'
import { protocol, type Session } from 'electron'
import { APP_SCHEME, CONTENT_SECURITY_POLICY, resolveAppFile } from './app-origin.js'
import { contentTypeOf } from '../engine/content-types.js'

/**
 * Must run before the app's `ready` event. `standard` + `secure` give the scheme a real origin
 * and let module scripts and fetch work as on https; no CORS, no service workers.
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }])
}

export function serveAppScheme(session: Session, dashboardDir: string): void {
  session.protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppFile(dashboardDir, request.url)
    const headers = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' }
    if (file === null) return new Response('Forbidden', { status: 403, headers })
    try {
      const body = await readFile(file)
      return new Response(body, { status: 200, headers: { ...headers, 'Content-Type': contentTypeOf(file) } })
    } catch {
      return new Response('Not found', { status: 404, headers })
    }
  })
}
