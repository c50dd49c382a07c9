import { fileURLToPath } from 'node:url'
import { toErrorInfo } from '../../shared/errors.js'
import { handleFatalErrors } from '../engine/fatal.js'
import { INSTANCE_FLAGS_USAGE, parseInstanceFlags, startInstance, type InstanceFlags } from '../engine/instance.js'
import { describeRc4 } from '../engine/peer-encryption.js'
import { UsageError } from './cli-errors.js'
import { signInUrl } from './dashboard-command.js'

export const SERVE_USAGE = `swarmdrop serve ${INSTANCE_FLAGS_USAGE}

  Runs the tracker, the RSS feed and the seeder headless, re-seeds every stored release and
  prints the feed URL and the dashboard URL. Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.
  Flags override the stored settings for this run only. One instance per data dir
  (default: the desktop app's folder, or $SWARMDROP_DATA_DIR).

  Ports: HTTP (feed, .torrent files, web seed, tracker) on TCP and UDP, default 7070;
  BitTorrent peers on TCP, default 6881. Open both in the firewall.

  --watch DIR[=CHANNEL] (repeatable; replaces the watch folders in Settings for this run) publishes
  each file or folder put into DIR to CHANNEL (default: the default channel) once it has stopped
  changing for 10 s; one changed later is published again and its old release retired.

  --external-tracker URL puts an external tracker (opentracker) into every .torrent instead of
  ours, for fleets beyond what the built-in tracker holds. --tracker-whitelist FILE: Swarmdrop
  writes the published info-hashes there (opentracker's -w / access.whitelist file), and
  --tracker-reload-pid PID is sent SIGHUP after each change, which is when opentracker re-reads it.
  The built-in tracker keeps answering clients that hold an older .torrent.`

const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard', import.meta.url))

export async function runServe(argv: string[]): Promise<number> {
  let flags: InstanceFlags
  try {
    flags = parseInstanceFlags(argv, { strict: true })
  } catch (err) {
    // A wrong command line is a usage error (exit 2), not a failed operation.
    throw new UsageError(toErrorInfo(err).message)
  }
  const { dataDir } = flags
  const say = (line: string): void => void process.stdout.write(`${line}\n`)
  const instance = await startInstance({ ...flags, dashboardDir: DASHBOARD_DIR, log: (line) => say(`swarmdrop: ${line}`) })
  const { engine, admin } = instance
  handleFatalErrors(process, { stop: () => instance.stop(), log: (line) => process.stderr.write(`swarmdrop: ${line}\n`), exit: (code) => process.exit(code) })

  const ep = engine.endpoints()
  const stored = engine.snapshot().releases.filter((r) => r.state !== 'retired').length
  say(`Swarmdrop serving from ${dataDir}`)
  say(`  feed:       ${ep.feedUrl}`)
  const external = engine.settings().externalTracker
  say(`  tracker:    ${ep.announceUrls.join('  ')}${external ? ` (external${external.whitelistFile ? `, whitelist ${external.whitelistFile}` : ''})` : ''}`)
  say(`  ports:      HTTP ${engine.httpPort} (TCP+UDP), peers ${engine.peerPort} (TCP)`)
  say(`  RC4:        ${describeRc4()}`)
  for (const w of engine.settings().watchFolders) say(`  watching:   ${w.dir} (channel ${w.channel})`)
  if (!ep.dashboardUrl) say(`  dashboard:  ${admin.baseUrl} (no dashboard build: run "npm run build")`)
  // The sign-in link holds the admin token: shown to a person at a terminal, never written to a
  // log or a service journal, where anyone who can read it could drive this instance.
  else if (process.stdout.isTTY) say(`  dashboard:  ${signInUrl(admin.port, admin.token)}`)
  else say(`  dashboard:  ${ep.dashboardUrl} (sign-in link: swarmdrop dashboard --data-dir ${JSON.stringify(dataDir)})`)
  if (stored > 0) say(`  re-seeding ${stored} release(s)...`)
  void engine.restored.then(() => {
    const snap = engine.snapshot()
    const seeding = snap.releases.filter((r) => r.state === 'seeding').length
    const failed = snap.releases.filter((r) => r.state === 'error')
    if (stored > 0) say(`swarmdrop: ${seeding} release(s) seeding${failed.length ? `, ${failed.length} with errors` : ''}`)
    for (const r of failed) say(`swarmdrop: error ${r.error?.code}: ${r.error?.message}`)
    say('swarmdrop: ready')
  })

  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) return
      stopping = true
      say(`swarmdrop: ${signal}: stopping (announcing "stopped" to the tracker)...`)
      void (async () => {
        await instance.stop()
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

