/**
 * The admin surface: loopback only, one per-install token. It serves the built dashboard, carries
 * the contract over a WebSocket (the same commands and events as Electron IPC), and accepts
 * browser uploads into the data dir. Host and Origin are checked on every request so a web page
 * on another origin cannot reach it through DNS rebinding.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createReadStream, createWriteStream } from 'node:fs'
import { access, link, mkdir, rm, stat, statfs } from 'node:fs/promises'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import type { CoreApi, EventName } from '../../shared/contract.js'
import { EVENT_NAMES } from '../../shared/contract.js'
import { SwarmdropError, toErrorInfo, type ErrorInfo } from '../../shared/errors.js'
import { formatBytes } from '../../shared/format.js'
import {
  CLOSE_PROTOCOL_MISMATCH,
  offeredProtocols,
  parseClientMessage,
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
  /** The largest single file the dashboard accepts. */
  maxUploadBytes?: number
}

const MAX_UPLOAD_BYTES = 64 * 1024 ** 3

export class AdminServer {
  private readonly server: Server
  /**
   * The version subprotocol the client offered is the one accepted (a browser fails a handshake
   * that picks none); a different version then gets hello and a readable close, not a bare error.
   */
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024, handleProtocols: (offered) => [...offered].find((p) => p.startsWith('swarmdrop.v')) ?? false })
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
      const offered = offeredProtocols(req.headers['sec-websocket-protocol'])
      const refusal = this.checkOrigin(req) ?? (secretMatches(offered.token, this.options.token) ? null : 'a valid token is required')
      const rawPath = (req.url ?? '/').split('?')[0]
      if (rawPath !== WS_PATH || refusal) {
        socket.end(`HTTP/1.1 ${refusal ? 403 : 404} ${refusal ?? 'Not Found'}\r\nConnection: close\r\n\r\n`)
        return
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, offered.version))
    })
  }

  get port(): number {
    return this.boundPort
  }

  get baseUrl(): string {
    return `http://${this.host === '::1' ? '[::1]' : this.host}:${this.boundPort}`
  }

  get token(): string {
    return this.options.token
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
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    // An upload or keep-alive connection in progress would otherwise hold the shutdown open.
    this.server.closeAllConnections()
    await closed
  }

  /** Only our own origin may talk to us: defeats DNS rebinding and cross-site requests. */
  private checkOrigin(req: IncomingMessage): string | null {
    const allowedHosts = new Set([`127.0.0.1:${this.boundPort}`, `localhost:${this.boundPort}`, `[::1]:${this.boundPort}`])
    if (!allowedHosts.has(req.headers.host ?? '')) return `host "${req.headers.host ?? ''}" is not this dashboard`
    const origin = req.headers.origin
    if (origin !== undefined && !allowedHosts.has(origin.replace(/^https?:\/\//, ''))) return `origin "${origin}" is not allowed`
    return null
  }

  /** Only in a header: a token in a URL ends up in logs, history and Referer headers. */
  private hasToken(req: IncomingMessage): boolean {
    const auth = req.headers.authorization
    return secretMatches(auth?.startsWith('Bearer ') ? auth.slice(7) : null, this.options.token)
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

  /**
   * PUT /upload/<batch>/<path...>: streams one dropped file into <uploadDir>/<batch>/<path>.
   * The size is declared up front and must fit on the disk with room to spare; the file lands
   * under a temp name and is linked into place only if nothing is there yet, so an upload never
   * replaces a file (which could be the source of a published release). A process killed
   * mid-upload leaves a `.part` file that the next start removes (cleanUploadLeftovers).
   */
  private async onUpload(rest: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const uploadDir = this.options.uploadDir
    if (!uploadDir) return sendJson(res, 404, { ok: false, error: { code: 'INVALID_ARGUMENT', message: 'Uploads are disabled here.' } })
    const slash = rest.indexOf('/')
    const batch = slash > 0 ? rest.slice(0, slash) : ''
    const rel = slash > 0 ? safeRelativePath(`/${rest.slice(slash + 1)}`) : null
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(batch) || rel === null) {
      return sendJson(res, 400, { ok: false, error: { code: 'INVALID_ARGUMENT', message: 'Upload paths look like /upload/<batch id>/<relative file path>, without "..".' } })
    }
    const declared = req.headers['content-length']
    const size = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : NaN
    if (!Number.isSafeInteger(size)) return sendJson(res, 411, { ok: false, error: { code: 'INVALID_ARGUMENT', message: `Upload of ${rel}: send its size as Content-Length.` } })
    const max = this.options.maxUploadBytes ?? MAX_UPLOAD_BYTES
    if (size > max) {
      return sendJson(res, 413, { ok: false, error: { code: 'NO_SPACE', message: `${rel} is ${formatBytes(size)}; uploads through the dashboard stop at ${formatBytes(max)}. Publish it from a folder on this machine instead.` } })
    }
    const root = path.join(uploadDir, batch)
    const target = path.join(root, rel)
    await mkdir(uploadDir, { recursive: true })
    const room = await freeSpace(uploadDir)
    if (room !== null && size > room.free - room.spare) {
      return sendJson(res, 507, {
        ok: false,
        error: { code: 'NO_SPACE', message: `Not enough free space for ${rel} (${formatBytes(size)}) in ${uploadDir}: ${formatBytes(room.free)} free, and ${formatBytes(room.spare)} is kept spare. Free some space or publish from a folder on this machine.` },
      })
    }
    if (await exists(target)) return sendJson(res, 409, { ok: false, error: conflict(rel) })
    // Only now: a refused upload leaves no empty folders behind.
    await mkdir(path.dirname(target), { recursive: true })
    const tmp = `${target}.${randomBytes(4).toString('hex')}.part`
    try {
      let received = 0
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          received += chunk.length
          cb(received > size ? new Error(`more than the declared ${size} bytes arrived`) : null, chunk)
        },
      })
      await pipeline(req, counter, createWriteStream(tmp, { flags: 'wx' }))
      if (received !== size) throw new Error(`${received} of the declared ${size} bytes arrived`)
      // link() fails if the target exists: unlike rename(), it never replaces a file.
      await link(tmp, target)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return sendJson(res, 409, { ok: false, error: conflict(rel) })
      throw new SwarmdropError('WRITE_FAILED', `Upload of ${rel} failed: ${(err as Error).message}`, { cause: err })
    } finally {
      await rm(tmp, { force: true })
    }
    sendJson(res, 201, { ok: true, root })
  }

  private onSocket(ws: WebSocket, clientProtocol: string | null): void {
    // An error on one connection (a reset, a frame over 1 MiB, text that is not UTF-8) ends that
    // connection, never the process: ws has already sent the close code (1009, 1007) for it.
    ws.on('error', () => undefined)
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
  // A refused upload's body may still be on its way: close rather than read gigabytes to reuse the socket.
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...(status >= 400 ? { Connection: 'close' } : {}) })
  res.end(text)
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

function conflict(rel: string): ErrorInfo {
  return { code: 'WRITE_FAILED', message: `${rel} was already uploaded in this batch; an upload never replaces a file (it may be the source of a published release). Drop it again to start a new batch.` }
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  )
}

/** Free bytes for an unprivileged writer, and what to keep spare (5 %, at least 1 GiB); null if unknown. */
async function freeSpace(dir: string): Promise<{ free: number; spare: number } | null> {
  try {
    const fs = await statfs(dir)
    return { free: fs.bavail * fs.bsize, spare: Math.max(1024 ** 3, Math.floor(fs.blocks * fs.bsize * 0.05)) }
  } catch {
    return null
  }
}
