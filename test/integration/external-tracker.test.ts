/**
 * opentracker as the external tracker, on a namespace LAN: `swarmdrop serve` at 10.77.0.1 with
 * Debian's opentracker (whitelist mode) next to it on port 6969, and three aria2c servers at
 * 10.77.0.11-13. Swarmdrop writes opentracker's whitelist and signals it to re-read it; the
 * .torrent names opentracker, the servers find the seeder through it and download byte-identical
 * copies, opentracker refuses what Swarmdrop did not publish, and the fleet view (which gets no
 * announces at all) still shows every server complete, from .torrent fetches and wires.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { bdecode, type DecodedDict } from '../../electron/engine/bencode.js'
import type { FleetRow, Snapshot } from '../../shared/contract.js'
import { startAria2 } from '../support/aria2.js'
import { supervise, type Supervised } from '../support/child-process.js'
import { pseudoRandom } from '../support/fixtures.js'
import { createLan, type Lan } from '../support/netns.js'
import { BIN, runProcess } from '../support/run-cli.js'
import { startServeProcess, type ServeProcess } from '../support/serve-process.js'
import { tempDir } from '../support/temp.js'
import { toolPath } from '../support/tools.js'

const SIZE = 16 * 1024 * 1024 + 777
const SERVERS = ['s1', 's2', 's3']
const OT_URL = 'http://10.77.0.1:6969/announce'
const FETCH_HEX = 'fetch(process.argv[1]).then((r) => r.arrayBuffer()).then((b) => process.stdout.write(Buffer.from(b).toString("hex")))'

/** GET `url` from inside `host`, like a server would; the body's bytes. */
async function getFrom(lan: Lan, host: string, url: string): Promise<Buffer> {
  const [cmd, args] = lan.inHost(host, process.execPath, ['-e', FETCH_HEX, url])
  const r = await runProcess(cmd, args)
  assert.equal(r.code, 0, r.stderr)
  return Buffer.from(r.stdout, 'hex')
}

/**
 * One announce to opentracker from `host` as a fresh downloader: its failure reason, or the peers
 * it hands out. The fake peer leaves again at once, so nobody dials it.
 */
async function announce(lan: Lan, host: string, infoHash: string): Promise<{ failure: string | null; peers: string[] }> {
  const q = (hex: string): string => hex.replace(/../g, '%$&')
  const base = `${OT_URL}?info_hash=${q(infoHash)}&peer_id=${q(Buffer.from('-XX0001-' + randomBytes(6).toString('hex')).toString('hex'))}&port=7999&uploaded=0&downloaded=0&compact=1`
  const reply = bdecode(await getFrom(lan, host, `${base}&left=1&event=started`)).value as DecodedDict
  await getFrom(lan, host, `${base}&left=1&event=stopped`)
  const failure = reply['failure reason']
  if (failure !== undefined) return { failure: Buffer.from(failure as Buffer).toString(), peers: [] }
  const peers = reply.peers as Buffer
  const out: string[] = []
  for (let i = 0; i + 6 <= peers.length; i += 6) out.push(`${peers[i]}.${peers[i + 1]}.${peers[i + 2]}.${peers[i + 3]}:${peers.readUInt16BE(i + 4)}`)
  return { failure: null, peers: out }
}

async function whitelistOf(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean)
}

test('opentracker as the external tracker: Swarmdrop writes its whitelist, servers download through it, the fleet view still sees them', { timeout: 180_000 }, async (t) => {
  const { dir, cleanup } = await tempDir()
  // The publisher's link is capped, so the servers must also trade pieces among themselves, which
  // they can only do after finding each other through opentracker (no DHT, PEX or LSD).
  const lan = createLan([['origin', '40mbit'], ...SERVERS.map((s): [string, null] => [s, null])])
  let serve: ServeProcess | null = null
  let opentracker: Supervised | null = null
  const arias: ReturnType<typeof startAria2>[] = []
  try {
    const inOrigin = (cmd: string, args: string[]): [string, string[]] => lan.inHost('origin', cmd, args)
    // Run as root, opentracker chroots into -d and becomes nobody before it reads the whitelist:
    // the path is relative to that folder, which nobody must be able to enter.
    const otDir = path.join(dir, 'opentracker')
    await mkdir(otDir)
    await chmod(otDir, 0o755)
    const whitelist = path.join(otDir, 'whitelist')
    await writeFile(whitelist, '')
    const [oc, oa] = inOrigin(toolPath('opentracker'), ['-i', '10.77.0.1', '-p', '6969', '-P', '6969', '-w', 'whitelist', '-d', otDir])
    opentracker = supervise(spawn(oc, oa, { stdio: ['ignore', 'pipe', 'pipe'], cwd: otDir }), 3000)
    const otPid = opentracker.child.pid as number
    // `ip netns exec` execs the command: the pid serve will signal is opentracker's own.
    for (let i = 0; i < 50 && (await readFile(`/proc/${otPid}/comm`, 'utf8').catch(() => '')).trim() !== 'opentracker'; i++) await new Promise((r) => setTimeout(r, 100))
    assert.equal((await readFile(`/proc/${otPid}/comm`, 'utf8')).trim(), 'opentracker', opentracker.output())

    const dataDir = path.join(dir, 'data')
    serve = await startServeProcess(
      ['--data-dir', dataDir, '--address', '10.77.0.1', '--http-port', '7070', '--peer-port', '6881', '--external-tracker', OT_URL, '--tracker-whitelist', whitelist, '--tracker-reload-pid', String(otPid)],
      30_000,
      inOrigin,
    )
    assert.match(serve.output(), /tracker: +http:\/\/10\.77\.0\.1:6969\/announce \(external, whitelist /)

    await mkdir(path.join(dir, 'pub'))
    const file = path.join(dir, 'pub', 'agent-4.0.0.run')
    await writeFile(file, pseudoRandom(SIZE, 'external-tracker'))
    const started = Date.now()
    const [pc, pa] = inOrigin(process.execPath, [BIN, 'publish', file, '--data-dir', dataDir, '--json'])
    const published = await runProcess(pc, pa)
    assert.equal(published.code, 0, published.stderr)
    const { release } = JSON.parse(published.stdout) as { release: { infoHash: string; torrentUrl: string; magnet: string } }
    assert.deepEqual(await whitelistOf(whitelist), [release.infoHash], 'the whitelist holds the published release')
    // SIGHUP made opentracker re-read it before the seeder's first announce.
    assert.doesNotMatch(serve.output(), /does not accept/)
    t.diagnostic(`published in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    assert.ok(release.magnet.includes(`tr=${encodeURIComponent(OT_URL)}`), release.magnet)

    // The .torrent a server fetches names opentracker, and only opentracker.
    const torrent = bdecode(await getFrom(lan, 's1', release.torrentUrl)).value as DecodedDict
    assert.equal(Buffer.from(torrent.announce as Buffer).toString(), OT_URL)
    assert.equal(torrent['announce-list'], undefined)

    // The seeder announced itself to opentracker by its LAN address before the release was listed
    // (opentracker hands a peer back its own entry too).
    const found = await announce(lan, 's1', release.infoHash)
    assert.equal(found.failure, null)
    assert.deepEqual(found.peers.filter((p) => p !== `${lan.hosts.s1?.ip}:7999`), ['10.77.0.1:6881'])
    // What Swarmdrop did not publish, opentracker refuses.
    const stranger = await announce(lan, 's2', randomBytes(20).toString('hex'))
    assert.match(stranger.failure ?? '', /not authorized/, 'opentracker refuses an info-hash that is not whitelisted')

    // Servers keep seeding once done, as fleet servers do (qBittorrent and Transmission by default):
    // nothing announces to us, so a finished server is seen when the seeder dials it from
    // opentracker's peer list and reads its full bitfield.
    const serversStarted = Date.now()
    for (const [i, s] of SERVERS.entries()) {
      arias.push(startAria2({ torrent: release.torrentUrl, dir: path.join(dir, `dl-${s}`), listenPort: 6990 + i, netns: lan.hosts[s]?.ns, seed: true }))
    }
    const original = await readFile(file)
    const done = async (s: string): Promise<boolean> => {
      // The bytes themselves: a seeding aria2c removes its control file only at its next
      // auto-save (every 60 s), which once made every download look a minute long.
      const copy = path.join(dir, `dl-${s}`, 'agent-4.0.0.run')
      return (await readFile(copy).catch(() => Buffer.alloc(0))).equals(original)
    }
    const deadline = Date.now() + 90_000
    for (const [i, s] of SERVERS.entries()) {
      while (!(await done(s))) {
        assert.equal(arias[i]?.child.exitCode, null, `aria2c on ${s} exited early:\n${arias[i]?.output()}`)
        assert.ok(Date.now() < deadline, `${s} did not complete its download in 90 s:\n${arias[i]?.output()}`)
        await new Promise((r) => setTimeout(r, 250))
      }
    }

    // No announce reached our own tracker; the fleet view shows each server complete all the same.
    const status = async (): Promise<Snapshot & { fleet: FleetRow[] }> => {
      const [c, a] = inOrigin(process.execPath, [BIN, 'status', '--data-dir', dataDir, '--json'])
      const r = await runProcess(c, a)
      assert.equal(r.code, 0, r.stderr)
      return JSON.parse(r.stdout) as Snapshot & { fleet: FleetRow[] }
    }
    const ips = SERVERS.map((s) => lan.hosts[s]?.ip as string)
    const downloaded = Date.now()
    t.diagnostic(`every server had a whole copy ${((downloaded - serversStarted) / 1000).toFixed(1)} s after aria2c started`)
    let snap = await status()
    for (let i = 0; i < 80 && !ips.every((ip) => snap.fleet.find((r) => r.ip === ip)?.cells[release.infoHash]?.state === 'complete'); i++) {
      await new Promise((r) => setTimeout(r, 500))
      snap = await status()
    }
    t.diagnostic(`every server complete in the fleet view ${((Date.now() - downloaded) / 1000).toFixed(1)} s after the last copy was whole`)
    t.diagnostic(`fleet: ${JSON.stringify(snap.fleet.map((r) => ({ ip: r.ip, clients: r.clients, cell: r.cells[release.infoHash] })))}`)
    for (const ip of ips) {
      const row = snap.fleet.find((r) => r.ip === ip)
      assert.ok(row, `${ip} is in the fleet view`)
      const cell = row.cells[release.infoHash]
      assert.equal(cell?.state, 'complete', `${ip} is complete in the fleet view`)
      assert.equal(cell?.percent, 1)
      assert.ok(row.clients.some((c) => /aria2/i.test(c)), `${ip}'s client is named: ${row.clients.join(', ')}`)
    }
    const copies = snap.fleet.reduce((sum, r) => sum + (r.cells[release.infoHash]?.fromPublisher ?? 0), 0) / SIZE
    t.diagnostic(`the publisher sent ${copies.toFixed(2)} copies to ${SERVERS.length} servers (per server, from wires)`)
    assert.ok(copies > 0.9, 'bytes sent by the publisher are counted per server')
    assert.ok(copies < 1.5, `the servers found each other through opentracker and shared pieces: ${copies.toFixed(2)} copies from the publisher`)
    assert.doesNotMatch(serve.output(), /\d+\.\d+\.\d+\.\d+ completed agent/, 'no server announced to our own tracker')

    // Retiring takes the release out of the whitelist, and opentracker refuses it once it re-read the list.
    const [rc, ra] = inOrigin(process.execPath, [BIN, 'retire', release.infoHash, '--data-dir', dataDir])
    const retired = await runProcess(rc, ra)
    assert.equal(retired.code, 0, retired.stderr)
    // An empty list would leave opentracker on its old one: "nothing" is the all-zero info-hash.
    assert.deepEqual(await whitelistOf(whitelist), ['0'.repeat(40)])
    let after = await announce(lan, 's3', release.infoHash)
    for (let i = 0; i < 20 && after.failure === null; i++) {
      await new Promise((r) => setTimeout(r, 100))
      after = await announce(lan, 's3', release.infoHash)
    }
    assert.match(after.failure ?? '', /not authorized/, 'a retired release is refused by opentracker')
  } finally {
    await Promise.all(arias.map((a) => a.stop()))
    await serve?.stop()
    await opentracker?.stop()
    lan.destroy()
    await cleanup()
  }
})

test('serve refuses a malformed external tracker URL and an unwritable whitelist, naming each', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const dataDir = path.join(dir, 'data')
    const bad = await runProcess(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--http-port', '0', '--peer-port', '0', '--external-tracker', 'opentracker:6969'])
    assert.equal(bad.code, 2, bad.stdout + bad.stderr)
    assert.match(bad.stderr, /externalTracker\.announceUrl "opentracker:6969" is not a tracker URL/)

    const orphan = await runProcess(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--tracker-whitelist', path.join(dir, 'wl')])
    assert.equal(orphan.code, 2, orphan.stdout + orphan.stderr)
    assert.match(orphan.stderr, /--tracker-whitelist needs --external-tracker URL/)

    const unwritable = path.join(dir, 'no-such-folder', 'whitelist')
    const denied = await runProcess(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--http-port', '0', '--peer-port', '0', '--no-reverse-dns', '--external-tracker', 'http://127.0.0.1:6969/announce', '--tracker-whitelist', unwritable])
    assert.notEqual(denied.code, 0, denied.stdout)
    assert.ok(denied.stderr.includes(`Cannot write the external tracker's whitelist ${unwritable}`), denied.stderr)
  } finally {
    await cleanup()
  }
})
