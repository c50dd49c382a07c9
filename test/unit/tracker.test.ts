import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash } from 'node:crypto'
import { clientPrefix, HOLD_REPLY_MAX_MS, Tracker, UNKNOWN_TORRENT, type AnnounceEvent, type TrackerOptions } from '../../electron/engine/tracker.js'
import { bdecode, type Decoded, type DecodedDict } from '../../electron/engine/bencode.js'
import { SwarmdropError } from '../../shared/errors.js'
import { binaryQueryValue, rawRequest } from '../support/http-request.js'
import { PROTOCOL_ID, UDP_EVENT, UdpTrackerClient, announcePacket, connectPacket, randomTransaction, scrapePacket, type UdpAnnounce } from '../support/udp-tracker-client.js'

const allowedHash = createHash('sha1').update('allowed release').digest()
const unknownHash = createHash('sha1').update('never published').digest()

function peerId(prefix: string): Buffer {
  return Buffer.concat([Buffer.from(prefix), createHash('sha1').update(prefix + Math.random()).digest().subarray(0, 20 - prefix.length)])
}

/** A tracker mounted on a real HTTP server, as LanServer mounts it, plus UDP on the same number. */
async function startTracker(options: { intervalSeconds?: number; allowed?: Set<string>; holdReply?: TrackerOptions['holdReply'] } = {}) {
  const allowed = options.allowed ?? new Set([allowedHash.toString('hex')])
  const tracker = new Tracker({ intervalSeconds: options.intervalSeconds ?? 30, isAllowed: (h) => allowed.has(h), holdReply: options.holdReply })
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
    assert.deepEqual(t.announces, [], 'a refused announce is not an announce')

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

const CONNECTION_ID_REFUSED = /^connection id expired or not issued to this address; send a connect request first$/

test('UDP connection ids (BEP 15): the constant is refused, ids are bound to the source address, and expire', async (ctx) => {
  // Only Date: the sockets' own timers must keep running for real.
  ctx.mock.timers.enable({ apis: ['Date'], now: Date.now() })
  const t = await startTracker()
  const alice = new UdpTrackerClient(t.port)
  const mallory = new UdpTrackerClient(t.port)
  try {
    const announce: UdpAnnounce = { infoHash: allowedHash, peerId: peerId('-TR3000-'), downloaded: 0n, left: 10n, uploaded: 0n, event: UDP_EVENT.started, port: 51413 }

    // A spoofed announce needs no connect today: the protocol constant would do.
    const spoofed = await mallory.exchange(announcePacket(PROTOCOL_ID, randomTransaction(), announce))
    assert.equal(spoofed.action, 'error', JSON.stringify(spoofed))
    if (spoofed.action === 'error') assert.match(spoofed.message, CONNECTION_ID_REFUSED)
    const spoofedScrape = await mallory.exchange(scrapePacket(PROTOCOL_ID, randomTransaction(), [allowedHash]))
    assert.equal(spoofedScrape.action, 'error')
    if (spoofedScrape.action === 'error') assert.match(spoofedScrape.message, CONNECTION_ID_REFUSED)

    const id = await alice.connect()
    assert.equal(id.length, 8)
    assert.ok(!id.equals(PROTOCOL_ID), 'a connect must hand out a real connection id, not the constant')

    // Another source port (same IP) cannot use Alice's id: it is tied to ip|port.
    const stolen = await mallory.exchange(announcePacket(id, randomTransaction(), announce))
    assert.equal(stolen.action, 'error')
    if (stolen.action === 'error') assert.match(stolen.message, CONNECTION_ID_REFUSED)
    const guessed = await mallory.exchange(announcePacket(Buffer.from('0123456789abcdef', 'hex'), randomTransaction(), announce))
    assert.equal(guessed.action, 'error')
    assert.equal(t.announces.length, 0, 'no refused packet may reach the announce event')
    assert.deepEqual(t.tracker.peers(allowedHash.toString('hex')), [])

    // BEP 15: a client may use its id for a minute; the tracker accepts it a little longer.
    ctx.mock.timers.tick(59_000)
    const ok = await alice.exchange(announcePacket(id, randomTransaction(), announce))
    assert.equal(ok.action, 'announce', JSON.stringify(ok))
    assert.equal(t.announces.length, 1)
    const scrape = await alice.exchange(scrapePacket(id, randomTransaction(), [allowedHash]))
    assert.deepEqual(scrape.action === 'scrape' ? scrape.files : scrape, [{ seeders: 0, completed: 0, leechers: 1 }])

    ctx.mock.timers.tick(62_000)
    const expired = await alice.exchange(announcePacket(id, randomTransaction(), { ...announce, event: UDP_EVENT.none }))
    assert.equal(expired.action, 'error')
    if (expired.action === 'error') assert.match(expired.message, CONNECTION_ID_REFUSED)
    assert.equal(t.announces.length, 1)

    // A fresh connect works again; a restarted tracker (a new secret) refuses the old ids.
    const fresh = await alice.connect()
    assert.equal((await alice.exchange(announcePacket(fresh, randomTransaction(), { ...announce, event: UDP_EVENT.none }))).action, 'announce')
    const other = await startTracker()
    try {
      const otherClient = new UdpTrackerClient(other.port)
      try {
        const firstId = await otherClient.connect()
        assert.ok(!firstId.equals(fresh))
        const cross = await otherClient.exchange(announcePacket(fresh, randomTransaction(), announce))
        assert.equal(cross.action, 'error')
      } finally {
        otherClient.close()
      }
    } finally {
      await other.close()
    }
  } finally {
    alice.close()
    mallory.close()
    await t.close()
  }
})

test("UDP announce: BEP 15's IP field is ignored; the peer is the packet's source address", async () => {
  const t = await startTracker()
  const client = new UdpTrackerClient(t.port)
  try {
    const reply = await client.announce({ infoHash: allowedHash, peerId: peerId('-TR3000-'), downloaded: 0n, left: 10n, uploaded: 0n, event: UDP_EVENT.started, port: 51413, ip: '10.9.8.7' })
    assert.equal(reply.action, 'announce', JSON.stringify(reply))
    assert.equal(t.announces.at(-1)?.ip, '127.0.0.1')
    assert.deepEqual(t.tracker.peers(allowedHash.toString('hex')).map((p) => `${p.ip}:${p.port}`), ['127.0.0.1:51413'])
    const seen = decodeDict((await rawRequest(t.port, announcePath({ infoHash: allowedHash, peerId: peerId('-qB4520-'), port: 6881, left: 10 }))).body)
    assert.deepEqual(compactPeers(seen.peers), ['127.0.0.1:51413'], 'other peers are never sent to the host the packet named')
  } finally {
    client.close()
    await t.close()
  }
})

/** mulberry32: a fixed seed makes a failing fuzz case reproducible. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let r = Math.imul(a ^ (a >>> 15), 1 | a)
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296
  }
}

/** Collects everything written to stderr, so a test can prove a request printed nothing. */
function captureStderr(): { text: () => string; restore: () => void } {
  const chunks: string[] = []
  const original = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString())
    return true
  }) as typeof process.stderr.write
  return { text: () => chunks.join(''), restore: () => { process.stderr.write = original } }
}

test('malformed announces over HTTP and UDP (fixed cases and seeded fuzz) get one-line reasons, print nothing, and valid announces still work', async () => {
  const t = await startTracker()
  const client = new UdpTrackerClient(t.port)
  const stderr = captureStderr()
  const random = seededRandom(0x5eed)
  const int = (n: number) => Math.floor(random() * n)
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)))
  try {
    // Someone in the swarm, so a bad compact value would have internal peer records to leak.
    const qb = peerId('-qB4520-')
    assert.equal(decodeDict((await rawRequest(t.port, announcePath({ infoHash: allowedHash, peerId: qb, port: 6881, left: 10, event: 'started' }))).body)['failure reason'], undefined)
    const before = t.announces.length

    const good = announcePath({ infoHash: allowedHash, peerId: peerId('-TR3000-'), port: 7000, left: 10 })
    const httpCases: [string, RegExp][] = [
      [good.replace('compact=1', 'compact=2'), /^invalid announce: compact must be 0 or 1$/],
      [good.replace('compact=1', 'compact=-1'), /compact must be 0 or 1/],
      [good.replace('compact=1', 'compact=yes'), /compact must be 0 or 1/],
      [good + '&compact=2', /compact is given more than once/],
      [good + '&compac%74=2', /compact is given more than once/],
      [good.replace(/&port=\d+/, ''), /port must be a number from 1 to 65535/],
      [good.replace(/port=\d+/, 'port=-1'), /port must be a number from 1 to 65535/],
      [good.replace(/port=\d+/, 'port=65536'), /port must be a number from 1 to 65535/],
      [good.replace(/port=\d+/, 'port='), /port must be a number from 1 to 65535/],
      [good + '&port=7001', /port is given more than once/],
      [good.replace(/info_hash=[^&]+/, `info_hash=${binaryQueryValue(allowedHash.subarray(0, 19))}`), /info_hash must be 20 bytes, got 19/],
      [good.replace(/info_hash=[^&]+/, `info_hash=${binaryQueryValue(Buffer.concat([allowedHash, Buffer.from([0])]))}`), /info_hash must be 20 bytes, got 21/],
      [good.replace(/peer_id=[^&]+/, `peer_id=${binaryQueryValue(qb.subarray(0, 19))}`), /peer_id must be 20 bytes, got 19/],
      [good.replace(/peer_id=[^&]+/, `peer_id=${binaryQueryValue(Buffer.concat([qb, qb]))}`), /peer_id must be 20 bytes, got 40/],
      [good.replace(/left=\d+/, 'left=-1'), /left must be a non-negative integer/],
      [good.replace(/left=\d+/, 'left=lots'), /left must be a non-negative integer/],
      [good.replace(/uploaded=\d+/, 'uploaded=-7'), /uploaded must be a non-negative integer/],
      [good.replace(/downloaded=\d+/, 'downloaded=1.5'), /downloaded must be a non-negative integer/],
      [good.replace(/downloaded=\d+/, 'downloaded=NaN'), /downloaded must be a non-negative integer/],
      [good.replace('numwant=50', 'numwant=-1'), /numwant must be an integer from 0 to 4294967295/],
      [good.replace('numwant=50', 'numwant=many'), /numwant must be an integer from 0 to 4294967295/],
      [good.replace('numwant=50', 'numwant=4294967296'), /numwant must be an integer from 0 to 4294967295/],
      [good.replace('numwant=50', 'numwant=1e999'), /numwant must be an integer from 0 to 4294967295/],
      [good.replace('numwant=50', 'numwant=' + '9'.repeat(400)), /numwant must be an integer from 0 to 4294967295/],
    ]
    for (const [path, reason] of httpCases) {
      const r = await rawRequest(t.port, path)
      assert.equal(r.status, 200, path)
      const body = decodeDict(r.body)
      assert.deepEqual(Object.keys(body), ['failure reason'], path)
      assert.match(text(body['failure reason']), reason, path)
      assert.doesNotMatch(text(body['failure reason']), /\n/, path)
    }
    assert.equal(t.announces.length, before, 'no malformed HTTP announce reaches the announce event')

    // A huge numwant that fits BEP 15's 32 bits is a wish, not an error: it is capped.
    const greedy = decodeDict((await rawRequest(t.port, good.replace('numwant=50', 'numwant=4294967295'))).body)
    assert.deepEqual(compactPeers(greedy.peers), ['127.0.0.1:6881'])

    // Seeded fuzz: a valid announce with one to three fields broken, dropped or repeated.
    const junk = () => {
      const kind = int(6)
      if (kind === 0) return binaryQueryValue(bytes(int(25)))
      if (kind === 1) return String(int(1e6))
      if (kind === 2) return '-' + String(int(1e6))
      if (kind === 3) return '9'.repeat(1 + int(40))
      if (kind === 4) return '%' + 'zZ%&='.charAt(int(5))
      return Array.from({ length: int(12) }, () => String.fromCharCode(0x21 + int(94))).join('').replace(/[#&]/g, '')
    }
    const names = ['info_hash', 'peer_id', 'port', 'left', 'uploaded', 'downloaded', 'compact', 'numwant', 'event', 'ip', 'key']
    for (let i = 0; i < 150; i++) {
      const fields = new Map([
        ['info_hash', binaryQueryValue(allowedHash)], ['peer_id', binaryQueryValue(peerId('-FZ0001-'))], ['port', String(1 + int(65535))],
        ['left', String(int(1000))], ['uploaded', '0'], ['downloaded', '0'], ['compact', String(int(2))],
      ])
      const extra: string[] = []
      for (let m = 1 + int(3); m > 0; m--) {
        const name = names[int(names.length)] ?? 'port'
        const how = int(3)
        if (how === 0) fields.delete(name)
        else if (how === 1) fields.set(name, junk())
        else extra.push(`${name}=${junk()}`)
      }
      const path = '/announce?' + [...[...fields].map(([k, v]) => `${k}=${v}`), ...extra].join('&')
      const r = await rawRequest(t.port, path)
      assert.equal(r.status, 200, path)
      const body = decodeDict(r.body)
      if (body['failure reason'] !== undefined) {
        assert.deepEqual(Object.keys(body), ['failure reason'], path)
        assert.doesNotMatch(text(body['failure reason']), /\n/, path)
      } else {
        assert.ok(typeof body.interval === 'bigint', path)
        const peers = body.peers
        if (!Buffer.isBuffer(peers)) {
          assert.ok(Array.isArray(peers), path)
          for (const p of peers) assert.deepEqual(Object.keys(p as DecodedDict).sort(), ['ip', 'peer id', 'port'], path)
        }
      }
      for (const leak of ['6:peerId', '4:type', '4:left', '6:socket']) assert.ok(!r.body.includes(`d${leak}`) && !r.body.includes(`e${leak}`), `${path} leaked ${leak}`)
    }

    // UDP, with a connection id of our own: each malformed packet gets a one-line error.
    const id = await client.connect()
    const valid = announcePacket(id, randomTransaction(), { infoHash: allowedHash, peerId: peerId('-TR3000-'), downloaded: 0n, left: 5n, uploaded: 0n, event: UDP_EVENT.none, port: 51413 })
    const withAction = (action: number, body: Buffer) => {
      const p = Buffer.concat([id, Buffer.alloc(8), body])
      p.writeUInt32BE(action, 8)
      p.writeUInt32BE(randomTransaction(), 12)
      return p
    }
    const badEvent = Buffer.from(valid)
    badEvent.writeUInt32BE(9, 80)
    badEvent.writeUInt32BE(randomTransaction(), 12)
    const unknownTorrent = Buffer.from(valid)
    unknownHash.copy(unknownTorrent, 16)
    unknownTorrent.writeUInt32BE(randomTransaction(), 12)
    const badConnect = connectPacket(randomTransaction())
    badConnect.writeUInt32BE(1, 0)
    const udpCases: [Buffer, RegExp][] = [
      [valid.subarray(0, 97), /malformed announce: 97 bytes, BEP 15 needs 98/],
      [badEvent, /malformed announce: unknown event 9/],
      [unknownTorrent, new RegExp(UNKNOWN_TORRENT)],
      [withAction(2, Buffer.alloc(0)), /malformed scrape/],
      [withAction(2, Buffer.alloc(25)), /malformed scrape/],
      [withAction(2, unknownHash), new RegExp(UNKNOWN_TORRENT)],
      [withAction(3, Buffer.alloc(4)), /unknown action 3/],
      [withAction(0xffffffff, Buffer.alloc(0)), /unknown action 4294967295/],
      [badConnect, /invalid connection id/],
    ]
    const beforeUdp = t.announces.length
    for (const [packet, reason] of udpCases) {
      const reply = await client.exchange(packet)
      assert.equal(reply.action, 'error', `${packet.toString('hex')}: ${JSON.stringify(reply)}`)
      if (reply.action === 'error') {
        assert.match(reply.message, reason)
        assert.doesNotMatch(reply.message, /\n/)
      }
    }
    assert.deepEqual(t.announces.slice(beforeUdp), [], 'no malformed UDP packet reaches the announce event')

    // Seeded fuzz: raw noise, noise behind a valid connection id, and a valid announce with its
    // numeric fields (event, IP field, numwant, port, counters) scrambled. A connect after each
    // batch is a barrier: the tracker handles datagrams in order.
    for (let batch = 0; batch < 6; batch++) {
      for (let i = 0; i < 50; i++) {
        client.send(bytes(int(120)))
        client.send(withAction(int(5), bytes(int(110))))
        const scrambled = Buffer.from(valid)
        bytes(42).copy(scrambled, 56)
        scrambled.writeUInt32BE(int(6), 80)
        scrambled.writeUInt32BE(randomTransaction(), 12)
        client.send(scrambled)
      }
      assert.equal((await client.exchange(connectPacket(randomTransaction()))).action, 'connect')
    }
    const udpAnnounces = t.announces.filter((a) => a.protocol === 'udp')
    assert.ok(udpAnnounces.length > 100, `the scrambled announces with a valid event were accepted (${udpAnnounces.length})`)
    assert.deepEqual([...new Set(udpAnnounces.map((a) => a.ip))], ['127.0.0.1'], 'only the source address is ever logged')
    assert.deepEqual([...new Set(t.tracker.peers(allowedHash.toString('hex')).map((p) => p.ip))], ['127.0.0.1'], 'only source addresses become peers')

    // Still answering valid announces on both protocols.
    const http = decodeDict((await rawRequest(t.port, announcePath({ infoHash: allowedHash, peerId: qb, port: 6881, left: 0, event: 'completed' }))).body)
    assert.equal(http['failure reason'], undefined)
    assert.equal(t.announces.at(-1)?.event, 'completed')
    const udp = await client.announce({ infoHash: allowedHash, peerId: peerId('-TR3000-'), downloaded: 0n, left: 0n, uploaded: 0n, event: UDP_EVENT.completed, port: 51414 })
    assert.equal(udp.action, 'announce', JSON.stringify(udp))
    assert.equal(t.announces.at(-1)?.port, 51414)
    assert.equal(stderr.text(), '', 'nothing may be printed for a client mistake')
  } finally {
    stderr.restore()
    client.close()
    await t.close()
  }
})

test('HTTP announce: the reply waits for the hold the announce listeners asked for (a dial connecting), at most HOLD_REPLY_MAX_MS', async () => {
  const holds = new Map<number, { promise: Promise<void>; release: () => void }>()
  const asked: string[] = []
  const t = await startTracker({
    holdReply: (infoHash, ip, port) => {
      asked.push(`${infoHash} ${ip} ${port}`)
      return holds.get(port)?.promise ?? null
    },
  })
  try {
    const holdFor = (port: number): (() => void) => {
      let release = (): void => {}
      const promise = new Promise<void>((r) => (release = r))
      holds.set(port, { promise, release })
      return release
    }
    const at = (): number => performance.now()
    // No hold: answered at once.
    let start = at()
    const plain = await rawRequest(t.port, announcePath({ infoHash: allowedHash, peerId: peerId('-qB4520-'), port: 7001, left: 10, event: 'started' }))
    assert.equal(plain.status, 200)
    assert.ok(at() - start < HOLD_REPLY_MAX_MS, 'no hold, no wait')
    assert.deepEqual(asked, [`${allowedHash.toString('hex')} 127.0.0.1 7001`], 'asked after the announce, with its release, address and port')

    // A hold released after 120 ms: the reply follows it, and the event came before the reply.
    const release = holdFor(7002)
    let eventAt = 0
    t.tracker.once('announce', () => (eventAt = at()))
    start = at()
    setTimeout(release, 120)
    const held = await rawRequest(t.port, announcePath({ infoHash: allowedHash, peerId: peerId('A2-1-36-0-'), port: 7002, left: 10, event: 'started' }))
    const heldFor = at() - start
    assert.equal(held.status, 200)
    assert.ok(heldFor >= 110 && heldFor < HOLD_REPLY_MAX_MS, `replied ${heldFor.toFixed(0)} ms after the announce, once the hold settled`)
    assert.ok(eventAt > 0 && eventAt - start < heldFor - 50, 'the announce event went out before the reply')
    assert.deepEqual(compactPeers(decodeDict(held.body).peers), ['127.0.0.1:7001'])

    // A hold that never settles (an unreachable peer) holds the reply HOLD_REPLY_MAX_MS, no longer.
    holdFor(7003)
    start = at()
    const stuck = await rawRequest(t.port, announcePath({ infoHash: allowedHash, peerId: peerId('-TR3000-'), port: 7003, left: 10, event: 'started' }))
    const stuckFor = at() - start
    assert.equal(stuck.status, 200)
    assert.ok(stuckFor >= HOLD_REPLY_MAX_MS - 10 && stuckFor < HOLD_REPLY_MAX_MS + 1000, `replied after ${stuckFor.toFixed(0)} ms`)
    assert.equal(decodeDict(stuck.body).interval !== undefined, true)
  } finally {
    await t.close()
  }
})

test('a client prefix is the peer id\'s first 8 bytes, with a dot for each byte that is not printable', () => {
  assert.equal(clientPrefix(Buffer.from('-TR3000-abcdefghijkl').toString('hex')), '-TR3000-')
  assert.equal(clientPrefix(Buffer.from([0x00, 0x41, 0x7f, 0x20, 0xff, 0x2d, 0x7e, 0x1f, 0x41, 0x41]).toString('hex')), '.A. .-~.')
  assert.equal(clientPrefix('4142'), 'AB', 'shorter ids give what they have')
})
