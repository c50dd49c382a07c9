/**
 * The one way to start an instance, whichever front end hosts it (`swarmdrop serve` or the
 * Electron main process): the same flags, the engine, the loopback admin server (so the CLI can
 * drive either), the dashboard URL and `instance.json`. Stopping undoes it in reverse.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { Settings } from '../../shared/contract.js'
import { SwarmdropError } from '../../shared/errors.js'
import { PROTOCOL_VERSION } from '../../shared/ws-protocol.js'
import { AdminServer } from './admin-server.js'
import { adminToken, cleanUploadLeftovers, removeInstance, resolveDataDir, uploadsDir, writeInstance } from './data-dir.js'
import { startEngine, type Engine } from './engine.js'
import { noResolver, systemResolver } from './fleet-tracker.js'
import { validateSettings } from './settings-store.js'
import { parseWatchFlags } from './watch-folders.js'

export const INSTANCE_FLAGS_USAGE = '[--data-dir DIR] [--address HOST] [--http-port N] [--peer-port N] [--no-reverse-dns] [--watch DIR[=CHANNEL]]... [--external-tracker URL [--tracker-whitelist FILE [--tracker-reload-pid PID]]]'

export interface InstanceFlags {
  dataDir: string
  /** Win over the stored settings for this run only. */
  overrides: Partial<Settings>
  /** Name the fleet's servers by reverse DNS (off where asking DNS is unwanted or slow). */
  reverseDns: boolean
}

/**
 * `--data-dir`, `--address`, `--http-port`, `--peer-port`, `--watch` (repeatable). `strict` refuses anything else (the
 * CLI); the Electron shell passes false, because Chromium and Electron add switches of their own.
 */
export function parseInstanceFlags(argv: string[], options: { strict: boolean }): InstanceFlags {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: options.strict,
    allowPositionals: !options.strict,
    options: {
      'data-dir': { type: 'string' },
      address: { type: 'string' },
      'http-port': { type: 'string' },
      'peer-port': { type: 'string' },
      'no-reverse-dns': { type: 'boolean' },
      watch: { type: 'string', multiple: true },
      'external-tracker': { type: 'string' },
      'tracker-whitelist': { type: 'string' },
      'tracker-reload-pid': { type: 'string' },
    },
  })
  if (options.strict && positionals.length > 0) throw new SwarmdropError('INVALID_ARGUMENT', `unexpected argument "${positionals.join(' ')}"`)
  const text = (name: 'data-dir' | 'address' | 'http-port' | 'peer-port' | 'external-tracker' | 'tracker-whitelist' | 'tracker-reload-pid'): string | undefined => {
    const v = values[name]
    if (v === undefined) return undefined
    if (typeof v !== 'string' || v === '') throw new SwarmdropError('INVALID_ARGUMENT', `--${name} needs a value`)
    return v
  }
  const overrides: Partial<Settings> = {}
  const address = text('address')
  if (address !== undefined) overrides.address = address
  const httpPort = portFlag('http-port', text('http-port'))
  if (httpPort !== undefined) overrides.httpPort = httpPort
  const peerPort = portFlag('peer-port', text('peer-port'))
  if (peerPort !== undefined) overrides.peerPort = peerPort
  // Replaces the stored list for this run, like every other flag.
  if (values.watch !== undefined) overrides.watchFolders = parseWatchFlags([values.watch].flat())
  const externalTracker = externalTrackerFlags(text('external-tracker'), text('tracker-whitelist'), text('tracker-reload-pid'))
  if (externalTracker !== undefined) overrides.externalTracker = externalTracker
  return { dataDir: resolveDataDir(text('data-dir')), overrides, reverseDns: values['no-reverse-dns'] !== true }
}

/** `--external-tracker URL [--tracker-whitelist FILE [--tracker-reload-pid PID]]`, checked by the settings' own rules. */
function externalTrackerFlags(url: string | undefined, whitelist: string | undefined, pid: string | undefined): Settings['externalTracker'] | undefined {
  if (url === undefined) {
    if (whitelist !== undefined || pid !== undefined) throw new SwarmdropError('INVALID_ARGUMENT', `--${whitelist !== undefined ? 'tracker-whitelist' : 'tracker-reload-pid'} needs --external-tracker URL`)
    return undefined
  }
  if (pid !== undefined && !/^\d+$/.test(pid)) throw new SwarmdropError('INVALID_ARGUMENT', `--tracker-reload-pid must be a process id, got "${pid}"`)
  const value = { announceUrl: url, whitelistFile: whitelist === undefined ? null : path.resolve(whitelist), reloadPid: pid === undefined ? null : Number(pid) }
  return validateSettings({ externalTracker: value }).externalTracker
}

function portFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n > 65535) {
    throw new SwarmdropError('INVALID_ARGUMENT', `--${name} must be a port number from 1 to 65535 (0 = any free port), got "${value}"`)
  }
  return n
}

export interface InstanceOptions extends InstanceFlags {
  /** The built dashboard (dist/dashboard); without its index.html the admin server serves no UI. */
  dashboardDir: string
  /** One line per notable event. */
  log?: (line: string) => void
}

export interface Instance {
  engine: Engine
  admin: AdminServer
  dataDir: string
  /** False when the dashboard was not built: the admin API still runs, without a UI. */
  hasDashboard: boolean
  /** Announces "stopped", closes every port, removes instance.json and releases the lock. */
  stop(): Promise<void>
}

export async function startInstance(options: InstanceOptions): Promise<Instance> {
  const { dataDir } = options
  const engine = await startEngine({ dataDir, overrides: options.overrides, log: options.log, resolver: options.reverseDns ? systemResolver : noResolver })
  let admin: AdminServer | null = null
  try {
    // Only after the lock is ours: another instance may be uploading into the same folder.
    const leftovers = await cleanUploadLeftovers(dataDir)
    if (leftovers > 0) options.log?.(`removed ${leftovers} unfinished upload(s) left by an earlier run`)
    const hasDashboard = existsSync(path.join(options.dashboardDir, 'index.html'))
    admin = new AdminServer({
      core: engine,
      token: await adminToken(dataDir),
      port: 0,
      host: '127.0.0.1',
      staticDir: hasDashboard ? options.dashboardDir : null,
      uploadDir: uploadsDir(dataDir),
    })
    await admin.listen()
    // What every UI and `status` see carries no token; the sign-in link is the front end's to show.
    engine.setDashboardUrl(hasDashboard ? `${admin.baseUrl}/` : null)
    await writeInstance(dataDir, { pid: process.pid, adminPort: admin.port, httpPort: engine.httpPort, protocolVersion: PROTOCOL_VERSION, startedAt: new Date().toISOString() })
    const started = admin
    let stopping: Promise<void> | null = null
    return {
      engine,
      admin: started,
      dataDir,
      hasDashboard,
      stop: () =>
        (stopping ??= (async () => {
          await removeInstance(dataDir)
          await started.close()
          await engine.close()
        })()),
    }
  } catch (err) {
    await admin?.close()
    await engine.close()
    throw err
  }
}
