/**
 * 100,000 servers in one swarm, through the tracker's real HTTP announce path: every one is held
 * and counted, and the replies draw their peers from all of them. The announces are pipelined
 * over a few keep-alive connections from two loopback addresses (50,000 announced ports each),
 * so the test costs seconds, not the minutes 100,000 separate connections would.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { MAX_PEERS_PER_SWARM, Tracker } from '../../electron/engine/tracker.js'
import { bdecode, type DecodedDict } from '../../electron/engine/bencode.js'
import { binaryQueryValue, rawRequest } from '../support/http-request.js'

const SERVERS = 100_000
const ADDRESSES = ['127.0.0.1', '127.0.0.2']
const CONNECTIONS_PER_ADDRESS = 4
const hash = createHash('sha1').update('fleet-wide release').digest()

function peerId(n: number): string {
  return binaryQueryValue(Buffer.from(`-qB4520-${String(n).padStart(12, '0')}`))
}

/** Odd servers have finished, even ones are still downloading. */
function announcePath(n: number, port: number): string {
  return `/announce?info_hash=${binaryQueryValue(hash)}&peer_id=${peerId(n)}&port=${port}&uploaded=0&downloaded=0&left=${n % 2 ? 0 : 4096}&compact=1&numwant=1&event=started`
}

/** Sends every path down one connection without waiting, and reads the replies back in order. */
function pipelined(port: number, localAddress: string, paths: string[]): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress })
    const bodies: Buffer[] = []
    let pending = Buffer.alloc(0)
    socket.setTimeout(25_000, () => socket.destroy(new Error(`no reply for ${paths.length - bodies.length} announces from ${localAddress}`)))
    socket.on('error', reject)
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      for (;;) {
        const end = pending.indexOf('\r\n\r\n')
        if (end < 0) break
        const length = Number(/content-length: (\d+)/i.exec(pending.subarray(0, end).toString('latin1'))?.[1] ?? NaN)
        if (!Number.isInteger(length)) return socket.destroy(new Error(`a reply without Content-Length: ${pending.subarray(0, end).toString('latin1')}`))
        if (pending.length < end + 4 + length) break
        bodies.push(pending.subarray(end + 4, end + 4 + length))
        pending = pending.subarray(end + 4 + length)
      }
      if (bodies.length === paths.length) {
        socket.end()
        resolve(bodies)
      }
    })
    socket.on('connect', () => {
      socket.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: tracker\r\n\r\n`).join(''))
    })
  })
}

test(`${SERVERS.toLocaleString('en')} peers in one swarm are all held, counted and handed out`, { timeout: 60_000 }, async () => {
  assert.ok(MAX_PEERS_PER_SWARM >= SERVERS)
  const tracker = new Tracker({ intervalSeconds: 30, isAllowed: (h) => h === hash.toString('hex') })
  const server = http.createServer((req, res) => tracker.handleHttp(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  try {
    const perAddress = SERVERS / ADDRESSES.length
    const jobs: Promise<Buffer[]>[] = []
    ADDRESSES.forEach((address, a) => {
      for (let c = 0; c < CONNECTIONS_PER_ADDRESS; c++) {
        const paths: string[] = []
        // Announced ports 1..50,000 on each address; server n is address a, port i + 1.
        for (let i = c; i < perAddress; i += CONNECTIONS_PER_ADDRESS) paths.push(announcePath(a * perAddress + i, i + 1))
        jobs.push(pipelined(port, address, paths))
      }
    })
    const replies = (await Promise.all(jobs)).flat()
    assert.equal(replies.length, SERVERS)
    for (const body of replies) assert.ok(body.subarray(0, 11).toString('latin1') === 'd8:complete', `a refused announce: ${body.toString('latin1')}`)

    const peers = tracker.peers(hash.toString('hex'))
    assert.equal(peers.length, SERVERS, 'every server is held')
    assert.equal(new Set(peers.map((p) => `${p.ip}:${p.port}`)).size, SERVERS)
    assert.equal(peers.filter((p) => p.complete).length, SERVERS / 2)

    // A re-announce (server 0: 127.0.0.1, port 1) is counted with all of them and handed 50
    // distinct peers from the whole swarm, never itself.
    const reply = bdecode((await rawRequest(port, announcePath(0, 1).replace('numwant=1', 'numwant=50').replace('&event=started', ''))).body).value as DecodedDict
    assert.equal(reply.complete, BigInt(SERVERS / 2))
    assert.equal(reply.incomplete, BigInt(SERVERS / 2))
    const compact = reply.peers as Buffer
    const handedOut = new Set<string>()
    for (let o = 0; o < compact.length; o += 6) handedOut.add(`${[...compact.subarray(o, o + 4)].join('.')}:${compact.readUInt16BE(o + 4)}`)
    assert.equal(handedOut.size, 50)
    assert.ok(!handedOut.has('127.0.0.1:1'), 'never the announcing peer itself')

    // The swarm is full: one more server makes the longest-silent one leave, the count stays.
    const newcomer = bdecode((await rawRequest(port, announcePath(SERVERS, 60_001))).body).value as DecodedDict
    assert.equal(Number(newcomer.complete) + Number(newcomer.incomplete), Math.min(SERVERS + 1, MAX_PEERS_PER_SWARM))
    assert.ok(tracker.peers(hash.toString('hex')).some((p) => p.port === 60_001))
  } finally {
    await tracker.close()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})
