/**
 * A fleet on a real (virtual) LAN: `swarmdrop serve` in its own network namespace at 10.77.0.1
 * with a 40 Mbit/s link, three servers at 10.77.0.11-13 running aria2c. Unlike loopback, every
 * host has its own address, so this shows what the tracker and the seeder see on a LAN: the
 * seeder announcing through the address in the .torrent, each server by its own IP, and the
 * servers sharing pieces: super-seeding sends each piece out about once, so the publisher's slow
 * link carries little more than one copy for all three servers.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { bdecode, type DecodedDict } from '../../electron/engine/bencode.js'
import type { Snapshot } from '../../shared/contract.js'
import { startAria2 } from '../support/aria2.js'
import { pseudoRandom } from '../support/fixtures.js'
import { createLan, type Lan } from '../support/netns.js'
import { BIN, runProcess } from '../support/run-cli.js'
import { startServeProcess, type ServeProcess } from '../support/serve-process.js'
import { tempDir } from '../support/temp.js'

const SIZE = 24 * 1024 * 1024 + 4321
const SERVERS = ['s1', 's2', 's3']

/** The peers the tracker hands a newcomer, asked from inside `host` like a server would. */
async function trackerPeers(lan: Lan, host: string, announceUrl: string, infoHash: string): Promise<string[]> {
  const q = (hex: string): string => hex.replace(/../g, '%$&')
  const base = `${announceUrl}?info_hash=${q(infoHash)}&peer_id=${q(Buffer.from('-XX0001-' + randomBytes(6).toString('hex')).toString('hex'))}&port=7999&uploaded=0&downloaded=0&compact=1`
  const script = 'fetch(process.argv[1]).then((r) => r.arrayBuffer()).then((b) => process.stdout.write(Buffer.from(b).toString("hex")))'
  const [cmd, args] = lan.inHost(host, process.execPath, ['-e', script, `${base}&left=1&event=started`])
  const r = await runProcess(cmd, args)
  assert.equal(r.code, 0, r.stderr)
  const reply = bdecode(Buffer.from(r.stdout, 'hex')).value as DecodedDict
  const peers = reply.peers as Buffer
  assert.ok(Buffer.isBuffer(peers), `tracker reply: ${Buffer.from(r.stdout, 'hex').toString()}`)
  const out: string[] = []
  for (let i = 0; i + 6 <= peers.length; i += 6) out.push(`${peers[i]}.${peers[i + 1]}.${peers[i + 2]}.${peers[i + 3]}:${peers.readUInt16BE(i + 4)}`)
  // Leave the swarm again so nobody dials the fake peer.
  const [c2, a2] = lan.inHost(host, process.execPath, ['-e', script, `${base}&left=0&event=stopped`])
  await runProcess(c2, a2)
  return out
}

test('a namespace LAN: the seeder announces its LAN address, servers show up by IP and share pieces', { timeout: 120_000 }, async (t) => {
  const { dir, cleanup } = await tempDir()
  const lan = createLan([['origin', '40mbit'], ...SERVERS.map((s): [string, null] => [s, null])])
  let serve: ServeProcess | null = null
  const arias: ReturnType<typeof startAria2>[] = []
  try {
    const dataDir = path.join(dir, 'data')
    const inOrigin = (cmd: string, args: string[]): [string, string[]] => lan.inHost('origin', cmd, args)
    serve = await startServeProcess(['--data-dir', dataDir, '--address', '10.77.0.1', '--http-port', '7070', '--peer-port', '6881'], 30_000, inOrigin)
    assert.match(serve.output(), /feed: +http:\/\/10\.77\.0\.1:7070\/feed\.xml/)

    await mkdir(path.join(dir, 'pub'))
    const file = path.join(dir, 'pub', 'agent-3.0.0.run')
    await writeFile(file, pseudoRandom(SIZE, 'fleet'))
    const [pc, pa] = inOrigin(process.execPath, [BIN, 'publish', file, '--data-dir', dataDir, '--json'])
    const published = await runProcess(pc, pa)
    assert.equal(published.code, 0, published.stderr)
    const { release } = JSON.parse(published.stdout) as { release: { infoHash: string; torrentUrl: string } }
    assert.match(release.torrentUrl, /^http:\/\/10\.77\.0\.1:7070\/torrents\/[0-9a-f]{40}\.torrent$/)

    // The seeder announced through the LAN address in the .torrent, not 127.0.0.1.
    const peers = await trackerPeers(lan, 's1', 'http://10.77.0.1:7070/announce', release.infoHash)
    assert.deepEqual(peers, ['10.77.0.1:6881'])

    for (const [i, s] of SERVERS.entries()) {
      // Each server seeds for 3 s after its download, as a fleet's servers go on seeding. With
      // --seed-time=0 the first to finish left at once with pieces the others still lacked, and
      // the publisher sent those again: 1.27 and 1.32 copies in 2 of 34 runs (1.00-1.10 otherwise).
      arias.push(startAria2({ torrent: release.torrentUrl, dir: path.join(dir, `dl-${s}`), listenPort: 6990 + i, netns: lan.hosts[s]?.ns, extra: ['--seed-time=0.05'] }))
    }
    // While they download: the seeder holds one wire per server, each by its plain IPv4 address
    // (a server that dialed us is not dialed again from its announce).
    const wiresSeen: string[][] = []
    let downloading = true
    const sampling = (async () => {
      while (downloading) {
        const [c, a] = inOrigin(process.execPath, [BIN, 'status', '--data-dir', dataDir, '--json'])
        const r = await runProcess(c, a)
        if (r.code === 0) wiresSeen.push((JSON.parse(r.stdout) as Snapshot).peers.filter((p) => p.infoHash === release.infoHash).map((p) => p.ip))
        await new Promise((resolve) => setTimeout(resolve, 300))
      }
    })()
    const codes = await Promise.all(arias.map((a) => a.exited))
    downloading = false
    await sampling
    codes.forEach((code, i) => assert.equal(code, 0, arias[i]?.output()))
    const serverIps = new Set(SERVERS.map((s) => lan.hosts[s]?.ip))
    const doubled = wiresSeen.filter((ips) => new Set(ips).size !== ips.length || ips.some((ip) => !serverIps.has(ip)))
    t.diagnostic(`wires sampled ${wiresSeen.length} times: ${JSON.stringify(wiresSeen.slice(0, 3))}`)
    assert.ok(wiresSeen.some((ips) => ips.length > 0), 'the seeder had wires while the servers downloaded')
    assert.deepEqual(doubled, [], 'one wire per server, by its IPv4 address')
    const original = await readFile(file)
    for (const s of SERVERS) assert.deepEqual(await readFile(path.join(dir, `dl-${s}`, 'agent-3.0.0.run')), original, `${s} has an identical copy`)

    // Each server was seen by its own IP, and its completion noticed.
    for (const s of SERVERS) await serve.waitForOutput(new RegExp(`${lan.hosts[s]?.ip.replaceAll('.', '\\.')} completed agent-3\\.0\\.0\\.run`), 10_000, `completion of ${s}`)

    const [sc, sa] = inOrigin(process.execPath, [BIN, 'status', '--data-dir', dataDir, '--json'])
    const status = await runProcess(sc, sa)
    assert.equal(status.code, 0, status.stderr)
    const snap = JSON.parse(status.stdout) as Snapshot
    const uploaded = snap.swarms.find((w) => w.infoHash === release.infoHash)?.uploaded ?? NaN
    const copies = uploaded / SIZE
    t.diagnostic(`publisher uploaded ${copies.toFixed(2)} copies for ${SERVERS.length} servers on a 40 Mbit/s link`)
    const ended = serve.output().split('\n').find((l) => /helps a server that stalls/.test(l))
    t.diagnostic(ended ?? 'super-seeding never ended')
    assert.ok(ended, `super-seeding ended once every piece reached a server:\n${serve.output()}`)
    // Super-seeding sends each piece out about once; without it this was 1.3-1.4 copies.
    assert.ok(copies < 1.3, `the servers shared pieces: the publisher uploaded ${copies.toFixed(2)} copies for ${SERVERS.length} servers`)
  } finally {
    await Promise.all(arias.map((a) => a.stop()))
    await serve?.stop()
    lan.destroy()
    await cleanup()
  }
})
