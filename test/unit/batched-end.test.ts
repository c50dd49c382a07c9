import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { endBatched } from '../../electron/engine/batched-end.js'

function listen(handler: http.RequestListener): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(handler)
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })))
}

test('replies ended in one turn all arrive, each with its own body, after the turn', async () => {
  const endedAtQueue: boolean[] = []
  const endedAfterTurn: boolean[] = []
  const { server, port } = await listen((req, res) => {
    endBatched(res, Buffer.from(`reply to ${req.url}`))
    endedAtQueue.push(res.writableEnded)
    setImmediate(() => endedAfterTurn.push(res.writableEnded))
  })
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 })
    const bodies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        new Promise<string>((resolve, reject) => {
          http.get({ port, host: '127.0.0.1', path: `/${i}`, agent }, (res) => {
            let body = ''
            res.on('data', (c: Buffer) => (body += c.toString()))
            res.on('end', () => resolve(body))
          }).on('error', reject)
        }),
      ),
    )
    agent.destroy()
    assert.deepEqual(bodies, Array.from({ length: 40 }, (_, i) => `reply to /${i}`))
    assert.ok(endedAtQueue.every((ended) => !ended), 'nothing is ended while the turn still reads requests')
    assert.equal(endedAfterTurn.filter(Boolean).length, 40, 'every reply is ended by the end of its turn')
  } finally {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  }
})

test('a client that hung up before its reply went out costs nothing: no throw, and later replies still go', async () => {
  let first = true
  const { server, port } = await listen((_req, res) => {
    if (first) {
      first = false
      // Gone before the batch flushes.
      res.destroy()
    }
    endBatched(res, Buffer.from('ok'))
  })
  try {
    const hungUp = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
      let got = ''
      s.on('data', (d) => (got += d.toString()))
      s.on('close', () => resolve(got))
      s.on('error', () => resolve(got))
    })
    assert.equal(hungUp, '', 'the destroyed response sent nothing')
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ port, host: '127.0.0.1', path: '/', agent: false }, (res) => {
        let b = ''
        res.on('data', (c: Buffer) => (b += c.toString()))
        res.on('end', () => resolve(b))
      }).on('error', reject)
    })
    assert.equal(body, 'ok')
  } finally {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  }
})
