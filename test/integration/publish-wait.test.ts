/**
 * `swarmdrop publish <path> --wait`: one command for a deploy script. It publishes through the
 * running `serve`, then waits exactly as `swarmdrop wait` does (the same function), with wait's
 * exit codes: 0 once the servers have it (here a real aria2c that picks the release up from the
 * feed while the command waits), 1 naming the missing servers at the timeout, 2 for a wrong
 * command line, which is refused before anything is published.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { ReleaseSummary } from '../../shared/contract.js'
import { startAria2, type Aria2Run } from '../support/aria2.js'
import { waitFor } from '../support/engine.js'
import { feedItems } from '../support/feed-items.js'
import { pseudoRandom } from '../support/fixtures.js'
import { freePorts } from '../support/ports.js'
import { BIN, runCli, type CliResult } from '../support/run-cli.js'
import { startServeProcess, type ServeProcess } from '../support/serve-process.js'
import { tempDir } from '../support/temp.js'

/** The CLI as a child whose end we can await while doing other things meanwhile. */
function startCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }))
  })
}

test('publish --wait: usage errors first, no roster refused before publishing, success once aria2c has it, timeout names the missing server', async () => {
  const { dir, cleanup } = await tempDir()
  const dataDir = path.join(dir, 'data')
  const [httpPort, peerPort, ariaPort] = await freePorts(3)
  let serve: ServeProcess | null = null
  let aria: Aria2Run | null = null
  try {
    serve = await startServeProcess(['--data-dir', dataDir, '--address', '127.0.0.1', '--http-port', String(httpPort), '--peer-port', String(peerPort)])
    const feedUrl = `http://127.0.0.1:${httpPort}/feed.xml`
    await mkdir(path.join(dir, 'pub'))
    const file = path.join(dir, 'pub', 'api-5.2.tar')
    await writeFile(file, pseudoRandom(5 * 1024 * 1024 + 11, 'publish-wait'))
    const other = path.join(dir, 'pub', 'api-5.3.tar')
    await writeFile(other, pseudoRandom(1024 * 1024, 'publish-wait-2'))
    const released = async (): Promise<ReleaseSummary[]> => {
      const r = await runCli(['status', '--data-dir', dataDir, '--json'])
      assert.equal(r.code, 0, r.stderr)
      return (JSON.parse(r.stdout) as { releases: ReleaseSummary[] }).releases
    }

    // A wrong command line: exit 2, before connecting or hashing.
    const badTimeout = await runCli(['publish', file, '--wait', '--timeout', 'soon', '--data-dir', dataDir])
    assert.equal(badTimeout.code, 2, badTimeout.stderr)
    assert.match(badTimeout.stderr, /--timeout must be a number of seconds, got "soon"/)
    const noWait = await runCli(['publish', file, '--servers', '1', '--data-dir', dataDir])
    assert.equal(noWait.code, 2, noWait.stderr)
    assert.match(noWait.stderr, /--servers and --timeout go with --wait/)
    // --servers all (the default) with no roster can never succeed: refused, nothing published.
    const noRoster = await runCli(['publish', file, '--wait', '--data-dir', dataDir])
    assert.equal(noRoster.code, 1, noRoster.stderr)
    assert.match(noRoster.stderr, /error INVALID_ARGUMENT: There is no roster of expected servers/)
    assert.deepEqual(await released(), [])

    // Publish and wait for any one server; a real aria2c picks the release up from the feed meanwhile.
    const started = Date.now()
    const deploying = startCli(['publish', file, '--wait', '--servers', '1', '--timeout', '90', '--data-dir', dataDir, '--json'])
    let torrentUrl = ''
    await waitFor(async () => {
      torrentUrl = (await feedItems(feedUrl)).items.find((i) => i.title === 'api-5.2.tar')?.enclosure.replace(/&amp;/g, '&') ?? ''
      return torrentUrl !== ''
    }, 30_000, 'the release in the feed')
    aria = startAria2({ torrent: torrentUrl, dir: path.join(dir, 'dl'), listenPort: ariaPort! })
    const deployed = await deploying
    assert.equal(deployed.code, 0, deployed.stderr)
    assert.equal(await aria.exited, 0, aria.output())
    assert.deepEqual(await readFile(path.join(dir, 'dl', 'api-5.2.tar')), await readFile(file))
    // One JSON line: wait's fields plus the release.
    const json = JSON.parse(deployed.stdout) as { ok: boolean; infoHash: string; complete: string[]; release: ReleaseSummary }
    assert.equal(json.ok, true)
    assert.deepEqual(json.complete, ['127.0.0.1'])
    assert.equal(json.release.name, 'api-5.2.tar')
    assert.equal(json.infoHash, json.release.infoHash)
    assert.equal(json.release.state, 'seeding')
    assert.ok(Date.now() - started < 90_000)

    // `wait` runs the same loop and agrees.
    const waited = await runCli(['wait', 'api-5.2.tar', '--servers', '1', '--timeout', '10', '--data-dir', dataDir])
    assert.equal(waited.code, 0, waited.stderr)
    assert.match(waited.stdout, /^api-5\.2\.tar reached 1 server\(s\): 127\.0\.0\.1$/m)

    // A server that never shows up: exit 1 at the timeout, naming it; the info-hash was printed first.
    const late = await runCli(['publish', other, '--wait', '--servers', 'web-09', '--timeout', '2', '--data-dir', dataDir])
    assert.equal(late.code, 1, late.stderr)
    assert.match(late.stdout, /^[0-9a-f]{40}\n/)
    assert.match(late.stderr, /error TIMEOUT: api-5\.3\.tar did not reach web-09 \(never seen\) within 2 s/)
    assert.equal((await released()).find((r) => r.name === 'api-5.3.tar')?.state, 'seeding', 'a timed-out wait leaves the release published')
  } finally {
    await aria?.stop()
    await serve?.stop()
    await cleanup()
  }
})
