import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { Settings } from '../../shared/contract.js'
import { AdminServer } from '../engine/admin-server.js'
import { adminToken, removeInstance, resolveDataDir, writeInstance } from '../engine/data-dir.js'
import { startEngine } from '../engine/engine.js'
import { UsageError } from './cli-errors.js'

export const SERVE_USAGE = `swarmdrop serve [--data-dir DIR] [--address HOST] [--http-port N] [--peer-port N]

  Runs the tracker, the RSS feed and the seeder headless, re-seeds every stored release and
  prints the feed URL and the dashboard URL. Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.
  Flags override the stored settings for this run only. One instance per data dir
  (default: the desktop app's folder, or $SWARMDROP_DATA_DIR).

  Ports: HTTP (feed, .torrent files, web seed, tracker) on TCP and UDP, default 7070;
  BitTorrent peers on TCP, default 6881. Open both in the firewall.`

const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard', import.meta.url))

export function portFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${name} must be a port number from 1 to 65535, got "${value}"`)
  return n
}

export async function runServe(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      address: { type: 'string' },
      'http-port': { type: 'string' },
      'peer-port': { type: 'string' },
    },
  })
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments, got "${positionals.join(' ')}"`)
  const overrides: Partial<Settings> = {}
  if (values.address !== undefined) overrides.address = values.address
  const httpPort = portFlag('http-port', values['http-port'])
  if (httpPort !== undefined) overrides.httpPort = httpPort
  const peerPort = portFlag('peer-port', values['peer-port'])
  if (peerPort !== undefined) overrides.peerPort = peerPort

  const dataDir = resolveDataDir(values['data-dir'])
  const say = (line: string): void => void process.stdout.write(`${line}\n`)
  const engine = await startEngine({ dataDir, overrides, log: (line) => say(`swarmdrop: ${line}`) })
  let admin: AdminServer | null = null
  try {
    const staticDir = existsSync(path.join(DASHBOARD_DIR, 'index.html')) ? DASHBOARD_DIR : null
    admin = new AdminServer({ core: engine, token: await adminToken(dataDir), port: 0, host: '127.0.0.1', staticDir, uploadDir: path.join(dataDir, 'uploads') })
    await admin.listen()
    engine.setDashboardUrl(staticDir ? admin.dashboardUrl : null)
    await writeInstance(dataDir, { pid: process.pid, adminPort: admin.port, httpPort: engine.httpPort, startedAt: new Date().toISOString() })
  } catch (err) {
    await admin?.close()
    await engine.close()
    throw err
  }

  const ep = engine.endpoints()
  const stored = engine.snapshot().releases.filter((r) => r.state !== 'retired').length
  say(`Swarmdrop serving from ${dataDir}`)
  say(`  feed:       ${ep.feedUrl}`)
  say(`  tracker:    ${ep.announceUrls.join('  ')}`)
  say(`  ports:      HTTP ${engine.httpPort} (TCP+UDP), peers ${engine.peerPort} (TCP)`)
  say(`  dashboard:  ${ep.dashboardUrl ?? `${admin.baseUrl} (no dashboard build: run "npm run build")`}`)
  if (stored > 0) say(`  re-seeding ${stored} release(s)...`)
  void engine.restored.then(() => {
    const snap = engine.snapshot()
    const seeding = snap.releases.filter((r) => r.state === 'seeding').length
    const failed = snap.releases.filter((r) => r.state === 'error')
    if (stored > 0) say(`swarmdrop: ${seeding} release(s) seeding${failed.length ? `, ${failed.length} with errors` : ''}`)
    for (const r of failed) say(`swarmdrop: error ${r.error?.code}: ${r.error?.message}`)
    say('swarmdrop: ready')
  })

  const adminServer = admin
  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) return
      stopping = true
      say(`swarmdrop: ${signal}: stopping (announcing "stopped" to the tracker)...`)
      void (async () => {
        await removeInstance(dataDir)
        await adminServer.close()
        await engine.close()
        say('swarmdrop: stopped')
        resolve(0)
      })()
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
    if (process.env.SWARMDROP_STOP_WITH_LAUNCHER === '1') {
      // Started by bin/start.js (npm start) in its own process group: its end, however abrupt,
      // closes our stdin, and we stop rather than hold the ports and the data-dir lock as an orphan.
      process.stdin.once('end', () => stop('launcher exited'))
      process.stdin.once('error', () => stop('launcher exited'))
      process.stdin.resume()
      process.stdin.unref?.()
    }
  })
}
