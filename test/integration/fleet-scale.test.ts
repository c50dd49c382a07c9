/**
 * A fleet of 5,000 servers, simulated by announces from 5,000 distinct loopback addresses (half
 * over HTTP, half over UDP with a real BEP 15 connect each): every one is in the fleet view, and
 * the tracker keeps them all (bittorrent-tracker's default keeps 1,000 and evicts the rest as if
 * they had stopped).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import path from 'node:path'
import { writeFile } from 'node:fs/promises'
import { bdecode } from '../../electron/engine/bencode.js'
import { pseudoRandom } from '../support/fixtures.js'
import { binaryQueryValue } from '../support/http-request.js'
import { publish, startTestEngine } from '../support/engine.js'
import { tempDir } from '../support/temp.js'
import { UDP_EVENT, UdpTrackerClient } from '../support/udp-tracker-client.js'

const SERVERS = 5000
const BATCH = 100

function peerId(n: number): Buffer {
  return Buffer.concat([Buffer.from('-qB4520-'), Buffer.from(n.toString(16).padStart(12, '0'))])
}

function httpAnnounce(port: number, localAddress: string, infoHash: Buffer, n: number, left: number): Promise<Buffer> {
  const query = `info_hash=${binaryQueryValue(infoHash)}&peer_id=${binaryQueryValue(peerId(n))}&port=6881&uploaded=0&downloaded=0&left=${left}&compact=1&event=started`
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/announce?${query}`, localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(Buffer.concat(chunks)))
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`announce from ${localAddress} timed out`)))
    req.on('error', reject)
  })
}

test('5,000 servers announcing over HTTP and UDP from distinct addresses: all in the fleet view, none evicted', { timeout: 200_000 }, async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const engine = await startTestEngine(path.join(dir, 'data'))
  t.after(() => engine.close())
  const file = path.join(dir, 'fleet-update.bin')
  await writeFile(file, pseudoRandom(1024 * 1024, 'scale'))
  const release = await publish(engine, [file])
  const infoHash = Buffer.from(release.infoHash, 'hex')
  const port = engine.httpPort
  // Nothing left to fetch: a seeder-like announce never makes the publisher dial back, so the
  // test measures the tracker and the model, not 5,000 refused TCP connections.
  const left = 0

  const started = Date.now()
  const addressOf = (n: number): string => `127.${n < SERVERS / 2 ? 1 : 2}.${Math.floor(n / 250)}.${(n % 250) + 1}`
  for (let from = 0; from < SERVERS; from += BATCH) {
    await Promise.all(
      Array.from({ length: BATCH }, async (_, i) => {
        const n = from + i
        if (n < SERVERS / 2) {
          const reply = await httpAnnounce(port, addressOf(n), infoHash, n, left)
          assert.match(reply.toString('latin1'), /8:intervali\d+e/, `HTTP announce ${n}`)
        } else {
          const client = new UdpTrackerClient(port, '127.0.0.1', addressOf(n))
          try {
            const reply = await client.announce({ infoHash, peerId: peerId(n), downloaded: 0n, left: BigInt(left), uploaded: 0n, event: UDP_EVENT.started, port: 6881 })
            assert.equal(reply.action, 'announce', `UDP announce ${n}: ${JSON.stringify(reply)}`)
          } finally {
            client.close()
          }
        }
      }),
    )
  }
  const seconds = (Date.now() - started) / 1000
  t.diagnostic(`${SERVERS} announces (half HTTP, half UDP with a connect each) in ${seconds.toFixed(1)} s`)

  const { rows } = await engine.handle('fleet.get', {})
  const ips = new Set(rows.map((r) => r.ip))
  for (let n = 0; n < SERVERS; n++) assert.ok(ips.has(addressOf(n)), `${addressOf(n)} is in the fleet view`)
  assert.equal(rows.length, SERVERS)
  assert.ok(rows.every((r) => r.cells[release.infoHash]?.state === 'complete'))

  // The tracker still holds every one of them (a scrape counts the swarm).
  const scrape = await new Promise<Buffer>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: `/scrape?info_hash=${binaryQueryValue(infoHash)}`, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(Buffer.concat(chunks)))
    }).on('error', reject)
  })
  const decoded = bdecode(scrape).value as { files: Map<string, unknown> | Record<string, { complete: bigint; incomplete: bigint }> }
  const files = decoded.files as Record<string, { complete: bigint; incomplete: bigint }>
  const counts = Object.values(files)[0]
  assert.ok(counts, `scrape reply: ${scrape.toString('latin1').slice(0, 200)}`)
  // Our own seeder is in the swarm too.
  assert.equal(Number(counts.complete), SERVERS + 1, 'none evicted')
  const snapshot = await engine.handle('snapshot.get', {})
  assert.equal(snapshot.rollouts[0]?.complete, SERVERS)
})
