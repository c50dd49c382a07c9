/**
 * The admin surface: loopback only, one per-install token. It serves the built dashboard, carries
 * the contract over a WebSocket (the same commands and events as Electron IPC), and accepts
 * browser uploads into the data dir. Host and Origin are checked on every request so a web page
 * on another origin cannot reach it through DNS rebinding.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import type { CoreApi, EventName } from '../../shared/contract.js'
import { EVENT_NAMES } from '../../shared/contract.js'
import { SwarmdropError, toErrorInfo } from '../../shared/errors.js'
import {
  CLOSE_PROTOCOL_MISMATCH,
  parseClientMessage,
  PROTOCOL_PARAM,
  PROTOCOL_VERSION,
  protocolMismatchReason,
  UPLOAD_PATH,
  WS_PATH,
  type ServerMessage,
} from '../../shared/ws-protocol.js'
import { PRODUCT } from './product.js'
import { contentTypeOf } from './content-types.js'
import { listenError } from './listen-error.js'
import { secretMatches } from './secrets.js'
import { DASHBOARD_CSP } from './dashboard-assets.js'
import { safeRelativePath } from './safe-path.js'

export interface AdminServerOptions {
  core: CoreApi
  token: string
  /** 0 picks a free port. */
  port?: number
  host?: '127.0.0.1' | 'localhost' | '::1'
  /** The built dashboard (dist/dashboard); null serves no UI. */
  staticDir?: string | null
  /** Where browser uploads land, one folder per batch. Null disables uploads. */
  uploadDir?: string | null
}

export class AdminServer {
  private readonly server: Server
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 })
  private readonly host: string
  private boundPort = 0

  constructor(private readonly options: AdminServerOptions) {
    this.host = options.host ?? '127.0.0.1'
    this.server = createServer((req, res) => {
      this.onRequest(req, res).catch((err: unknown) => sendJson(res, 500, { ok: false, error: toErrorInfo(err) }))
    })
    this.server.on('upgrade', (req, socket, head) => {
      // A client that resets a refused (or accepted) upgrade must not crash the process.
      socket.on('error', () => socket.destroy())
      const refusal = this.checkOrigin(req) ?? (this.hasToken(req) ? null : 'a valid token is required')
      const url = new URL(req.url ?? '/', 'http://x')
      if (url.pathname !== WS_PATH || refusal) {
        socket.end(`HTTP/1.1 ${refusal ? 403 : 404} ${refusal ?? 'Not Found'}\r\nConnection: close\r\n\r\n`)
        return
      }
      const clientProtocol = url.searchParams.get(PROTOCOL_PARAM)
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, clientProtocol))
    })
  }

  get port(): number {
    return this.boundPort
  }

  get baseUrl(): string {
    return `http://${this.host === '::1' ? '[::1]' : this.host}:${this.boundPort}`
  }

  /** What to open in a browser: the token rides in the fragment, which is never sent to a server. */
  get dashboardUrl(): string {
    return `${this.baseUrl}/#token=${encodeURIComponent(this.options.token)}`
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(listenError(err, { label: 'The dashboard port', proto: 'TCP', host: this.host, port: this.options.port ?? 0 }))
      }
      this.server.once('error', onError)
      this.server.listen(this.options.port ?? 0, this.host, () => {
        this.server.off('error', onError)
        const addr = this.server.address()
        this.boundPort = typeof addr === 'object' && addr ? addr.port : 0
        resolve()
      })
    })
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate()
    this.wss.close()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** Only our own origin may talk to us: defeats DNS rebinding and cross-site requests. */
  private checkOrigin(req: IncomingMessage): string | null {
    const allowedHosts = new Set([`127.0.0.1:${this.boundPort}`, `localhost:${this.boundPort}`, `[::1]:${this.boundPort}`])
    if (!allowedHosts.has(req.headers.host ?? '')) return `host "${req.headers.host ?? ''}" is not this dashboard`
    const origin = req.headers.origin
    if (origin !== undefined && !allowedHosts.has(origin.replace(/^https?:\/\//, ''))) return `origin "${origin}" is not allowed`
    return null
  }

  private hasToken(req: IncomingMessage): boolean {
    const url = new URL(req.url ?? '/', 'http://x')
    const auth = req.headers.authorization
    return secretMatches(url.searchParams.get('token') ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : null), this.options.token)
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Referrer-Policy', 'no-referrer')
    res.setHeader('Content-Security-Policy', DASHBOARD_CSP)
    const refusal = this.checkOrigin(req)
    if (refusal) return sendJson(res, 403, { ok: false, error: { code: 'UNAUTHORIZED', message: `Refused: ${refusal}.` } })
    // Route on the raw path: URL parsing would resolve "%2e%2e" segments before we could refuse them.
    const rawPath = (req.url ?? '/').split('?')[0] as string
    if (rawPath.startsWith(`${UPLOAD_PATH}/`)) {
      if (!this.hasToken(req)) return sendJson(res, 401, { ok: false, error: { code: 'UNAUTHORIZED', message: 'A valid dashboard token is required.' } })
      if (req.method !== 'PUT') return sendJson(res, 405, { ok: false, error: { code: 'INVALID_ARGUMENT', message: 'Use PUT to upload a file.' } })
      return this.onUpload(rawPath.slice(UPLOAD_PATH.length + 1), req, res)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { ok: false, error: { code: 'INVALID_ARGUMENT', message: 'Method not allowed.' } })
    return this.serveStatic(rawPath, req, res)
  }

  private async serveStatic(pathname: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const dir = this.options.staticDir
    if (!dir) return sendText(res, 404, 'This Swarmdrop runs without a dashboard.')
    const rel = pathname === '/' ? 'index.html' : safeRelativePath(pathname)
    const file = rel === null ? null : path.join(dir, rel)
    const st = file ? await stat(file).catch(() => null) : null
    if (!file || !st?.isFile()) return sendText(res, 404, 'Not found.')
    res.writeHead(200, {
      'Content-Type': contentTypeOf(file),
      'Content-Length': st.size,
      'Cache-Control': rel === 'index.html' ? 'no-cache' : 'public, max-age=3600',
    })
    if (req.method === 'HEAD') return void res.end()
    await pipeline(createReadStream(file), res)
  }

  /** PUT /upload/<batch>/<path...>: streams one dropped file into <uploadDir>/<batch>/<path>. */
  private async onUpload(rest: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const uploadDir = this.options.uploadDir
    if (!uploadDir) return sendJson(res, 404, { ok: false, error: { code: 'INVALID_ARGUMENT', message: 'Uploads are disabled here.' } })
    const slash = rest.indexOf('/')
    const batch = slash > 0 ? rest.slice(0, slash) : ''
    const rel = slash > 0 ? safeRelativePath(`/${rest.slice(slash + 1)}`) : null
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(batch) || rel === null) {
      return sendJson(res, 400, { ok: false, error: { code: 'INVALID_ARGUMENT', message: 'Upload paths look like /upload/<batch id>/<relative file path>, without "..".' } })
    }
    const root = path.join(uploadDir, batch)
    const target = path.join(root, rel)
    const tmp = `${target}.${randomBytes(4).toString('hex')}.part`
    await mkdir(path.dirname(target), { recursive: true })
    try {
      await pipeline(req, createWriteStream(tmp, { flags: 'wx' }))
      await rename(tmp, target)
    } catch (err) {
      await rm(tmp, { force: true })
      throw new SwarmdropError('WRITE_FAILED', `Upload of ${rel} failed: ${(err as Error).message}`, { cause: err })
    }
    sendJson(res, 201, { ok: true, root })
  }

  private onSocket(ws: WebSocket, clientProtocol: string | null): void {
    // An error on one connection (a reset, a bad frame) ends that connection, never the process.
    ws.on('error', () => ws.terminate())
    const send = (msg: ServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg))
    }
    const app = `${PRODUCT.name} ${PRODUCT.version}`
    send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, app })
    if (clientProtocol !== String(PROTOCOL_VERSION)) {
      ws.close(CLOSE_PROTOCOL_MISMATCH, protocolMismatchReason(PROTOCOL_VERSION, app, clientProtocol))
      return
    }
    const unsubscribe = EVENT_NAMES.map((event: EventName) =>
      this.options.core.on(event, (payload) => send({ type: 'event', event, payload } as ServerMessage)),
    )
    ws.on('close', () => unsubscribe.forEach((u) => u()))
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'messages must be JSON text')
      const parsed = parseClientMessage(String(data))
      if (!parsed.ok) {
        if (parsed.id === null) return ws.close(1003, parsed.reason.slice(0, 123))
        return send({ type: 'result', id: parsed.id, result: { ok: false, error: { code: 'INVALID_ARGUMENT', message: parsed.reason.replace(/(?<![.!?])$/, '.') } } })
      }
      const { id, command, request } = parsed.message
      this.options.core.handle(command, request).then(
        (value) => send({ type: 'result', id, result: { ok: true, value } }),
        (err: unknown) => send({ type: 'result', id, result: { ok: false, error: toErrorInfo(err) } }),
      )
    })
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.destroy()
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}
