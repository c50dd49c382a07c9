/**
 * Hooks (electron/engine/hooks.ts) through a real engine: the events come from the fleet model as
 * the servers' own traffic drives it (aria2c's download for a rollout, a tracker announce that
 * never progresses for a stall), and reach a real shell command (writing a file) and a local HTTP
 * listener (the webhook). Hanging hooks are cut at their timeout, logged in one line, and seeding
 * goes on meanwhile.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import type { HookSettings, ReleaseSummary } from '../../shared/contract.js'
import { SwarmdropError } from '../../shared/errors.js'
import { startEngine, type Engine } from '../../electron/engine/engine.js'
import { noResolver } from '../../electron/engine/fleet-tracker.js'
import { HookRunner, type HookEvent } from '../../electron/engine/hooks.js'
import { startAria2 } from '../support/aria2.js'
import { publish, waitFor } from '../support/engine.js'
import { pseudoRandom } from '../support/fixtures.js'
import { freePorts } from '../support/ports.js'
import { runCli, type CliResult } from '../support/run-cli.js'
import { startServeProcess, type ServeProcess } from '../support/serve-process.js'
import { tempDir } from '../support/temp.js'

interface Received {
  path: string
  contentType: string | undefined
  body: string
}

/** The webhook's far end: records every POST; `/hang` reads the request and never answers. */
async function startListener(): Promise<{ url: (p: string) => string; posts: Received[]; hung: { received: number; abortedByClient: number }; close: () => Promise<void> }> {
  const posts: Received[] = []
  const hung = { received: 0, abortedByClient: 0 }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.url === '/hang') {
        hung.received++
        // Never answered: only the client giving up closes this socket.
        res.on('close', () => hung.abortedByClient++)
        return
      }
      posts.push({ path: req.url ?? '', contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    posts,
    hung,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A command line that appends one line per event: "<SWARMDROP_EVENT>|<RELEASE>|<INFOHASH>|<stdin JSON>". */
function recordingCommand(file: string): string {
  return `{ printf '%s|%s|%s|' "$SWARMDROP_EVENT" "$SWARMDROP_RELEASE" "$SWARMDROP_INFOHASH"; cat; } >> '${file}'`
}

interface Recorded {
  env: { event: string; release: string; infoHash: string }
  payload: HookEvent
}

async function recorded(file: string): Promise<Recorded[]> {
  if (!existsSync(file)) return []
  // A hook writes its line in two parts (the fields, then its stdin): only whole lines count.
  const text = await readFile(file, 'utf8')
  const lines = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean)
  return lines.map((line) => {
    const [event = '', release = '', infoHash = '', ...json] = line.split('|')
    return { env: { event, release, infoHash }, payload: JSON.parse(json.join('|')) as HookEvent }
  })
}

async function startHookEngine(dataDir: string, log: string[], stallAfterMs?: number): Promise<Engine> {
  const [httpPort, peerPort] = await freePorts(2)
  return startEngine({
    dataDir,
    bindHost: '127.0.0.1',
    overrides: { address: '127.0.0.1', httpPort, peerPort, announceIntervalSeconds: 5 },
    resolver: noResolver,
    log: (line) => void log.push(line),
    stallAfterMs,
  })
}

const NO_HOOKS: HookSettings = { command: null, webhookUrl: null, timeoutSeconds: 10 }

async function setHooks(engine: Engine, hooks: Partial<HookSettings>): Promise<void> {
  const result = await engine.handle('settings.update', { hooks: { ...NO_HOOKS, ...hooks } })
  assert.deepEqual(result.restartRequired, [], 'hooks apply without a restart')
}

/**
 * A tracker announce from `fromIp` (any 127.x address reaches the loopback listener), as a
 * downloader that has `left` bytes to go and listens on a port nobody answers.
 */
function announceFrom(fromIp: string, httpPort: number, infoHash: string, left: number, peerId: Buffer): Promise<number> {
  const enc = (b: Buffer): string => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')
  const query = `info_hash=${enc(Buffer.from(infoHash, 'hex'))}&peer_id=${enc(peerId)}&port=1&uploaded=0&downloaded=0&left=${left}&compact=1&event=started`
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: httpPort, localAddress: fromIp, path: `/announce?${query}`, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
  })
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

test('rollout complete: a roster of one loopback server and a real aria2c download run the command and the webhook once each', async () => {
  const { dir, cleanup } = await tempDir()
  const listener = await startListener()
  const log: string[] = []
  const engine = await startHookEngine(path.join(dir, 'data'), log)
  const aria: ReturnType<typeof startAria2>[] = []
  try {
    // The settings are checked where they are set.
    for (const [hooks, why] of [
      [{ webhookUrl: 'ftp://127.0.0.1/x' }, /http:\/\/ or https:\/\//],
      [{ webhookUrl: 'not a url' }, /is not a URL/],
      [{ command: '   ' }, /non-empty shell command/],
      [{ timeoutSeconds: 0 }, /from 1 to 3600/],
    ] as const) {
      await assert.rejects(engine.handle('settings.update', { hooks: { ...NO_HOOKS, ...hooks } }), (err: SwarmdropError) => err.code === 'INVALID_ARGUMENT' && why.test(err.message))
    }
    const eventsFile = path.join(dir, 'events.log')
    await setHooks(engine, { command: recordingCommand(eventsFile), webhookUrl: listener.url('/deploy?token=s3cret') })
    assert.deepEqual((await engine.handle('fleet.roster.set', { servers: ['127.0.0.1'] })).expected, 1)

    const rollouts: string[] = []
    engine.on('release.rolloutComplete', (e) => rollouts.push(e.infoHash))
    await mkdir(path.join(dir, 'pub'))
    const file = path.join(dir, 'pub', 'agent-3.0.tar')
    await writeFile(file, pseudoRandom(8 * 1024 * 1024 + 3, 'hooks-rollout'))
    const release = await publish(engine, [file])
    const [ariaPort] = await freePorts(1)
    const a = startAria2({ torrent: release.torrentUrl, dir: path.join(dir, 'dl'), listenPort: ariaPort! })
    aria.push(a)
    assert.equal(await a.exited, 0, a.output())

    await waitFor(async () => listener.posts.length >= 1 && (await recorded(eventsFile)).length >= 1, 15_000, 'both hooks to run for the rollout')
    // Three more fleet ticks: the event is raised once per release, never again.
    await sleep(3_000)
    assert.deepEqual(rollouts, [release.infoHash])
    assert.equal(listener.posts.length, 1, JSON.stringify(listener.posts))
    const commandRuns = await recorded(eventsFile)
    assert.equal(commandRuns.length, 1)

    const [post] = listener.posts
    assert.equal(post?.path, '/deploy?token=s3cret')
    assert.equal(post?.contentType, 'application/json')
    const payload = JSON.parse(post?.body ?? '') as HookEvent
    assert.equal(payload.event, 'release.rolloutComplete')
    assert.equal(payload.infoHash, release.infoHash)
    assert.equal(payload.release, release.name)
    assert.ok(payload.event === 'release.rolloutComplete' && payload.servers === 1 && payload.tookMs >= 0, post?.body)
    assert.ok(!Number.isNaN(Date.parse(payload.at)))
    // The command got the same event on stdin, and the three variables.
    assert.deepEqual(commandRuns[0]?.payload, payload)
    assert.deepEqual(commandRuns[0]?.env, { event: 'release.rolloutComplete', release: release.name, infoHash: release.infoHash })
    // One line per hook run; the webhook's secret (path and query) never reaches the log.
    assert.equal(log.filter((l) => /^hook: command for release\.rolloutComplete "agent-3\.0\.tar" done in/.test(l)).length, 1, log.join('\n'))
    assert.equal(log.filter((l) => /^hook: webhook http:\/\/127\.0\.0\.1:\d+ for release\.rolloutComplete "agent-3\.0\.tar" answered 204/.test(l)).length, 1, log.join('\n'))
    assert.ok(!log.some((l) => l.includes('s3cret')), log.join('\n'))
  } finally {
    await Promise.all(aria.map((a) => a.stop()))
    await engine.close()
    await listener.close()
    await cleanup()
  }
})

test('a stall fires once per server and release; hanging hooks are cut at the timeout and logged, and seeding goes on', async () => {
  const { dir, cleanup } = await tempDir()
  const listener = await startListener()
  const log: string[] = []
  const STALL_MS = 1_500
  const engine = await startHookEngine(path.join(dir, 'data'), log, STALL_MS)
  const aria: ReturnType<typeof startAria2>[] = []
  try {
    const eventsFile = path.join(dir, 'events.log')
    await setHooks(engine, { command: recordingCommand(eventsFile), webhookUrl: listener.url('/stall') })
    await mkdir(path.join(dir, 'pub'))
    const file = path.join(dir, 'pub', 'web-7.1.tar')
    const SIZE = 6 * 1024 * 1024
    await writeFile(file, pseudoRandom(SIZE, 'hooks-stall'))
    const release: ReleaseSummary = await publish(engine, [file])
    const httpPort = engine.httpPort

    // 127.0.0.2 announces it is half way, then says nothing more: stalled after STALL_MS.
    const peerId = Buffer.concat([Buffer.from('-XX0001-'), randomBytes(12)])
    const announced = Date.now()
    assert.equal(await announceFrom('127.0.0.2', httpPort, release.infoHash, SIZE / 2, peerId), 200)
    await waitFor(async () => listener.posts.length >= 1 && (await recorded(eventsFile)).length >= 1, 10_000, 'both hooks to run for the stall')
    assert.ok(Date.now() - announced >= STALL_MS, 'not before the stall time')
    const stall = JSON.parse(listener.posts[0]?.body ?? '') as HookEvent
    assert.equal(stall.event, 'release.stalled')
    assert.ok(stall.event === 'release.stalled' && stall.server.ip === '127.0.0.2' && stall.percent === 0.5 && stall.stalledForMs > STALL_MS, JSON.stringify(stall))
    assert.equal(stall.infoHash, release.infoHash)
    assert.deepEqual((await recorded(eventsFile))[0]?.env, { event: 'release.stalled', release: release.name, infoHash: release.infoHash })
    assert.ok(log.some((l) => /^127\.0\.0\.2 stalled on web-7\.1\.tar at 50%/.test(l)), log.join('\n'))

    // It moves on, then stalls again: the cell turns stalled a second time, the hooks do not run again.
    assert.equal(await announceFrom('127.0.0.2', httpPort, release.infoHash, SIZE / 4, peerId), 200)
    await waitFor(async () => (await engine.handle('fleet.server', { ip: '127.0.0.2' })).timeline.filter((t) => t.kind === 'stalled').length === 2, 10_000, 'the second stall in the timeline')
    await sleep(1_500)
    assert.equal(listener.posts.length, 1)
    assert.equal((await recorded(eventsFile)).length, 1)

    // Now hooks that hang: a command whose whole process group must go, a webhook that never answers.
    const TIMEOUT_S = 2
    const sleepPid = path.join(dir, 'sleep.pid')
    await setHooks(engine, { command: `sleep 60 & echo $! > '${sleepPid}'; wait`, webhookUrl: listener.url('/hang'), timeoutSeconds: TIMEOUT_S })
    assert.equal(await announceFrom('127.0.0.3', httpPort, release.infoHash, SIZE, Buffer.concat([Buffer.from('-XX0001-'), randomBytes(12)])), 200)
    await waitFor(() => existsSync(sleepPid) && listener.hung.received === 1, 10_000, 'the hanging hooks to start')
    const hangStarted = Date.now()
    const pid = Number((await readFile(sleepPid, 'utf8')).trim())
    assert.ok(pid > 0)

    // Seeding goes on while they hang: a real download of the release completes.
    const [ariaPort] = await freePorts(1)
    const a = startAria2({ torrent: release.torrentUrl, dir: path.join(dir, 'dl'), listenPort: ariaPort! })
    aria.push(a)
    assert.equal(await a.exited, 0, a.output())
    assert.deepEqual(await readFile(path.join(dir, 'dl', 'web-7.1.tar')), await readFile(file))

    const cutCommand = /^error: hook: command for release\.stalled "web-7\.1\.tar" on 127\.0\.0\.3 timed out after 2 s and was killed$/
    const cutWebhook = /^error: hook: webhook http:\/\/127\.0\.0\.1:\d+ for release\.stalled "web-7\.1\.tar" on 127\.0\.0\.3 timed out after 2 s and was aborted$/
    await waitFor(() => log.some((l) => cutCommand.test(l)) && log.some((l) => cutWebhook.test(l)), 10_000, 'both hooks to be cut')
    const cutAfter = Date.now() - hangStarted
    assert.ok(cutAfter < (TIMEOUT_S + 3) * 1000, `cut after ${cutAfter} ms`)
    assert.equal(log.filter((l) => cutCommand.test(l)).length, 1, log.join('\n'))
    assert.equal(log.filter((l) => cutWebhook.test(l)).length, 1, log.join('\n'))
    // The request was really aborted (the listener saw its socket close unanswered), and the
    // command's background child died with its group.
    await waitFor(() => listener.hung.abortedByClient === 1, 5_000, 'the webhook request to be aborted')
    await waitFor(() => !processAlive(pid), 5_000, `the hook's sleep (pid ${pid}) to be killed`)

    const snap = engine.snapshot()
    assert.equal(snap.releases.find((r) => r.infoHash === release.infoHash)?.state, 'seeding')
    assert.equal((await fetch(engine.endpoints().feedUrl)).status, 200)
  } finally {
    await Promise.all(aria.map((a) => a.stop()))
    await engine.close()
    await listener.close()
    await cleanup()
  }
})

test('at most maxRunning hooks run at once; the others wait their turn, and none is lost', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const trace = path.join(dir, 'trace')
    const log: string[] = []
    const runner = new HookRunner({
      settings: () => ({ command: `echo "start $SWARMDROP_INFOHASH" >> '${trace}'; sleep 0.3; echo "end $SWARMDROP_INFOHASH" >> '${trace}'`, webhookUrl: null, timeoutSeconds: 10 }),
      log: (l) => void log.push(l),
      maxRunning: 2,
    })
    const started = Date.now()
    for (let i = 0; i < 6; i++) runner.fire({ event: 'release.rolloutComplete', at: new Date().toISOString(), infoHash: String(i).repeat(40), release: `r${i}`, servers: 1, tookMs: 0 })
    // fire() returned at once, with nothing run yet.
    assert.ok(Date.now() - started < 200)
    await runner.idle()
    let running = 0
    let peak = 0
    const lines = (await readFile(trace, 'utf8')).split('\n').filter(Boolean)
    for (const line of lines) {
      running += line.startsWith('start') ? 1 : -1
      peak = Math.max(peak, running)
    }
    assert.equal(lines.length, 12)
    assert.equal(peak, 2)
    assert.equal(log.filter((l) => /^hook: command for release\.rolloutComplete "r\d" done in/.test(l)).length, 6, log.join('\n'))
    await runner.close()
  } finally {
    await cleanup()
  }
})

test('swarmdrop hooks: shows and sets the hooks of the running serve, checked by the engine', async () => {
  const { dir, cleanup } = await tempDir()
  const dataDir = path.join(dir, 'data')
  const [httpPort, peerPort] = await freePorts(2)
  let serve: ServeProcess | null = null
  try {
    serve = await startServeProcess(['--data-dir', dataDir, '--address', '127.0.0.1', '--http-port', String(httpPort), '--peer-port', String(peerPort)])
    const hooks = async (...args: string[]): Promise<CliResult> => runCli(['hooks', ...args, '--data-dir', dataDir])
    const shown = await hooks()
    assert.equal(shown.code, 0, shown.stderr)
    assert.equal(shown.stdout, 'command:  (none)\nwebhook:  (none)\ntimeout:  10 s\n')

    const set = await hooks('--command', 'logger -t deploy "$SWARMDROP_RELEASE done"', '--webhook', 'https://hooks.example.test/T0/B0?key=x', '--timeout', '30', '--json')
    assert.equal(set.code, 0, set.stderr)
    assert.deepEqual(JSON.parse(set.stdout), { ok: true, hooks: { command: 'logger -t deploy "$SWARMDROP_RELEASE done"', webhookUrl: 'https://hooks.example.test/T0/B0?key=x', timeoutSeconds: 30 } })
    // Fields not given keep their values; --no-command clears one.
    const cleared = await hooks('--no-command', '--json')
    assert.deepEqual(JSON.parse(cleared.stdout).hooks, { command: null, webhookUrl: 'https://hooks.example.test/T0/B0?key=x', timeoutSeconds: 30 })
    // Kept across a restart, in settings.json.
    assert.deepEqual(JSON.parse(await readFile(path.join(dataDir, 'settings.json'), 'utf8')).hooks, { command: null, webhookUrl: 'https://hooks.example.test/T0/B0?key=x', timeoutSeconds: 30 })

    const badUrl = await hooks('--webhook', 'file:///etc/passwd')
    assert.equal(badUrl.code, 1)
    assert.match(badUrl.stderr, /error INVALID_ARGUMENT: Invalid setting: hooks\.webhookUrl must be an http:\/\/ or https:\/\/ URL, got file:/)
    const badTimeout = await hooks('--timeout', '7200')
    assert.equal(badTimeout.code, 1)
    assert.match(badTimeout.stderr, /hooks\.timeoutSeconds must be a whole number of seconds from 1 to 3600/)
    const both = await hooks('--command', 'true', '--no-command')
    assert.equal(both.code, 2)
    assert.match(both.stderr, /give --command or --no-command, not both/)
  } finally {
    await serve?.stop()
    await cleanup()
  }
})

/** Running, as opposed to gone or a zombie (a container's pid 1 may never reap the orphans it inherits). */
function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/^\d+ \(.*\) Z/.test(stat)
  } catch {
    return false
  }
}
