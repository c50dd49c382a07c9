/**
 * `npm start` without an Electron binary: one line saying so, then the real `swarmdrop serve`
 * with its URLs, and Ctrl-C / kill reach it through bin/start.js so seeding stops cleanly.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { locateElectronBinary } from '../../electron/cli/electron-binary.js'
import { freePorts } from '../support/ports.js'
import { tempDir } from '../support/temp.js'

const START = fileURLToPath(new URL('../../../bin/start.js', import.meta.url))
const FALLBACK = /^swarmdrop: the Electron binary is not available on this machine \((.+)\); starting the headless server with its web dashboard instead\.$/

interface Started {
  child: ChildProcess
  output: () => string
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

function startApp(args: string[], env: NodeJS.ProcessEnv): Started {
  const child = spawn(process.execPath, [START, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const waiters = new Set<() => void>()
  const onData = (d: Buffer): void => {
    output += d.toString()
    for (const w of waiters) w()
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  const waitFor = (pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const m = output.match(pattern)
        if (m) {
          cleanupWaiter()
          resolve(m)
        }
      }
      const timer = setTimeout(() => {
        cleanupWaiter()
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output so far:\n${output}`))
      }, timeoutMs)
      const gone = (): void => {
        cleanupWaiter()
        reject(new Error(`bin/start.js exited while waiting for ${pattern}; output:\n${output}`))
      }
      const cleanupWaiter = (): void => {
        clearTimeout(timer)
        waiters.delete(check)
        child.off('exit', gone)
      }
      waiters.add(check)
      child.once('exit', gone)
      check()
    })
  return { child, output: () => output, waitFor, exited }
}

/** Whatever happens in the test, no server is left running: start.js, then the serve child it spawned. */
async function killAll(started: Started, dataDir: string): Promise<void> {
  if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGKILL')
  const lock = path.join(dataDir, 'lock')
  const pid = existsSync(lock) ? Number.parseInt(readFileSync(lock, 'utf8'), 10) : NaN
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

function baseEnv(dataDir: string, overrideDist: string | null): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SWARMDROP_DATA_DIR: dataDir }
  delete env.ELECTRON_OVERRIDE_DIST_PATH
  if (overrideDist !== null) env.ELECTRON_OVERRIDE_DIST_PATH = overrideDist
  return env
}

async function runUntilSignal(signal: 'SIGINT' | 'SIGTERM', forceOverride: boolean): Promise<{ reason: string; output: string; elapsedMs: number }> {
  const { dir, cleanup } = await tempDir()
  const dataDir = path.join(dir, 'data')
  // On a machine that has the binary, point Electron's own override at an empty folder so the
  // fallback path is what runs; here the natural environment already has no binary.
  const useOverride = forceOverride || locateElectronBinary().ok
  const [httpPort, peerPort] = await freePorts(2)
  const started = startApp(
    ['--data-dir', dataDir, '--address', '127.0.0.1', '--http-port', String(httpPort), '--peer-port', String(peerPort)],
    baseEnv(dataDir, useOverride ? path.join(dir, 'no-electron-here') : null),
  )
  const t0 = Date.now()
  try {
    const fallback = await started.waitFor(/^swarmdrop: the Electron binary.*\n/m)
    const line = fallback[0].trimEnd()
    const m = line.match(FALLBACK)
    assert.ok(m, `one clear fallback line, got: ${line}`)
    const reason = m[1] ?? ''
    assert.equal(started.output().split('\n').filter((l) => /Electron/.test(l)).length, 1, 'the fallback is said once, on one line')

    const feedUrl = (await started.waitFor(new RegExp(`http://127\\.0\\.0\\.1:${httpPort}/feed\\.xml\\S*`)))[0]
    // Its output is a pipe here, not a terminal: the dashboard line carries no token.
    const dashboardUrl = (await started.waitFor(/dashboard:\s+(http:\/\/127\.0\.0\.1:\d+\/) \(sign-in link: swarmdrop dashboard --data-dir /))[1] ?? ''
    assert.doesNotMatch(started.output(), /token=/)
    // npm start gives serve OpenSSL's RC4, not bittorrent-protocol's JavaScript one.
    assert.match(started.output(), /^ {2}RC4: +OpenSSL's /m)
    const elapsedMs = Date.now() - t0

    const feed = await fetch(feedUrl)
    assert.equal(feed.status, 200)
    assert.match(feed.headers.get('content-type') ?? '', /rss\+xml|text\/xml/)
    assert.match(await feed.text(), /<rss/)
    const dashboard = await fetch(dashboardUrl.replace(/#.*$/, ''))
    assert.ok(dashboard.status < 500, `dashboard answers (${dashboard.status})`)
    assert.ok(existsSync(path.join(dataDir, 'lock')), 'the server holds the data-dir lock while running')

    started.child.kill(signal)
    if (signal === 'SIGINT') {
      // Under `npm start` a Ctrl-C arrives twice (from the terminal and forwarded by npm). serve
      // treats a second SIGINT as "die now", so start.js must pass one burst on only once.
      await new Promise((r) => setTimeout(r, 1))
      started.child.kill(signal)
    }
    let timer: NodeJS.Timeout | undefined
    const exit = await Promise.race([
      started.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no exit 15 s after ${signal}; output:\n${started.output()}`)), 15_000)
      }),
    ]).finally(() => clearTimeout(timer))
    assert.equal(exit.code, 0, `clean exit after ${signal}; output:\n${started.output()}`)
    assert.equal(existsSync(path.join(dataDir, 'lock')), false, 'the data-dir lock is released: the server really stopped')
    await assert.rejects(fetch(feedUrl), `nothing listens on ${httpPort} after ${signal}`)
    return { reason, output: started.output(), elapsedMs }
  } finally {
    await killAll(started, dataDir)
    await cleanup()
  }
}

test('npm start without Electron: one line saying why, then serve with its URLs; a double Ctrl-C stops it cleanly', { timeout: 60_000 }, async (t) => {
  const { reason, elapsedMs } = await runUntilSignal('SIGINT', false)
  assert.ok(reason.length > 10, 'the reason is spelled out')
  t.diagnostic(`fallback reason: ${reason}; serve printed its URLs ${elapsedMs} ms after launch`)
})

test('a launcher killed outright (SIGKILL) takes its server down with it: no orphan holds the ports', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = await tempDir()
  const dataDir = path.join(dir, 'data')
  const [httpPort, peerPort] = await freePorts(2)
  const started = startApp(
    ['--data-dir', dataDir, '--address', '127.0.0.1', '--http-port', String(httpPort), '--peer-port', String(peerPort)],
    baseEnv(dataDir, locateElectronBinary().ok ? path.join(dir, 'no-electron-here') : null),
  )
  try {
    const feedUrl = (await started.waitFor(new RegExp(`http://127\\.0\\.0\\.1:${httpPort}/feed\\.xml\\S*`)))[0]
    await started.waitFor(/swarmdrop: ready/)
    assert.equal((await fetch(feedUrl)).status, 200)
    started.child.kill('SIGKILL')
    await started.exited
    const deadline = Date.now() + 15_000
    while (existsSync(path.join(dataDir, 'lock')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    assert.equal(existsSync(path.join(dataDir, 'lock')), false, 'the orphaned server stopped and released the data-dir lock')
    await assert.rejects(fetch(feedUrl), `nothing listens on ${httpPort} any more`)
  } finally {
    await killAll(started, dataDir)
    await cleanup()
  }
})

test('npm start forwards SIGTERM, and names ELECTRON_OVERRIDE_DIST_PATH when that is why', { timeout: 60_000 }, async () => {
  const { reason } = await runUntilSignal('SIGTERM', true)
  assert.match(reason, /ELECTRON_OVERRIDE_DIST_PATH is set but .*no-electron-here.* does not exist/)
})
