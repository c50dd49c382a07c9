/** The peers table's memory of connections that just closed (renderer/departed-peers.ts). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { NO_DEPARTED, peerRows, recordCompletion, trackDepartures } from '../../renderer/departed-peers.js'
import { makePeer, makeSnapshot } from '../support/fake-api.js'

const IH = 'a'.repeat(40)

test('a server that hangs up stays as a departed row, and turns 100 % on its completion', () => {
  const aria = makePeer(1, IH, { id: '10.0.0.5:40001', ip: '10.0.0.5', port: 40001, client: 'aria2', progress: 0.97 })
  const before = makeSnapshot({ at: 1000, peers: [aria] })
  const after = makeSnapshot({ at: 2000, peers: [] })
  let departed = trackDepartures(NO_DEPARTED, before, after)
  assert.deepEqual(peerRows(after.peers, departed, IH).map((r) => [r.id, r.departedAt, r.progress]), [['10.0.0.5:40001', 2000, 0.97]])
  departed = recordCompletion(departed, IH, '10.0.0.5', 2100)
  assert.equal(peerRows(after.peers, departed, IH)[0]?.progress, 1)
})

test('the same server back on a new connection is one row, not a departed one beside a live one', () => {
  const incoming = makePeer(1, IH, { id: '10.0.0.5:40001', ip: '10.0.0.5', port: 40001, client: 'aria2', progress: 0.97 })
  const dialled = makePeer(1, IH, { id: '10.0.0.5:6881', ip: '10.0.0.5', port: 6881, client: 'aria2', progress: 1 })
  const first = makeSnapshot({ at: 1000, peers: [incoming] })
  const gone = makeSnapshot({ at: 2000, peers: [] })
  const back = makeSnapshot({ at: 3000, peers: [dialled] })
  let departed = trackDepartures(NO_DEPARTED, first, gone)
  departed = trackDepartures(departed, gone, back)
  assert.deepEqual(peerRows(back.peers, departed, IH).map((r) => [r.id, r.departedAt]), [['10.0.0.5:6881', null]])
  // Swapped in one step (closed and reopened between two snapshots): still one row.
  const swapped = trackDepartures(NO_DEPARTED, first, back)
  assert.deepEqual(peerRows(back.peers, swapped, IH).map((r) => r.id), ['10.0.0.5:6881'])
})

test('two clients on one host are two servers: one leaving is kept beside the other', () => {
  const qbt = makePeer(1, IH, { id: '127.0.0.1:40001', ip: '127.0.0.1', port: 40001, client: 'qBittorrent' })
  const aria = makePeer(2, IH, { id: '127.0.0.1:40002', ip: '127.0.0.1', port: 40002, client: 'aria2' })
  const departed = trackDepartures(NO_DEPARTED, makeSnapshot({ at: 1000, peers: [qbt, aria] }), makeSnapshot({ at: 2000, peers: [qbt] }))
  assert.deepEqual(peerRows([qbt], departed, IH).map((r) => [r.client, r.departedAt]), [['qBittorrent', null], ['aria2', 2000]])
})
