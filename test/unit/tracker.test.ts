import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash } from 'node:crypto'
import { Tracker, UNKNOWN_TORRENT, type AnnounceEvent } from '../../electron/engine/tracker.js'
import { bdecode, type Decoded, type DecodedDict } from '../../electron/engine/bencode.js'
import { SwarmdropError } from '../../shared/errors.js'
import { binaryQueryValue, rawRequest } from '../support/http-request.js'
import { UDP_EVENT, UdpTrackerClient, connectPacket, randomTransaction } from '../support/udp-tracker-client.js'

const allowedHash = createHash('sha1').update('allowed release').digest()
const unknownHash = createHash('sha1').update('never published').digest()

function peerId(prefix: string): Buffer {
  return Buffer.concat([Buffer.from(prefix), createHash('sha1').update(prefix + Math.random()).digest().subarray(0, 20 - prefix.length)])
}

/** A tracker mounted on a real HTTP server, as LanServer mounts it, plus UDP on the same number. */
async function startTracker(options: { intervalSeconds?: number; allowed?: Set<string> } = {}) {
  const allowed = options.allowed ?? new Set([allowedHash.toString('hex')])
  const tracker = new Tracker({ intervalSeconds: options.intervalSeconds ?? 30, isAllowed: (h) => allowed.has(h) })
  const announces: AnnounceEvent[] = []
  tracker.on('announce', (e) => announces.push(e))
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]
    if (path === '/announce' || path === '/scrape') return tracker.handleHttp(req, res)
    res.statusCode = 404
    res.end('not found')
  })
  // The UDP half needs the same number; retry on the rare clash with another test's socket.
  for (let attempt = 0; ; attempt++) {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    try {
      await tracker.listenUdp(port, '127.0.0.1')
      const close = async () => {
        await tracker.close()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      }
      return { tracker, port, announces, allowed, close }
    } catch (err) {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      if (attempt >= 5) throw err
    }
  }
}

function announcePath(fields: { infoHash: Buffer; peerId: Buffer; port: number; left: number; event?: string; uploaded?: number; downloaded?: number }): string {
  const q = [
    `info_hash=${binaryQueryValue(fields.infoHash)}`,
    `peer_id=${binaryQueryValue(fields.peerId)}`,
    `port=${fields.port}`,
    `uploaded=${fields.uploaded ?? 0}`,
    `downloaded=${fields.downloaded ?? 0}`,
    `left=${fields.left}`,
    'compact=1',
    'numwant=50',
  ]
  if (fields.event) q.push(`event=${fields.event}`)
  return `/announce?${q.join('&')}`
}

function decodeDict(body: Buffer): DecodedDict {
  const v = bdecode(body).value
  assert.ok(typeof v === 'object' && !Buffer.isBuffer(v) && !Array.isArray(v), `not a bencoded dictionary: ${body.toString('latin1')}`)
  return v
}

function text(v: Decoded | undefined): string {
  assert.ok(Buffer.isBuffer(v), 'expected a string')
  return v.toString('utf8')
}

function compactPeers(v: Decoded | undefined): string[] {
  assert.ok(Buffer.isBuffer(v), 'expected compact peers')
  const out: string[] = []
  for (let o = 0; o + 6 <= v.length; o += 6) out.push(`${[...v.subarray(o, o + 4)].join('.')}:${v.readUInt16BE(o + 4)}`)
  return out
}

test('HTTP announce: allowed hash gets interval, min interval and peers without itself; event fields are filled', async () => {
  const t = await startTracker()
  try {
    const qb = peerId('-qB4520-')
    const first = decodeDict((await rawRequest(t.port, announcePath({ infoHash: allowedHash, peerId: qb, port: 6881, left: 1000, event: 'started', downloaded: 24 }))).body)
    assert.equal(first['failure reason'], undefined)
    assert.equal(first.interval, 30n)
    assert.equal(first['min interval'], 10n)
    assert.deepEqual(compactPeers(first.peers), [], 'a peer must never be handed its own address')

    const aria = peerId('A2-1-36-')
    const second = decodeDict((await rawRequest(t.port, announcePath({ infoHash: allowedHash, peerId: aria, port: 6882, left: 0, event: 'started', uploaded: 5 }))).body)
    assert.deepEqual(compactPeers(second.peers), ['127.0.0.1:6881'])

    // The first peer re-announces and now sees only the second.
    const again = decodeDict((await rawRequest(t.port, announcePath({ infoHash: allowedHash, peerId: qb, port: 6881, left: 400 }))).body)
    assert.deepEqual(compactPeers(again.peers), ['127.0.0.1:6882'])

    assert.equal(t.announces.length, 3)
    const [a0, a1, a2] = t.announces
    assert.deepEqual({ ...a0, at: 0 }, {
      infoHash: allowedHash.toString('hex'),
      ip: '127.0.0.1',
      port: 6881,
      peerId: qb.toString('hex'),
      clientPrefix: '-qB4520-',
      event: 'started',
      left: 1000,
      downloaded: 24,
      uploaded: 0,
      protocol: 'http',
      at: 0,
    })
    assert.ok(a0 && Math.abs(a0.at - Date.now()) < 10_000)
    assert.equal(a1?.clientPrefix, 'A2-1-36-')
    assert.equal(a1?.uploaded, 5)
    assert.equal(a2?.event, 'update')
    assert.equal(a2?.left, 400)

    const peers = t.tracker.peers(allowedHash.toString('hex')).sort((x, y) => x.port - y.port)
    assert.deepEqual(peers, [
      { ip: '127.0.0.1', port: 6881, peerId: qb.toString('hex'), left: 400, complete: false },
      { ip: '127.0.0.1', port: 6882, peerId: aria.toString('hex'), left: 0, complete: true },
    ])

    t.tracker.setInterval(45)
    const later = decodeDict((await rawRequest(t.port, announcePath({ infoHash: allowedHash, peerId: aria, port: 6882, left: 0, event: 'stopped' }))).body)
    assert.equal(later.interval, 45n)
    assert.equal(t.announces.at(-1)?.event, 'stopped')
    assert.deepEqual(t.tracker.peers(allowedHash.toString('hex')).map((p) => p.port), [6881])
  } finally {
    await t.close()
  }
})

test('HTTP: unknown info-hash, malformed announces and scrapes get failure reasons; the tracker keeps answering', async () => {
  const t = await startTracker()
  try {
    const unknown = await rawRequest(t.port, announcePath({ infoHash: unknownHash, peerId: peerId('-TR3000-'), port: 51413, left: 10, event: 'started' }))
    assert.equal(text(decodeDict(unknown.body)['failure reason']), UNKNOWN_TORRENT)
    assert.deepEqual(t.tracker.peers(unknownHash.toString('hex')), [])

    const good = announcePath({ infoHash: allowedHash, peerId: peerId('-qB4520-'), port: 7000, left: 10 })
    const malformed: [string, RegExp][] = [
      ['/announce', /info_hash is missing/],
      [good.replace(/info_hash=[^&]+/, 'info_hash=abc'), /info_hash must be 20 bytes, got 3/],
      [good.replace(/info_hash=[^&]+/, 'info_hash=%zz%41'), /info_hash is not correctly percent-encoded/],
      [good.replace(/peer_id=[^&]+/, 'peer_id=short'), /peer_id must be 20 bytes/],
      [good.replace(/port=\d+/, 'port=0'), /port must be a number from 1 to 65535/],
      [good.replace(/port=\d+/, 'port=99999'), /port must be a number from 1 to 65535/],
      [good.replace(/port=\d+/, 'port=http'), /port must be a number/],
      [good.replace(/left=\d+/, 'left=-5'), /left must be a non-negative integer/],
      [good.replace(/&left=\d+/, ''), /left is missing/],
      [good + '&event=exploded', /unknown event "exploded"/],
      ['/scrape', /info_hash is required/],
      [`/scrape?info_hash=${binaryQueryValue(unknownHash)}`, new RegExp(UNKNOWN_TORRENT)],
      [`/scrape?info_hash=${binaryQueryValue(allowedHash)}&info_hash=${binaryQueryValue(unknownHash)}`, new RegExp(UNKNOWN_TORRENT)],
      [`/scrape?info_hash=%00`, /invalid info_hash/],
    ]
    for (const [path, reason] of malformed) {
      const r = await rawRequest(t.port, path)
      assert.equal(r.status, 200, path)
      assert.match(text(decodeDict(r.body)['failure reason']), reason, path)
    }
    const post = await rawRequest(t.port, good, { method: 'POST' })
    assert.equal(post.status, 405)
    assert.match(text(decodeDict(post.body)['failure reason']), /only answer GET/)

    // Still up, and the allowed hash still works, including a scrape.
    const ok = decodeDict((await rawRequest(t.port, good)).body)
    assert.equal(ok['failure reason'], undefined)
    const scrape = decodeDict((await rawRequest(t.port, `/scrape?info_hash=${binaryQueryValue(allowedHash)}`)).body)
    const files = scrape.files as DecodedDict
    const entry = files[allowedHash.toString('latin1')] as DecodedDict | undefined
    assert.ok(entry, 'scrape lists the allowed hash')
    assert.equal(entry.incomplete, 1n)
    assert.equal(Object.keys(files).length, 1)
  } finally {
    await t.close()
  }
})

test('retiring a release makes the tracker refuse it and forget its swarm', async () => {
  const t = await startTracker()
  try {
    const hex = allowedHash.toString('hex')
    const path = announcePath({ infoHash: allowedHash, peerId: peerId('-qB4520-'), port: 7001, left: 10, event: 'started' })
    assert.equal(decodeDict((await rawRequest(t.port, path)).body)['failure reason'], undefined)
    assert.equal(t.tracker.peers(hex).length, 1)
    t.allowed.delete(hex)
    assert.deepEqual(t.tracker.peers(hex), [])
    assert.equal(text(decodeDict((await rawRequest(t.port, path)).body)['failure reason']), UNKNOWN_TORRENT)
    t.allowed.add(hex)
    assert.deepEqual(t.tracker.peers(hex), [], 'the old swarm was dropped, not resurrected')
  } finally {
    await t.close()
  }
})

test('/stats is not served: bittorrent-tracker would publish every swarm and client there', async () => {
  const t = await startTracker()
  try {
    for (const path of ['/stats', '/stats.json']) {
      const r = await rawRequest(t.port, path, { headers: { accept: 'application/json' } })
      assert.equal(r.status, 404, path)
      assert.doesNotMatch(r.body.toString(), /torrents|peersAll|Connected Peers/)
    }
  } finally {
    await t.close()
  }
})

test('UDP (BEP 15): connect + announce for an allowed hash, a failure for an unknown hash and for malformed packets', async () => {
  const t = await startTracker({ intervalSeconds: 20 })
  const client = new UdpTrackerClient(t.port)
  try {
    const httpPeer = peerId('-qB4520-')
    await rawRequest(t.port, announcePath({ infoHash: allowedHash, peerId: httpPeer, port: 6881, left: 100, event: 'started' }))

    const tr = peerId('-TR3000-')
    const reply = await client.announce({ infoHash: allowedHash, peerId: tr, downloaded: 7n, left: 4096n, uploaded: 3n, event: UDP_EVENT.started, port: 51413 })
    assert.equal(reply.action, 'announce', JSON.stringify(reply))
    if (reply.action !== 'announce') return
    assert.equal(reply.interval, 20)
    assert.deepEqual(reply.peers, [{ ip: '127.0.0.1', port: 6881 }], 'the HTTP peer, and not the announcing peer itself')
    assert.equal(reply.leechers, 2)

    const udpEvent = t.announces.at(-1)
    assert.deepEqual({ ...udpEvent, at: 0 }, {
      infoHash: allowedHash.toString('hex'),
      ip: '127.0.0.1',
      port: 51413,
      peerId: tr.toString('hex'),
      clientPrefix: '-TR3000-',
      event: 'started',
      left: 4096,
      downloaded: 7,
      uploaded: 3,
      protocol: 'udp',
      at: 0,
    })

    const unknown = await client.announce({ infoHash: unknownHash, peerId: tr, downloaded: 0n, left: 1n, uploaded: 0n, event: UDP_EVENT.started, port: 51413 })
    assert.deepEqual(unknown.action === 'error' ? unknown.message : unknown, UNKNOWN_TORRENT)

    // A truncated announce: the library alone would drop it silently; the client deserves a reason.
    const connectionId = await client.connect()
    const truncated = Buffer.alloc(40)
    connectionId.copy(truncated, 0)
    truncated.writeUInt32BE(1, 8)
    truncated.writeUInt32BE(randomTransaction(), 12)
    const shortReply = await client.exchange(truncated)
    assert.equal(shortReply.action, 'error')
    if (shortReply.action === 'error') assert.match(shortReply.message, /malformed announce: 40 bytes, BEP 15 needs 98/)

    const badConnection = connectPacket(randomTransaction())
    badConnection.writeUInt32BE(0xdeadbeef, 0)
    const badReply = await client.exchange(badConnection)
    assert.equal(badReply.action, 'error')
    if (badReply.action === 'error') assert.match(badReply.message, /invalid connection id/)

    const badAction = connectPacket(randomTransaction())
    badAction.writeUInt32BE(9, 8)
    const actionReply = await client.exchange(badAction)
    assert.equal(actionReply.action, 'error')
    if (actionReply.action === 'error') assert.match(actionReply.message, /unknown action 9/)

    // Still answering.
    const after = await client.announce({ infoHash: allowedHash, peerId: tr, downloaded: 0n, left: 0n, uploaded: 0n, event: UDP_EVENT.completed, port: 51413 })
    assert.equal(after.action, 'announce')
    assert.equal(t.announces.at(-1)?.event, 'completed')
  } finally {
    client.close()
    await t.close()
  }
})

test('UDP port in use: PORT_IN_USE naming the port', async () => {
  const blocker = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => blocker.bind(0, '127.0.0.1', resolve))
  const port = blocker.address().port
  const tracker = new Tracker({ intervalSeconds: 30, isAllowed: () => true })
  try {
    await assert.rejects(tracker.listenUdp(port, '127.0.0.1'), (err: unknown) => {
      assert.ok(err instanceof SwarmdropError)
      assert.equal(err.code, 'PORT_IN_USE')
      assert.match(err.message, new RegExp(`UDP port ${port} is already in use by another program \\(UDP\\)`))
      assert.match(err.message, /--http-port/)
      return true
    })
  } finally {
    await tracker.close()
    blocker.close()
  }
})

test('invalid interval is refused with INVALID_ARGUMENT', () => {
  assert.throws(() => new Tracker({ intervalSeconds: 0, isAllowed: () => true }), (err: unknown) => err instanceof SwarmdropError && err.code === 'INVALID_ARGUMENT')
})
