/**
 * The fleet view against a real mixed fleet. `swarmdrop serve` runs in its own network namespace
 * (10.77.0.1, a 40 Mbit/s link). Four servers each have their own namespace and IP:
 * qbittorrent-nox subscribed to the RSS feed with an auto-download rule (.11), transmission-daemon
 * given the .torrent URL (.12), aria2c (.13) and rTorrent 0.9.8 (.14). A fifth host (.15) polls
 * the feed, but a firewall (iptables in its namespace) drops its announces and its peer connections.
 * Nothing runs on the servers but their clients. The test proves that `swarmdrop` reads the fleet
 * from the clients' own traffic:
 *   - `wait --servers all` returns once every server on the roster has the release;
 *   - `status --json` lists every server by IP with the client its peer id and User-Agent name,
 *     state "complete" with a completedAt time, and the rollout summary. rTorrent never announces
 *     "completed", so its completion must come from the seeder's wire; how long after the client's
 *     own record of finishing each completion shows up is reported;
 *   - the firewalled host is flagged ("polls the feed but never announces") and never complete;
 *   - after a restart of `serve` (SIGTERM) during a second, larger rollout, the completions already
 *     seen keep their completedAt, and the second rollout resumes and completes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { FleetRow, RolloutSummary, Snapshot } from '../../shared/contract.js'
import { startAria2, type Aria2Run } from '../support/aria2.js'
import { supervise, type Supervised } from '../support/child-process.js'
import { pseudoRandom } from '../support/fixtures.js'
import { createLan, type Lan } from '../support/netns.js'
import { qbittorrentConf } from '../support/qbittorrent.js'
import { startRtorrent, type Rtorrent } from '../support/rtorrent.js'
import { BIN, runProcess, type CliResult } from '../support/run-cli.js'
import { startServeProcess, type ServeProcess } from '../support/serve-process.js'
import { tempDir } from '../support/temp.js'
import { toolPath } from '../support/tools.js'
import { transmissionSettings } from '../support/transmission.js'

const ORIGIN_IP = '10.77.0.1'
const HTTP_PORT = 7070
const PEER_PORT = 6881
/** createLan gives the first host .1, then .11, .12, ... in this order. */
const HOSTS: [string, string | null][] = [
  ['origin', '40mbit'],
  ['qbt', null],
  ['tr', null],
  ['aria2', null],
  ['rt', null],
  ['fw', null],
]
const SERVERS = ['qbt', 'tr', 'aria2', 'rt'] as const
type ServerName = (typeof SERVERS)[number]
const SIZE_1 = 24 * 1024 * 1024 + 4321
const SIZE_2 = 64 * 1024 * 1024 + 1234
const HINT = 'polls the feed but never announces'

/** What the peer ids and User-Agents of the real Debian clients decode to. */
const CLIENT_NAMES: Record<ServerName, { some: RegExp[]; every: RegExp }> = {
  qbt: { some: [/^qBittorrent \d+\.\d+\.\d+$/], every: /^qBittorrent / },
  tr: { some: [/^Transmission \d+\.\d+$/], every: /^Transmission / },
  aria2: { some: [/^aria2 \d+\.\d+\.\d+$/], every: /^aria2 / },
  // Peer id -lt0D80- decodes to "libtorrent (rTorrent) 0.13.8" (the library's version); the
  // .torrent fetch's User-Agent "rtorrent/0.9.8/0.13.8" to "rTorrent 0.9.8".
  rt: { some: [/^libtorrent \(rTorrent\) 0\.13\.8$/, /^rTorrent 0\.9\.8$/], every: /rTorrent/i },
}

type StatusJson = Snapshot & { ok: boolean; dataDir: string; fleet: FleetRow[] }

interface PublishedJson {
  infoHash: string
  name: string
  torrentUrl: string
}

/** A started client that must be stopped whatever happens. */
interface Stoppable {
  stop(): Promise<unknown>
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

async function poll<T>(what: string, ms: number, check: () => Promise<T | null | undefined | false>, everyMs = 500): Promise<T> {
  const deadline = Date.now() + ms
  let lastError: unknown = null
  for (;;) {
    try {
      const v = await check()
      if (v) return v
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`)
    await sleep(everyMs)
  }
}

test('the fleet view of a mixed real fleet: completions from announces and wires, the roster, a firewalled host, a restart mid-rollout', { timeout: 400_000 }, async (t) => {
  // Every tool first: a missing one fails here with its install command, before anything starts.
  for (const tool of ['ip', 'tc', 'iptables', 'qbittorrent-nox', 'transmission-daemon', 'transmission-remote', 'aria2c', 'rtorrent']) toolPath(tool)

  const { dir, cleanup } = await tempDir('swarmdrop-fleet-view-')
  let lan: Lan | null = null
  // The runner stops a file that outlives its time limit by killing its process group, this
  // process included, before any hook can run. A watcher outside that group then removes what
  // this test made (test/support/netns.ts names every namespace "sd<pid>-..."): it waits for
  // this process to end, then kills what still runs in those namespaces, deletes them and the
  // temporary folder. After a normal end it finds nothing left and exits.
  const janitor = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done
    for ns in $(${toolPath('ip')} netns list | awk '{print $1}' | grep '^sd${process.pid}-'); do
      for p in $(${toolPath('ip')} netns pids "$ns"); do kill -9 "$p"; done
      ${toolPath('ip')} netns del "$ns"
    done
    rm -rf '${dir}'`
  spawn('sh', ['-c', janitor], { detached: true, stdio: 'ignore' }).unref()
  const started: Stoppable[] = []
  let serve: ServeProcess | null = null
  t.after(async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined)
    await serve?.stop().catch(() => undefined)
    lan?.destroy()
    await cleanup()
  })

  const t0 = Date.now()
  const elapsed = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`
  lan = createLan(HOSTS)
  const theLan = lan
  const ipOf = (host: string): string => {
    const h = theLan.hosts[host]
    if (!h) throw new Error(`no host ${host}`)
    return h.ip
  }
  const nsOf = (host: string): string => {
    const h = theLan.hosts[host]
    if (!h) throw new Error(`no host ${host}`)
    return h.ns
  }
  const runIn = (host: string, cmd: string, args: string[]): Promise<CliResult> => {
    const [c, a] = theLan.inHost(host, cmd, args)
    return runProcess(c, a)
  }
  /** An HTTP request made from inside a host (its loopback is its own). */
  const httpIn = async (host: string, url: string, form?: Record<string, string>): Promise<string> => {
    const script = `const [url, form] = process.argv.slice(1)
      fetch(url, form ? { method: 'POST', body: new URLSearchParams(JSON.parse(form)) } : {})
        .then(async (r) => { const body = await r.text(); if (!r.ok) { process.stderr.write('HTTP ' + r.status + ' ' + body); process.exit(1) } process.stdout.write(body) })
        .catch((e) => { process.stderr.write(String(e)); process.exit(1) })`
    const r = await runIn(host, process.execPath, ['-e', script, url, ...(form ? [JSON.stringify(form)] : [])])
    if (r.code !== 0) throw new Error(`${host}: ${url}: ${r.stderr}`)
    return r.stdout
  }

  const dataDir = path.join(dir, 'data')
  const serveArgs = ['--data-dir', dataDir, '--address', ORIGIN_IP, '--http-port', String(HTTP_PORT), '--peer-port', String(PEER_PORT)]
  const inOrigin = (cmd: string, args: string[]): [string, string[]] => theLan.inHost('origin', cmd, args)
  const cli = (...args: string[]): Promise<CliResult> => runIn('origin', process.execPath, [BIN, ...args, '--data-dir', dataDir])
  const status = async (): Promise<StatusJson> => {
    const r = await cli('status', '--json')
    assert.equal(r.code, 0, `status --json: ${r.stderr}`)
    return JSON.parse(r.stdout) as StatusJson
  }
  const rowOf = (s: StatusJson, host: string): FleetRow | undefined => s.fleet.find((r) => r.ip === ipOf(host))
  /** The rows that matter, short, for failure messages and the log. */
  const excerpt = (s: StatusJson, infoHashes: string[]): string =>
    JSON.stringify(
      s.fleet.map((r) => ({ ip: r.ip, expected: r.expected, clients: r.clients, firewallHint: r.firewallHint, lastFeedPoll: r.lastFeedPoll, cells: Object.fromEntries(infoHashes.map((h) => [h.slice(0, 8), r.cells[h]])) })),
    )

  serve = await startServeProcess(serveArgs, 30_000, inOrigin)
  const feedUrl = (await status()).endpoints.feedUrl
  assert.match(feedUrl, /^http:\/\/10\.77\.0\.1:7070\/feed\.xml/)

  // --- the servers' clients, each in its own namespace --------------------------------------
  const dl = (host: string, release: number): string => path.join(dir, `dl-${host}-${release}`)

  // qBittorrent: RSS subscription with an auto-download rule; one client per namespace IP.
  const qbtProfile = path.join(dir, 'qbt')
  const qbtSave = path.join(dir, 'dl-qbt')
  await mkdir(path.join(qbtProfile, 'qBittorrent', 'config'), { recursive: true })
  await mkdir(qbtSave, { recursive: true })
  await writeFile(
    path.join(qbtProfile, 'qBittorrent', 'config', 'qBittorrent.conf'),
    qbittorrentConf({ savePath: qbtSave, webUiPort: 8080, peerPort: 6882, sharedIp: false }),
  )
  const qbt = supervise(spawn(toolPath('ip'), ['netns', 'exec', nsOf('qbt'), toolPath('qbittorrent-nox'), `--profile=${qbtProfile}`], { stdio: ['ignore', 'pipe', 'pipe'] }))
  started.push(qbt)
  const qbtApi = 'http://127.0.0.1:8080/api/v2'

  // Transmission: the daemon fetches the .torrent URL itself; it listens on its namespace IP.
  const trConfig = path.join(dir, 'tr')
  const trDownload = path.join(dir, 'dl-tr')
  await mkdir(trConfig, { recursive: true })
  await mkdir(trDownload, { recursive: true })
  await writeFile(
    path.join(trConfig, 'settings.json'),
    JSON.stringify(transmissionSettings({ downloadDir: trDownload, rpcPort: 9091, peerPort: 51413, loopbackOnly: false })),
  )
  const tr = supervise(spawn(toolPath('ip'), ['netns', 'exec', nsOf('tr'), toolPath('transmission-daemon'), '-f', '-g', trConfig, '--logfile', path.join(trConfig, 'daemon.log')], { stdio: ['ignore', 'pipe', 'pipe'] }))
  started.push(tr)
  const trRemote = async (...args: string[]): Promise<string> => {
    const r = await runIn('tr', toolPath('transmission-remote'), ['127.0.0.1:9091', ...args])
    if (r.code !== 0) throw new Error(`transmission-remote ${args.join(' ')}: ${r.stderr || r.stdout}`)
    return r.stdout
  }

  // rTorrent: headless, its own session dir, no DHT/PeX; torrents by load.start of the URL.
  const rtDownload = path.join(dir, 'dl-rt')
  const rt: Rtorrent = await startRtorrent({ dir: path.join(dir, 'rt'), downloadDir: rtDownload, peerPort: 6884, netns: nsOf('rt') })
  started.push(rt)

  await poll('qBittorrent WebUI in its namespace', 20_000, async () => (await httpIn('qbt', `${qbtApi}/app/version`)) !== '', 200)
  await poll('transmission-daemon RPC in its namespace', 20_000, async () => (await trRemote('-si')) !== '', 200)
  await httpIn('qbt', `${qbtApi}/rss/addFeed`, { url: feedUrl, path: 'swarmdrop' })
  await httpIn('qbt', `${qbtApi}/rss/setRule`, { ruleName: 'swarmdrop', ruleDef: JSON.stringify({ enabled: true, mustContain: '', affectedFeeds: [feedUrl], savePath: qbtSave }) })

  // The firewalled host: its feed reader gets through, its BitTorrent client does not. The feed
  // and the HTTP tracker share port 7070, so HTTP announces are matched by their request line.
  const fwRules = [
    ['-p', 'udp', '-d', ORIGIN_IP, '--dport', String(HTTP_PORT), '-j', 'DROP'],
    ['-p', 'tcp', '-d', ORIGIN_IP, '--dport', String(HTTP_PORT), '-m', 'string', '--algo', 'bm', '--string', 'GET /announce', '-j', 'DROP'],
    ['-p', 'tcp', '-d', ORIGIN_IP, '--dport', String(PEER_PORT), '-j', 'DROP'],
  ]
  for (const rule of fwRules) {
    const r = await runIn('fw', toolPath('iptables'), ['-A', 'OUTPUT', ...rule])
    assert.equal(r.code, 0, `iptables ${rule.join(' ')} in the fw namespace: ${r.stderr}`)
  }
  const pollerScript = `const url = process.argv[1]
    const tick = () => fetch(url).then((r) => r.text()).catch(() => undefined)
    tick(); setInterval(tick, 2000)`
  const [pc, pa] = theLan.inHost('fw', process.execPath, ['-e', pollerScript, feedUrl])
  const poller: Supervised = supervise(spawn(pc, pa, { stdio: ['ignore', 'pipe', 'pipe'] }), 2000)
  started.push(poller)

  // --- the roster: the four servers are expected, the firewalled host is not -----------------
  const rosterScript = `const { connectInstance } = await import(process.argv[1])
    const conn = await connectInstance(process.argv[2])
    try { process.stdout.write(JSON.stringify(await conn.call('fleet.roster.set', { servers: JSON.parse(process.argv[3]) }))) } finally { conn.close() }`
  const instanceClient = new URL('../../electron/cli/instance-client.js', import.meta.url).href
  const roster = await runIn('origin', process.execPath, ['--input-type=module', '-e', rosterScript, instanceClient, dataDir, JSON.stringify(SERVERS.map(ipOf))])
  assert.equal(roster.code, 0, `fleet.roster.set: ${roster.stderr}`)
  assert.deepEqual(JSON.parse(roster.stdout), { expected: 4, unresolved: [] })
  t.diagnostic(`fleet up (serve, qBittorrent, Transmission, rTorrent, firewalled poller) at ${elapsed()}`)

  /** What the fleet view, the seeder's wire and rTorrent itself say about rTorrent, while `until` runs. */
  const sampleRt = async (infoHash: string, until: Promise<unknown>, since: number): Promise<string[]> => {
    const state = { done: false }
    void until.finally(() => (state.done = true))
    const out: string[] = []
    let last = ''
    while (!state.done) {
      const [s, own] = await Promise.all([status().catch(() => null), rt.downloads().catch(() => [])])
      const cell = s ? rowOf(s, 'rt')?.cells[infoHash] : undefined
      const wire = s?.peers.find((p) => p.infoHash === infoHash && p.ip.endsWith(ipOf('rt')))
      const mine = own.find((d) => d.hash === infoHash)
      const line = `fleet ${cell?.state ?? '-'} ${Math.floor((cell?.percent ?? 0) * 100)}%, seeder wire ${wire ? `${Math.floor(wire.progress * 100)}%` : 'none'}, rTorrent ${mine ? `${Math.floor((mine.bytesDone / mine.size) * 100)}%` : '-'}`
      if (line !== last) out.push(`+${((Date.now() - since) / 1000).toFixed(1)} s ${line}`)
      last = line
      await sleep(500)
    }
    return out
  }

  // --- release 1 ------------------------------------------------------------------------------
  await mkdir(path.join(dir, 'pub'))
  const publish = async (file: string, size: number): Promise<PublishedJson> => {
    await writeFile(file, pseudoRandom(size, path.basename(file)))
    // Without the web seed: the firewalled host's feed reader reaches port 7070, so with it that
    // host would download over HTTP (as it should; serve-aria2.test.ts covers it) and this test
    // would no longer see a host that BitTorrent does not reach and that gets nothing.
    const r = await cli('publish', file, '--no-web-seed', '--json')
    assert.equal(r.code, 0, `publish: ${r.stderr}`)
    return (JSON.parse(r.stdout) as { release: PublishedJson }).release
  }
  const file1 = path.join(dir, 'pub', 'agent-4.1.0.run')
  const r1 = await publish(file1, SIZE_1)
  const published1 = Date.now()
  const startAria2In = (host: string, torrent: string, release: number, listenPort: number, seed: boolean): Aria2Run => {
    const run = startAria2({ torrent, dir: dl(host, release), listenPort, seed, netns: nsOf(host) })
    started.push(run)
    return run
  }
  // Each server picks it up its own way.
  await httpIn('qbt', `${qbtApi}/rss/refreshItem`, { itemPath: 'swarmdrop' })
  await trRemote('-a', r1.torrentUrl)
  const aria2First = startAria2In('aria2', r1.torrentUrl, 1, 6883, false)
  const aria2Exit: { at: number | null } = { at: null }
  void aria2First.exited.then(() => (aria2Exit.at = Date.now()))
  await rt.load(r1.torrentUrl)
  const fwAria2 = startAria2In('fw', r1.torrentUrl, 1, 6885, false)

  const waiting1 = cli('wait', r1.infoHash, '--servers', 'all', '--timeout', '120')
  const rtSeries1 = sampleRt(r1.infoHash, waiting1, published1)
  const wait1 = await waiting1
  t.diagnostic(`rTorrent during rollout 1: ${(await rtSeries1).join(' | ')}`)
  const took1 = (Date.now() - published1) / 1000
  t.diagnostic(`release 1 (${SIZE_1} bytes): wait returned ${wait1.code} ${took1.toFixed(1)} s after publishing (${elapsed()}): ${wait1.stdout.trim()}`)
  const s1 = await status()
  t.diagnostic(`status --json fleet after release 1: ${excerpt(s1, [r1.infoHash])}`)
  t.diagnostic(`rollout 1: ${JSON.stringify(s1.rollouts.find((r) => r.infoHash === r1.infoHash))}`)

  // When each client itself says it finished (seconds), against when the fleet view saw it.
  const clientFinishedNow = async (infoHash: string, aria2Exit: number | null): Promise<Record<ServerName, number | null>> => {
    const qbtInfo = JSON.parse(await httpIn('qbt', `${qbtApi}/torrents/info?hashes=${infoHash}`)) as { completion_on?: number }[]
    const trInfo = await trRemote('-t', infoHash, '-i')
    const trDone = /Date finished:\s+(.+)/.exec(trInfo)?.[1]
    const rtDone = Number(await rt.call('d.timestamp.finished', infoHash))
    return {
      qbt: (qbtInfo[0]?.completion_on ?? 0) > 0 ? (qbtInfo[0]?.completion_on ?? 0) * 1000 : null,
      tr: trDone ? Date.parse(trDone) : null,
      aria2: aria2Exit,
      rt: rtDone > 0 ? rtDone * 1000 : null,
    }
  }
  // The fleet view counts a piece as the server's once our last block of it is sent, so it can see
  // a completion a moment before the client has checked and recorded that piece (Transmission
  // stamps its "Date finished" on its own next pass): give the clients a few seconds to say so.
  const clientFinished = async (infoHash: string, aria2Exit: number | null): Promise<Record<ServerName, number | null>> => {
    const deadline = Date.now() + 10_000
    for (;;) {
      const finished = await clientFinishedNow(infoHash, aria2Exit)
      if (SERVERS.every((n) => finished[n] !== null || (n === 'aria2' && aria2Exit === null)) || Date.now() > deadline) return finished
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
  const lags = (s: StatusJson, infoHash: string, finished: Record<ServerName, number | null>): string =>
    SERVERS.map((n) => {
      const seen = rowOf(s, n)?.cells[infoHash]?.completedAt ?? null
      const own = finished[n]
      return `${n}: client finished ${own === null ? '?' : new Date(own).toISOString()}, fleet completedAt ${seen === null ? '-' : new Date(seen).toISOString()}${own !== null && seen !== null ? ` (${((seen - own) / 1000).toFixed(1)} s later)` : ''}`
    }).join('; ')
  const finished1 = await clientFinished(r1.infoHash, aria2Exit.at)
  t.diagnostic(`release 1 completion, client vs fleet view: ${lags(s1, r1.infoHash, finished1)}`)
  // The engine logs "<ip> completed <release>" for a completion it read from an announce.
  const announcedCompletions1 = serve.output().split('\n').filter((l) => / completed /.test(l))
  t.diagnostic(`serve's completion lines (announce-based): ${JSON.stringify(announcedCompletions1)}`)

  await t.test('wait <release 1> --servers all --timeout 120 returns 0', () => {
    assert.equal(wait1.code, 0, `wait: ${wait1.stdout}\n${wait1.stderr.split('\n').slice(-6).join('\n')}\nfleet: ${excerpt(s1, [r1.infoHash])}`)
  })

  await t.test('every server really has release 1 (byte-identical)', async () => {
    const original = await readFile(file1)
    const places: Record<ServerName, string> = { qbt: qbtSave, tr: trDownload, aria2: dl('aria2', 1), rt: rtDownload }
    for (const s of SERVERS) {
      await poll(`${s}'s copy`, 10_000, async () => (await stat(path.join(places[s], r1.name)).catch(() => null))?.size === SIZE_1)
      assert.ok((await readFile(path.join(places[s], r1.name))).equals(original), `${s} has an identical copy`)
    }
    assert.equal(await aria2First.exited, 0, aria2First.output())
    const rtDone = (await rt.downloads()).find((d) => d.hash === r1.infoHash)
    assert.equal(rtDone?.complete, true, `rTorrent's own view: ${JSON.stringify(rtDone)}`)
  })

  await t.test('status --json: each server by its IP, its client, complete with a completedAt', () => {
    for (const s of SERVERS) {
      const row = rowOf(s1, s)
      assert.ok(row, `no fleet row for ${s} at ${ipOf(s)}: ${excerpt(s1, [r1.infoHash])}`)
      assert.equal(row.expected, true, `${s} is on the roster`)
      assert.equal(row.firewallHint, false, `${s} announced: no firewall hint`)
      const cell = row.cells[r1.infoHash]
      assert.equal(cell?.state, 'complete', `${s} (${ipOf(s)}) cell: ${JSON.stringify(cell)}`)
      assert.equal(cell?.percent, 1)
      assert.equal(typeof cell?.completedAt, 'number', `${s} completedAt`)
      assert.ok((cell?.completedAt ?? 0) >= published1 - 5_000 && (cell?.completedAt ?? Infinity) <= Date.now(), `${s} completedAt ${cell?.completedAt} is during the rollout`)
    }
  })

  await t.test('status --json: the fleet is exactly the five hosts, each by its own IP', () => {
    assert.deepEqual(s1.fleet.map((r) => r.ip).sort(), [...SERVERS, 'fw'].map(ipOf).sort())
  })

  await t.test('rTorrent never announced its completion: the fleet view read it from the wire', () => {
    assert.equal(rowOf(s1, 'rt')?.cells[r1.infoHash]?.state, 'complete')
    assert.deepEqual(announcedCompletions1.filter((l) => l.includes(`${ipOf('rt')} completed`)), [], 'no announce-based completion for rTorrent')
  })

  // How soon the fleet saw each completion is a figure, not a pass mark: tests assert behaviour,
  // and the lag depends on the machine's load (rTorrent can drop its wire to us a moment before
  // its last HAVE, and is then seen complete on its next connection).
  await t.test('every completion of release 1 is seen, rTorrent\'s from the wire; the lags are reported', (tt) => {
    const missing: string[] = []
    const lagsSeen: string[] = []
    for (const s of SERVERS) {
      const own = finished1[s]
      const seen = rowOf(s1, s)?.cells[r1.infoHash]?.completedAt ?? null
      if (own === null || seen === null) missing.push(`${s}: client finished ${own}, fleet completedAt ${seen}`)
      else lagsSeen.push(`${s} ${((seen - own) / 1000).toFixed(1)} s`)
    }
    assert.deepEqual(missing, [], lags(s1, r1.infoHash, finished1))
    tt.diagnostic(`seen complete after the client finished: ${lagsSeen.join(', ')}`)
  })

  await t.test('status --json: the client names the peer ids and User-Agents decode to', () => {
    const bad: string[] = []
    for (const s of SERVERS) {
      const clients = rowOf(s1, s)?.clients ?? []
      for (const want of CLIENT_NAMES[s].some) if (!clients.some((c) => want.test(c))) bad.push(`${s} (${ipOf(s)}): no client matching ${want} in ${JSON.stringify(clients)}`)
      for (const c of clients) if (!CLIENT_NAMES[s].every.test(c)) bad.push(`${s} (${ipOf(s)}): "${c}" is not the client it runs (clients ${JSON.stringify(clients)})`)
    }
    assert.deepEqual(bad, [])
  })

  await t.test('status --json: the rollout summary of release 1', () => {
    const rollout = s1.rollouts.find((r) => r.infoHash === r1.infoHash) as RolloutSummary | undefined
    assert.ok(rollout, `rollouts: ${JSON.stringify(s1.rollouts)}`)
    assert.equal(rollout.expected, 4)
    assert.equal(rollout.expectedComplete, rollout.expected)
    assert.equal(rollout.complete, 4, 'the firewalled host did not complete')
    const { firstCompletionMs: first, medianCompletionMs: median, lastCompletionMs: last } = rollout
    assert.ok(first !== null && median !== null && last !== null, JSON.stringify(rollout))
    assert.ok(first > 0 && first <= median && median <= last && last <= took1 * 1000 + 5_000, JSON.stringify(rollout))
    assert.ok(rollout.uploadedCopies > 0, `uploadedCopies ${rollout.uploadedCopies}`)
  })

  await t.test('the firewalled host: firewall hint, never complete, and the hint line in status', async () => {
    const row = rowOf(s1, 'fw')
    assert.ok(row, `no fleet row for the firewalled host ${ipOf('fw')}: ${excerpt(s1, [r1.infoHash])}`)
    assert.equal(row.expected, false)
    assert.notEqual(row.lastFeedPoll, null, 'it polls the feed')
    assert.equal(row.firewallHint, true, `row: ${JSON.stringify(row)}`)
    assert.notEqual(row.cells[r1.infoHash]?.state, 'complete')
    assert.equal(row.cells[r1.infoHash]?.fromPublisher, 0)
    // The firewall held: its aria2c got nothing.
    const got = await stat(path.join(dl('fw', 1), r1.name)).catch(() => null)
    assert.ok(got === null || got.size === 0 || !fwAria2.output().includes('Download complete'), `fw aria2c: ${fwAria2.output().slice(-500)}`)
    const text = await cli('status')
    assert.equal(text.code, 0, text.stderr)
    const line = text.stdout.split('\n').find((l) => l.startsWith(ipOf('fw')))
    assert.ok(line?.includes(HINT), `status line of ${ipOf('fw')}: ${JSON.stringify(line)}\n${text.stdout}`)
    for (const s of SERVERS) assert.ok(!text.stdout.split('\n').find((l) => l.startsWith(ipOf(s)))?.includes(HINT), `no hint for ${s}`)
  })

  // --- release 2, and a restart of serve in the middle of its rollout --------------------------
  const file2 = path.join(dir, 'pub', 'agent-4.2.0.run')
  const r2 = await publish(file2, SIZE_2)
  const published2 = Date.now()
  await httpIn('qbt', `${qbtApi}/rss/refreshItem`, { itemPath: 'swarmdrop' })
  await trRemote('-a', r2.torrentUrl)
  // This aria2c keeps seeding, so it keeps announcing across the restart.
  startAria2In('aria2', r2.torrentUrl, 2, 6893, true)
  await rt.load(r2.torrentUrl)

  // Mid-rollout: every server has announced it (one that has only fetched the .torrent when serve
  // goes away, as aria2c did once 1.5 s in, fails that announce and waits out its retry), and
  // some are well into it.
  const partly = (s: StatusJson): boolean => {
    const cells = SERVERS.map((n) => rowOf(s, n)?.cells[r2.infoHash])
    const announced = cells.every((c) => c && (c.state === 'downloading' || c.state === 'complete'))
    return announced && cells.filter((c) => c && c.state === 'downloading' && c.percent >= 0.05 && c.percent < 1).length >= 2
  }
  let partial: StatusJson | null = null
  try {
    partial = await poll('release 2 to be partly downloaded by some servers', 45_000, async () => {
      const s = await status()
      return partly(s) ? s : null
    }, 300)
  } finally {
    t.diagnostic(`stopping serve (SIGTERM) ${((Date.now() - published2) / 1000).toFixed(1)} s into rollout 2 (${elapsed()})`)
    const code = await serve.stop()
    serve = null
    t.diagnostic(`serve exited with ${code}`)
  }
  const before: StatusJson = partial
  t.diagnostic(`before the restart: ${excerpt(before, [r1.infoHash, r2.infoHash])}`)
  const completedAt1 = Object.fromEntries(SERVERS.map((s) => [s, rowOf(before, s)?.cells[r1.infoHash]?.completedAt ?? null]))

  serve = await startServeProcess(serveArgs, 30_000, inOrigin)
  const restarted = Date.now()
  const after = await status()
  t.diagnostic(`right after the restart: ${excerpt(after, [r1.infoHash, r2.infoHash])}`)
  t.diagnostic(`rollout 1 right after the restart: ${JSON.stringify(after.rollouts.find((r) => r.infoHash === r1.infoHash))}`)

  await t.test('after the restart, the completions already seen keep their completedAt', () => {
    for (const s of SERVERS) {
      const row = rowOf(after, s)
      assert.ok(row, `no row for ${s}`)
      assert.equal(row.expected, true, `${s} is still on the roster`)
      assert.equal(row.cells[r1.infoHash]?.state, 'complete', `${s}: ${JSON.stringify(row.cells[r1.infoHash])}`)
      assert.equal(row.cells[r1.infoHash]?.completedAt, completedAt1[s], `${s}'s completedAt of release 1`)
    }
    const rollout = after.rollouts.find((r) => r.infoHash === r1.infoHash)
    const earlier = before.rollouts.find((r) => r.infoHash === r1.infoHash)
    assert.equal(rollout?.expectedComplete, 4, JSON.stringify(rollout))
    const times = (r: RolloutSummary | undefined): (number | null | undefined)[] => [r?.firstCompletionMs, r?.medianCompletionMs, r?.lastCompletionMs]
    assert.deepEqual(times(rollout), times(earlier), `rollout 1 before ${JSON.stringify(earlier)} and after ${JSON.stringify(rollout)} the restart`)
  })

  await t.test('after the restart, a server that completed releases is not flagged as firewalled', () => {
    const flagged = SERVERS.filter((s) => rowOf(after, s)?.firewallHint === true).map((s) => `${s} (${ipOf(s)})`)
    assert.deepEqual(flagged, [], `rows: ${excerpt(after, [r1.infoHash])}`)
    assert.equal(rowOf(after, 'fw')?.firewallHint, true, 'the firewalled host is still flagged')
  })

  const waiting2 = cli('wait', r2.infoHash, '--servers', 'all', '--timeout', '120')
  const rtSeries2 = sampleRt(r2.infoHash, waiting2, published2)
  const wait2 = await waiting2
  t.diagnostic(`rTorrent during rollout 2 after the restart: ${(await rtSeries2).join(' | ')}`)
  t.diagnostic(`release 2 (${SIZE_2} bytes): wait returned ${wait2.code} ${((Date.now() - restarted) / 1000).toFixed(1)} s after the restart (${elapsed()}): ${wait2.stdout.trim()}`)
  const s2 = await status()
  t.diagnostic(`status --json fleet after release 2: ${excerpt(s2, [r1.infoHash, r2.infoHash])}`)
  t.diagnostic(`rollout 2: ${JSON.stringify(s2.rollouts.find((r) => r.infoHash === r2.infoHash))}`)
  t.diagnostic(`release 2 completion, client vs fleet view: ${lags(s2, r2.infoHash, await clientFinished(r2.infoHash, null).catch(() => ({ qbt: null, tr: null, aria2: null, rt: null })))}`)
  t.diagnostic(`serve's completion lines after the restart (announce-based): ${JSON.stringify(serve.output().split('\n').filter((l) => / completed /.test(l)))}`)
  if (wait2.code !== 0) {
    for (const s of SERVERS) t.diagnostic(`${s} after wait 2: ${JSON.stringify(rowOf(s2, s)?.cells[r2.infoHash])}`)
    t.diagnostic(`rTorrent's own view: ${JSON.stringify(await rt.downloads().catch((e: Error) => e.message))}`)
    t.diagnostic(`transmission: ${(await trRemote('-l').catch((e: Error) => e.message)).trim()}`)
    t.diagnostic(`qBittorrent: ${await httpIn('qbt', `${qbtApi}/torrents/info`).catch((e: Error) => e.message)}`)
  }

  await t.test('release 2 resumes after the restart: wait returns 0, every server complete', () => {
    assert.equal(wait2.code, 0, `wait: ${wait2.stdout}\n${wait2.stderr.split('\n').slice(-6).join('\n')}`)
    for (const s of SERVERS) {
      const cell = rowOf(s2, s)?.cells[r2.infoHash]
      assert.equal(cell?.state, 'complete', `${s}: ${JSON.stringify(cell)}`)
      assert.equal(typeof cell?.completedAt, 'number')
      assert.equal(rowOf(s2, s)?.cells[r1.infoHash]?.completedAt, completedAt1[s], `${s} still has release 1's completedAt`)
    }
    const rollout = s2.rollouts.find((r) => r.infoHash === r2.infoHash)
    assert.equal(rollout?.expectedComplete, 4, JSON.stringify(rollout))
    assert.notEqual(rowOf(s2, 'fw')?.cells[r2.infoHash]?.state, 'complete')
  })

  await t.test('every server really has release 2 (byte-identical)', async () => {
    const original = await readFile(file2)
    const places: Record<ServerName, string> = { qbt: qbtSave, tr: trDownload, aria2: dl('aria2', 2), rt: rtDownload }
    for (const s of SERVERS) {
      await poll(`${s}'s copy of release 2`, 10_000, async () => (await stat(path.join(places[s], r2.name)).catch(() => null))?.size === SIZE_2)
      assert.ok((await readFile(path.join(places[s], r2.name))).equals(original), `${s} has an identical copy`)
    }
  })
  t.diagnostic(`done at ${elapsed()}`)
})

