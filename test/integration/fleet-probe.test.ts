/**
 * A server that drops its wire to us the moment it has every piece, and refuses our connections
 * until it has checked its data, is seen complete as soon as it takes a connection again, not a
 * dial window (20 s) later. A server that keeps its wire open and says nothing on it is seen
 * complete too: the silent wire is dropped and the server dialled. rTorrent 0.9.8 does both (see
 * Engine.dialUnfinished and silent-wires.ts), but only in some rollouts, so the server here is a
 * scripted BitTorrent peer: a mock of that timing, which speaks the real handshake and bitfield
 * to the engine's real seeder, tracker and fleet view.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { pseudoRandom } from '../support/fixtures.js'
import { binaryQueryValue, rawRequest } from '../support/http-request.js'
import { freePorts } from '../support/ports.js'
import { publish, startTestEngine, waitFor } from '../support/engine.js'
import { tempDir } from '../support/temp.js'
import type { FleetCell } from '../../shared/contract.js'

const PEER_ID = Buffer.from('-lt0D80-probeprobepr')

function handshakeAndBitfield(infoHash: string, pieceCount: number, have: number): Buffer {
  const bits = Buffer.alloc(Math.ceil(pieceCount / 8))
  for (let i = 0; i < have; i++) bits[i >> 3] = (bits[i >> 3] as number) | (0x80 >> (i & 7))
  const bitfield = Buffer.concat([Buffer.alloc(4), Buffer.from([5]), bits])
  bitfield.writeUInt32BE(1 + bits.length, 0)
  return Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocol'), Buffer.alloc(8), Buffer.from(infoHash, 'hex'), PEER_ID, bitfield])
}

/** The server's own connection to the seeder, as rTorrent makes one: its handshake and bitfield. */
async function dialSeeder(seederPort: number, infoHash: string, pieceCount: number, have: number): Promise<net.Socket> {
  const sock = net.connect({ port: seederPort, host: '127.0.0.1' })
  sock.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', () => resolve())
    sock.once('error', reject)
  })
  sock.write(handshakeAndBitfield(infoHash, pieceCount, have))
  // What the seeder sends is read and dropped, so its FIN is seen and the socket closes.
  sock.resume()
  return sock
}

/**
 * The server listening on `port` (its announced port), answering with its handshake and a
 * bitfield of its first `have` pieces; with `hangFirst`, its first connection is taken and never
 * answered.
 */
async function listenAsServer(port: number, infoHash: string, pieceCount: number, have: number, hangFirst = false): Promise<{ close: () => Promise<void>; connections: () => number }> {
  const sockets = new Set<net.Socket>()
  let connections = 0
  const server = net.createServer((sock) => {
    connections++
    sockets.add(sock)
    sock.on('error', () => {})
    sock.once('close', () => sockets.delete(sock))
    sock.resume()
    if (hangFirst && connections === 1) return
    sock.write(handshakeAndBitfield(infoHash, pieceCount, have))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  return {
    connections: () => connections,
    close: async () => {
      for (const sock of sockets) sock.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

interface HalfDone {
  release: { infoHash: string; pieceCount: number }
  /** The server's announced listen port, where nothing listens yet. */
  port: number
  /** The server's own connection to the seeder, as rTorrent makes one. */
  wire: net.Socket
  cellOf: () => Promise<FleetCell | undefined>
}

/**
 * A real engine seeding a fresh release, and a server half done with it: its own connection to
 * the seeder carries its bitfield, and its announce gives a listen port where nothing listens yet,
 * so our dial at the announce (one per window) is refused. Returns once the fleet view shows it.
 */
async function halfDoneServer(t: TestContext, seed: string): Promise<HalfDone> {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const engine = await startTestEngine(path.join(dir, 'data'))
  t.after(() => engine.close())
  const file = path.join(dir, 'vendor-update.bin')
  await writeFile(file, pseudoRandom(2 * 1024 * 1024, seed))
  const release = await publish(engine, [file])
  const [port] = await freePorts(1)
  const cellOf = async (): Promise<FleetCell | undefined> => (await engine.handle('fleet.get', {})).rows.find((r) => r.ip === '127.0.0.1')?.cells[release.infoHash]
  const half = Math.floor(release.pieceCount / 2)
  const wire = await dialSeeder(engine.peerPort, release.infoHash, release.pieceCount, half)
  t.after(() => void wire.destroy())
  const left = release.totalSize - half * release.pieceLength
  const announced = await rawRequest(engine.httpPort, `/announce?info_hash=${binaryQueryValue(Buffer.from(release.infoHash, 'hex'))}&peer_id=${binaryQueryValue(PEER_ID)}&port=${port}&uploaded=0&downloaded=0&left=${left}&compact=1&event=started`)
  assert.equal(announced.status, 200)
  await waitFor(async () => (await cellOf())?.percent === 0.5, 10_000, 'the fleet view to show the server half done')
  return { release, port: port as number, wire, cellOf }
}

/** The server hangs up its own wire to us (a FIN), as rTorrent does when it has every piece. */
async function hangUp(wire: net.Socket): Promise<void> {
  const closed = new Promise((resolve) => wire.once('close', resolve))
  wire.end()
  await closed
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

test('a server that drops its wire unfinished and refuses us while it checks its data is seen complete once it takes a connection again', { timeout: 60_000 }, async (t) => {
  const { release, port, wire, cellOf } = await halfDoneServer(t, 'probe')
  // Long enough for the wire to count as one the server kept (the engine's PROBE_AFTER_WIRE_MS).
  await sleep(5_500)
  assert.notEqual((await cellOf())?.state, 'complete')

  // It has every piece: it hangs up on us, and is not listening for 2 s while it checks.
  await hangUp(wire)
  await sleep(2_000)
  const finished = await listenAsServer(port, release.infoHash, release.pieceCount, release.pieceCount)
  t.after(() => finished.close())
  const listening = Date.now()
  // The engine's one dial per window went out at the announce, 8 s ago, and webtorrent retries
  // only its own dials: without the probe, nothing would dial it for another 12 s.
  await waitFor(async () => (await cellOf())?.state === 'complete', 6_000, 'the fleet view to see the server complete')
  t.diagnostic(`seen complete ${((Date.now() - listening) / 1000).toFixed(1)} s after it listened again`)
  assert.ok(finished.connections() >= 1)
})

test('a dial the server takes but never answers is closed after a few seconds, so the next dial reads its bitfield', { timeout: 60_000 }, async (t) => {
  const { release, port, wire, cellOf } = await halfDoneServer(t, 'hung')
  // Finished: it takes connections again at once, but leaves the first one unanswered, as
  // rTorrent did for 25 s while it finished (webtorrent's handshake timeout ended it).
  const finished = await listenAsServer(port, release.infoHash, release.pieceCount, release.pieceCount, true)
  t.after(() => finished.close())
  await sleep(5_500)
  await hangUp(wire)
  const hungUp = Date.now()
  await waitFor(async () => (await cellOf())?.state === 'complete', 10_000, 'the fleet view to see the server complete past the unanswered dial')
  t.diagnostic(`seen complete ${((Date.now() - hungUp) / 1000).toFixed(1)} s after its wire closed, over ${finished.connections()} connections`)
  assert.ok(finished.connections() >= 2, 'the unanswered dial was given up and the server dialled again')
})

test('a server that goes silent on its wire to us and finishes without a word is seen complete: the silent wire is dropped and the server dialled', { timeout: 60_000 }, async (t) => {
  // Half done, as rTorrent is when the publisher's copy is out: it keeps its wire to us open and
  // writes nothing on it, not even a keep-alive, since it asks us for nothing.
  const { release, port, wire, cellOf } = await halfDoneServer(t, 'silent')
  const wireClosed = new Promise<number>((resolve) => wire.once('close', () => resolve(Date.now())))
  const quietSince = Date.now()

  // It finishes, still saying nothing on that wire, and takes new connections.
  const finished = await listenAsServer(port, release.infoHash, release.pieceCount, release.pieceCount)
  t.after(() => finished.close())
  await waitFor(async () => (await cellOf())?.state === 'complete', 25_000, 'the fleet view to see the silent server complete')
  const closedAt = await wireClosed
  t.diagnostic(`silent wire dropped ${((closedAt - quietSince) / 1000).toFixed(1)} s after the fleet view showed it half done; seen complete ${((Date.now() - closedAt) / 1000).toFixed(1)} s after that`)
  assert.ok(closedAt - quietSince >= 10_000, 'the wire was not dropped before the silence limit (12 s)')
  assert.ok(finished.connections() >= 1, 'the engine dialled the server back')
})
