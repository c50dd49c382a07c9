/**
 * Every message crossing the admin WebSocket is checked at run time: a malformed envelope or
 * request is refused by field, never cast and passed on; the protocol version is exchanged, so a
 * client of another version gets a clear refusal instead of a confusing failure later.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import WebSocket from 'ws'
import type { CommandName, CoreApi, Events, EventName } from '../../shared/contract.js'
import { AdminServer } from '../../electron/engine/admin-server.js'
import { connectWs, type WebSocketConstructor } from '../../shared/ws-client.js'
import { clientProtocols, CLOSE_PROTOCOL_MISMATCH, parseClientMessage, PROTOCOL_VERSION } from '../../shared/ws-protocol.js'
import { validateRequest } from '../../shared/request-validation.js'
import { SwarmdropError } from '../../shared/errors.js'
import { connectInstance } from '../../electron/cli/instance-client.js'
import { tempDir } from '../support/temp.js'

const TOKEN = 'a-long-random-install-token-0123456789'
const WS = WebSocket as unknown as WebSocketConstructor

/** A stand-in core that records what reached it: only valid requests may. */
function recordingCore(): CoreApi & { calls: { command: CommandName; request: unknown }[] } {
  const calls: { command: CommandName; request: unknown }[] = []
  return {
    calls,
    handle: async (command, request) => {
      calls.push({ command, request })
      return { count: 0 } as never
    },
    on: <E extends EventName>(_event: E, _listener: (payload: Events[E]) => void) => () => {},
  }
}

async function withServer(fn: (port: number, core: ReturnType<typeof recordingCore>) => Promise<void>): Promise<void> {
  const core = recordingCore()
  const admin = new AdminServer({ core, token: TOKEN })
  await admin.listen()
  try {
    await fn(admin.port, core)
  } finally {
    await admin.close()
  }
}

/** A raw socket: the first message (the hello), then what the server answers or how it closes. */
function rawSocket(port: number, protocols: string[]): Promise<{ ws: WebSocket; hello: Record<string, unknown>; next(): Promise<{ message?: Record<string, unknown>; close?: { code: number; reason: string } }> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, protocols, { headers: { host: `127.0.0.1:${port}` } })
    const queue: { message?: Record<string, unknown>; close?: { code: number; reason: string } }[] = []
    const waiters: ((v: (typeof queue)[number]) => void)[] = []
    const push = (v: (typeof queue)[number]): void => {
      const w = waiters.shift()
      if (w) w(v)
      else queue.push(v)
    }
    const next = (): Promise<(typeof queue)[number]> => {
      const v = queue.shift()
      return v ? Promise.resolve(v) : new Promise((r) => waiters.push(r))
    }
    ws.on('message', (data) => push({ message: JSON.parse(String(data)) as Record<string, unknown> }))
    ws.on('close', (code, reason) => push({ close: { code, reason: reason.toString() } }))
    ws.on('error', reject)
    void next().then((first) => (first.message ? resolve({ ws, hello: first.message, next }) : reject(new Error(`closed before hello: ${JSON.stringify(first)}`))))
  })
}

test('the server greets with its protocol version; a client of another version is refused with a readable reason', async () => {
  await withServer(async (port) => {
    const same = await rawSocket(port, clientProtocols(TOKEN))
    assert.equal(same.hello.type, 'hello')
    assert.equal(same.hello.protocolVersion, PROTOCOL_VERSION)
    assert.match(String(same.hello.app), /^Swarmdrop \d+\.\d+\.\d+/)
    same.ws.close()

    const other = await rawSocket(port, [`swarmdrop.v${PROTOCOL_VERSION + 1}`, `bearer.${TOKEN}`])
    const { close } = await other.next()
    assert.equal(close?.code, CLOSE_PROTOCOL_MISMATCH)
    assert.match(close?.reason ?? '', new RegExp(`speaks admin protocol ${PROTOCOL_VERSION}, the client ${PROTOCOL_VERSION + 1}\\. Use the same Swarmdrop version\\.`))

    // Offering no version at all: no subprotocol to accept, so the handshake itself fails.
    await assert.rejects(rawSocket(port, [`bearer.${TOKEN}`]))

    // The shared client checks the same handshake and connects only when the versions agree.
    const api = await connectWs(`http://127.0.0.1:${port}`, TOKEN, WS)
    assert.deepEqual(await api.call('releases.pauseAll', {}), { ok: true, value: { count: 0 } })
    api.close()
  })
})

test('malformed frames close that socket or get an INVALID_ARGUMENT result naming the field; the core never sees them', async () => {
  await withServer(async (port, core) => {
    const s = await rawSocket(port, clientProtocols(TOKEN))
    const ask = async (frame: unknown): Promise<Record<string, unknown>> => {
      s.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
      const r = await s.next()
      assert.ok(r.message, `expected a result, got ${JSON.stringify(r)}`)
      return r.message
    }
    const error = (reply: Record<string, unknown>): { code: string; message: string } => (reply.result as { error: { code: string; message: string } }).error

    assert.deepEqual(error(await ask({ type: 'call', id: 1, command: 'release.retire', request: { infoHash: 'not-a-hash' } })), {
      code: 'INVALID_ARGUMENT',
      message: '"infoHash" must be a release\'s info-hash (40 lowercase hex digits), got the text "not-a-hash".',
    })
    assert.deepEqual(error(await ask({ type: 'call', id: 2, command: 'publish.start', request: { paths: [] } })).message, '"paths" must be a list of one or more paths, got a list.')
    assert.deepEqual(error(await ask({ type: 'call', id: 3, command: 'publish.start', request: { paths: ['/a'], private: 'yes' } })).message, '"private" must be true or false, got the text "yes".')
    assert.deepEqual(error(await ask({ type: 'call', id: 4, command: 'settings.update', request: { httpPort: '7070' } })).message, '"httpPort" must be a whole number, got the text "7070".')
    assert.deepEqual(error(await ask({ type: 'call', id: 5, command: 'process.exit', request: {} })).message, 'Unknown command "process.exit".')
    assert.deepEqual(error(await ask({ type: 'call', id: 6, command: 'snapshot.get', request: [] })).message, '"snapshot.get" expects an object as its request, got a list.')
    assert.equal((await ask({ type: 'nonsense', id: 7 })).id, 7)
    assert.deepEqual(core.calls, [], 'no malformed request reached the core')
    const ok = await ask({ type: 'call', id: 8, command: 'release.pause', request: { infoHash: 'ab'.repeat(20) } })
    assert.deepEqual(ok, { type: 'result', id: 8, result: { ok: true, value: { count: 0 } } })

    // A frame without a readable id has nobody to answer: that socket is closed (1003), the server lives on.
    for (const frame of ['null', '[]', '"text"', '{not json', JSON.stringify({ type: 'call', command: 'snapshot.get' })]) {
      const t = await rawSocket(port, clientProtocols(TOKEN))
      t.ws.send(frame)
      assert.equal((await t.next()).close?.code, 1003, frame)
    }
    s.ws.close()
    const api = await connectWs(`http://127.0.0.1:${port}`, TOKEN, WS)
    assert.equal((await api.call('releases.resumeAll', {})).ok, true, 'the server still answers')
    api.close()
  })
})

test('validateRequest and parseClientMessage agree with the contract', () => {
  assert.deepEqual(validateRequest('publish.start', { paths: ['/srv/x'], name: undefined }), { paths: ['/srv/x'], name: undefined }, 'undefined counts as absent (IPC keeps such keys)')
  assert.throws(() => validateRequest('publish.cancel', {}), /"publish.cancel" needs "jobId"\./)
  assert.throws(() => validateRequest('settings.update', { theme: 'dark' }), /"settings.update" has no field "theme"\./)
  assert.deepEqual(parseClientMessage('{"type":"call","id":3,"command":"snapshot.get"}'), { ok: true, message: { type: 'call', id: 3, command: 'snapshot.get', request: {} } })
  assert.deepEqual(parseClientMessage('{"type":"call","id":-1,"command":"snapshot.get"}'), { ok: false, id: null, reason: '"id" must be a whole number' })
})

test('the CLI reads the running instance\'s protocol version from instance.json and refuses another one by name', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const write = (protocolVersion: number | undefined): Promise<void> =>
    writeFile(path.join(dir, 'instance.json'), JSON.stringify({ pid: process.pid, adminPort: 1, httpPort: 2, protocolVersion, startedAt: new Date().toISOString() }))
  await write(PROTOCOL_VERSION + 1)
  await assert.rejects(connectInstance(dir), (err: unknown) => {
    assert.ok(err instanceof SwarmdropError)
    assert.equal(err.code, 'VERSION_MISMATCH')
    assert.match(err.message, new RegExp(`pid ${process.pid}\\) speaks admin protocol ${PROTOCOL_VERSION + 1}, and this swarmdrop command speaks ${PROTOCOL_VERSION}`))
    return true
  })
  await write(undefined)
  await assert.rejects(connectInstance(dir), /speaks an older admin protocol/)
})

test('no local process can crash the admin server: refused upgrades reset mid-way, oversize and non-UTF-8 frames', async () => {
  await withServer(async (port) => {
    // A refused upgrade (no token, then a foreign Host) answered by a TCP reset.
    for (const headers of [`Host: 127.0.0.1:${port}`, 'Host: evil.example']) {
      const s = net.connect(port, '127.0.0.1')
      await new Promise<void>((resolve) => s.once('connect', () => resolve()))
      s.write(`GET /ws HTTP/1.1\r\n${headers}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`)
      s.resetAndDestroy()
    }
    const closeOf = async (send: (ws: WebSocket) => void): Promise<number | undefined> => {
      const raw = await rawSocket(port, clientProtocols(TOKEN))
      send(raw.ws)
      for (;;) {
        const next = await raw.next()
        if (next.close) return next.close.code
      }
    }
    assert.equal(await closeOf((ws) => ws.send(Buffer.alloc(1024 * 1024 + 1, 0x61).toString())), 1009, 'a frame over 1 MiB')
    assert.equal(await closeOf((ws) => ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })), 1007, 'text that is not UTF-8')
    assert.equal(await closeOf((ws) => ws.send(Buffer.from('{}'), { binary: true })), 1003, 'a binary frame')
    await new Promise((resolve) => setTimeout(resolve, 100))
    const api = await connectWs(`http://127.0.0.1:${port}`, TOKEN, WS)
    assert.equal((await api.call('releases.pauseAll', {})).ok, true, 'the server lives on')
    api.close()
  })
})
