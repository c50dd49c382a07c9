/**
 * The admin surface is loopback-only and token-guarded: without the token there is no data and no
 * WebSocket; a foreign Host or Origin (DNS rebinding, cross-site pages) is refused; uploads cannot
 * leave their batch folder.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile, stat } from 'node:fs/promises'
import { request } from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { AdminServer } from '../../electron/engine/admin-server.js'
import { connectWs, type WebSocketConstructor } from '../../shared/ws-client.js'
import { clientProtocols } from '../../shared/ws-protocol.js'
import { startTestEngine } from '../support/engine.js'
import { tempDir } from '../support/temp.js'

const DASHBOARD = fileURLToPath(new URL('../../dashboard', import.meta.url))
const TOKEN = 'a-long-random-install-token-0123456789'

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function http(port: number, method: string, pathname: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: pathname, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Opens the admin WebSocket offering `token` the way the clients do (a subprotocol), or not at all. */
function wsOpens(url: string, headers: Record<string, string> = {}, token?: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, token === undefined ? [] : clientProtocols(token), { headers })
    ws.on('open', () => {
      ws.close()
      resolve('open')
    })
    ws.on('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode}`))
    ws.on('error', () => resolve('error'))
  })
}

test('admin server: token, Host/Origin checks, static files and uploads', async () => {
  const { dir, cleanup } = await tempDir()
  const engine = await startTestEngine(path.join(dir, 'data'))
  const uploadDir = path.join(dir, 'data', 'uploads')
  const admin = new AdminServer({ core: engine, token: TOKEN, staticDir: DASHBOARD, uploadDir })
  try {
    await admin.listen()
    const { port } = admin

    // The page itself carries no data and no token; it asks for the token from the fragment.
    const page = await http(port, 'GET', '/')
    assert.equal(page.status, 200)
    assert.match(String(page.headers['content-type']), /text\/html/)
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/)
    assert.doesNotMatch(page.body, new RegExp(TOKEN))
    assert.equal((await http(port, 'GET', '/..%2f..%2fpackage.json')).status, 404)
    assert.equal((await http(port, 'GET', '/%2e%2e/%2e%2e/package.json')).status, 404)

    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends its own Host.
    assert.equal((await http(port, 'GET', '/', { host: `evil.example:${port}` })).status, 403)
    assert.equal((await http(port, 'GET', '/', { origin: 'http://evil.example' })).status, 403)

    const wsBase = `ws://127.0.0.1:${port}/ws`
    assert.equal(await wsOpens(wsBase), 'refused 403')
    assert.equal(await wsOpens(wsBase, {}, 'wrong-token'), 'refused 403')
    // A token in the URL is not accepted: URLs end up in logs, history and Referer headers.
    assert.equal(await wsOpens(`${wsBase}?token=${TOKEN}`), 'refused 403')
    assert.equal(await wsOpens(wsBase, { origin: 'http://evil.example' }, TOKEN), 'refused 403')
    assert.equal(await wsOpens(wsBase, { host: `rebound.example:${port}` }, TOKEN), 'refused 403')
    assert.equal(await wsOpens(wsBase, { origin: `http://127.0.0.1:${port}` }, TOKEN), 'open')
    await assert.rejects(connectWs(admin.baseUrl, 'nope', WebSocket as unknown as WebSocketConstructor), /refused|403|connect/i)
    const api = await connectWs(admin.baseUrl, TOKEN, WebSocket as unknown as WebSocketConstructor)
    const snap = await api.call('snapshot.get', {})
    assert.equal(snap.ok, true)
    api.close()

    // Uploads: token required, streamed into the batch folder, never outside it.
    const body = Buffer.from('#!/bin/sh\necho patched\n')
    assert.equal((await http(port, 'PUT', '/upload/batch1/patch/run.sh', {}, body)).status, 401)
    assert.equal((await http(port, 'PUT', `/upload/batch1/patch/run.sh?token=${TOKEN}`, {}, body)).status, 401, 'not in the URL either')
    const up = await http(port, 'PUT', '/upload/batch1/patch/run.sh', { authorization: `Bearer ${TOKEN}` }, body)
    assert.equal(up.status, 201, up.body)
    const root = (JSON.parse(up.body) as { root: string }).root
    assert.equal(root, path.join(uploadDir, 'batch1'))
    assert.deepEqual(await readFile(path.join(root, 'patch', 'run.sh')), body)
    for (const bad of ['/upload/batch1/..%2f..%2fescape', '/upload/batch1/a/%2e%2e/%2e%2e/%2e%2e/escape', '/upload/..%2f/x', '/upload/batch1/a%00b', '/upload/batch1/a%5c..%5cb']) {
      const r = await http(port, 'PUT', bad, { authorization: `Bearer ${TOKEN}` }, body)
      assert.equal(r.status, 400, `${bad} -> ${r.status}`)
    }
    await assert.rejects(stat(path.join(dir, 'data', 'escape')))
    await assert.rejects(stat(path.join(dir, 'escape')))
    assert.equal((await http(port, 'POST', '/upload/batch1/x', { authorization: `Bearer ${TOKEN}` }, body)).status, 405)
  } finally {
    await admin.close()
    await engine.close()
    await cleanup()
  }
})

test('admin server: a dashboard port already in use is a clear PORT_IN_USE error', async () => {
  const { dir, cleanup } = await tempDir()
  const engine = await startTestEngine(path.join(dir, 'data'))
  const first = new AdminServer({ core: engine, token: TOKEN })
  try {
    await first.listen()
    const second = new AdminServer({ core: engine, token: TOKEN, port: first.port })
    await assert.rejects(second.listen(), (err: { code: string; message: string }) => {
      assert.equal(err.code, 'PORT_IN_USE')
      assert.match(err.message, new RegExp(`dashboard port ${first.port}`))
      return true
    })
  } finally {
    await first.close()
    await engine.close()
    await cleanup()
  }
})

test('uploads: the size must be declared and fit, and an upload never replaces a file', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const core = { handle: async () => ({}) as never, on: () => () => {} }
  const uploadDir = path.join(dir, 'uploads')
  const small = new AdminServer({ core, token: TOKEN, uploadDir, maxUploadBytes: 1024 })
  const roomy = new AdminServer({ core, token: TOKEN, uploadDir, maxUploadBytes: Number.MAX_SAFE_INTEGER })
  await small.listen()
  await roomy.listen()
  t.after(async () => {
    await small.close()
    await roomy.close()
  })
  const auth = { authorization: `Bearer ${TOKEN}` }
  const first = Buffer.from('release v1\n')
  assert.equal((await http(small.port, 'PUT', '/upload/b1/app/run.sh', auth, first)).status, 201)

  // The same path again: refused, and the first upload (maybe a published release's source) is intact.
  const again = await http(small.port, 'PUT', '/upload/b1/app/run.sh', auth, Buffer.from('replaced!!\n'))
  assert.equal(again.status, 409)
  assert.match(again.body, /already uploaded in this batch; an upload never replaces a file/)
  assert.deepEqual(await readFile(path.join(uploadDir, 'b1', 'app', 'run.sh')), first)

  const tooBig = await http(small.port, 'PUT', '/upload/b2/big.iso', auth, Buffer.alloc(2048))
  assert.equal(tooBig.status, 413)
  assert.match(tooBig.body, /big\.iso is 2\.00 KiB; uploads through the dashboard stop at 1\.00 KiB/)

  // Declared bigger than the disk: refused before a byte is written.
  const huge = await rawPut(roomy.port, '/upload/b3/huge.iso', { ...auth, 'content-length': String(2 ** 52) })
  assert.equal(huge.status, 507)
  assert.match(huge.body, /"code":"NO_SPACE".*Not enough free space for huge\.iso \(4096 TiB\)/)

  // No size declared (chunked): refused, nothing left behind.
  const chunked = await rawPut(roomy.port, '/upload/b4/x.bin', { ...auth, 'transfer-encoding': 'chunked' }, Buffer.from('abc'))
  assert.equal(chunked.status, 411)
  assert.deepEqual((await readdir(uploadDir)).sort(), ['b1'])
})

/** A PUT whose headers are exactly these (no Content-Length added by the client). */
function rawPut(port: number, pathname: string, headers: Record<string, string>, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'PUT', path: pathname, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    if (body) req.write(body)
    // A declared size that is never sent: the server answers from the headers alone.
    if (headers['content-length'] && !body) req.flushHeaders()
    else req.end()
  })
}
