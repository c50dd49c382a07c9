import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { ConnectionCap } from '../../electron/engine/connection-caps.js'
import { validateSettings } from '../../electron/engine/settings-store.js'
import { waitFor } from '../support/engine.js'

/** Opens a connection from `from` and resolves with whether the server's handler answered it (it writes one byte) or it was closed. */
function dial(port: number, from: string, sockets: net.Socket[]): Promise<'answered' | 'closed'> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress: from })
    sockets.push(sock)
    sock.on('error', () => undefined)
    sock.once('data', () => resolve('answered'))
    sock.once('close', () => resolve('closed'))
  })
}

test('connections past the cap from one address are closed before the server\'s own handler sees them; other addresses, closes and a raised limit make room', async (t) => {
  const server = net.createServer()
  const handled: string[] = []
  // The server's own handler, as webtorrent's peer pool or Node's HTTP parser registers it.
  server.on('connection', (socket) => {
    handled.push(socket.remoteAddress ?? '')
    socket.write('x')
  })
  let limit = 3
  const refused: [string, number][] = []
  // Dual-stack when the machine has IPv6: connections to 127.0.0.1 then show as ::ffff:127.0.0.1.
  const host = await new Promise<string>((resolve) => {
    server.once('error', () => server.listen(0, '127.0.0.1', () => resolve('127.0.0.1')))
    server.listen(0, '::', () => resolve('::'))
  })
  const cap = new ConnectionCap(() => limit, (ip, max) => refused.push([ip, max]))
  cap.gate(server)
  const sockets: net.Socket[] = []
  t.after(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  const port = (server.address() as net.AddressInfo).port
  t.diagnostic(`listening on ${host}`)

  const first = await Promise.all(Array.from({ length: 5 }, () => dial(port, '127.0.0.5', sockets)))
  assert.equal(first.filter((r) => r === 'answered').length, 3)
  assert.equal(first.filter((r) => r === 'closed').length, 2)
  assert.equal(handled.length, 3, 'the refused ones never reached the handler')
  assert.equal(cap.openFrom('127.0.0.5'), 3)
  assert.equal(cap.openFrom('::ffff:127.0.0.5'), 3, 'IPv4-mapped and plain forms are one address')
  assert.deepEqual(refused, [['127.0.0.5', 3], ['127.0.0.5', 3]])

  assert.equal(await dial(port, '127.0.0.6', sockets), 'answered', 'another address has its own count')

  // One of the three closes: its place is free again.
  sockets.find((s) => !s.destroyed && s.localAddress === '127.0.0.5')?.destroy()
  await waitFor(() => cap.openFrom('127.0.0.5') === 2, 2000, 'the close to be counted')
  assert.equal(await dial(port, '127.0.0.5', sockets), 'answered')
  assert.equal(await dial(port, '127.0.0.5', sockets), 'closed')

  // A raised limit applies to the next connection.
  limit = 4
  assert.equal(await dial(port, '127.0.0.5', sockets), 'answered')
  assert.equal(cap.openFrom('127.0.0.5'), 4)
})

test('the peer port\'s cap is a setting: a whole number from 1 up, with the reason in the error', () => {
  assert.equal(validateSettings({ peerConnectionsPerAddress: 200 }).peerConnectionsPerAddress, 200)
  for (const bad of [0, -1, 2.5, '32', 70_000]) {
    assert.throws(() => validateSettings({ peerConnectionsPerAddress: bad as number }), /peerConnectionsPerAddress must be a whole number from 1 to 65535 \(servers behind one NAT address share it\)/)
  }
})

test('two servers gated by one cap share its count, as the peer port\'s TCP and uTP listeners do', async (t) => {
  const cap = new ConnectionCap(() => 2)
  const servers = [net.createServer((s) => s.write('x')), net.createServer((s) => s.write('x'))]
  const sockets: net.Socket[] = []
  t.after(() => {
    for (const s of sockets) s.destroy()
    for (const s of servers) s.close()
  })
  const ports: number[] = []
  for (const server of servers) {
    cap.gate(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    ports.push((server.address() as net.AddressInfo).port)
  }
  assert.equal(await dial(ports[0]!, '127.0.0.7', sockets), 'answered')
  assert.equal(await dial(ports[1]!, '127.0.0.7', sockets), 'answered')
  assert.equal(await dial(ports[1]!, '127.0.0.7', sockets), 'closed')
  assert.equal(await dial(ports[0]!, '127.0.0.7', sockets), 'closed')
  assert.equal(cap.openFrom('127.0.0.7'), 2)
})
