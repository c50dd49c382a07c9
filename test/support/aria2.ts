/** aria2c as a real downloader (or seeder, for the benchmark), headless, on its own port. */
import { spawn } from 'node:child_process'
import { supervise, type Supervised } from './child-process.js'
import { freePorts } from './ports.js'
import { toolPath } from './tools.js'

export interface Aria2Options {
  /** A .torrent URL or file path. */
  torrent: string
  dir: string
  listenPort: number
  /** Keep seeding after the download (forever) instead of exiting. */
  seed?: boolean
  /** Limit this client's upload (bytes/s); 0 = unlimited. */
  maxUpload?: number
  extra?: string[]
  logFile?: string
  /** Run inside this network namespace (a test LAN host). */
  netns?: string
}

/** aria2c running; `exited` resolves with its exit code. */
export type Aria2Run = Supervised

export function startAria2(o: Aria2Options): Aria2Run {
  const args = [
    `--dir=${o.dir}`,
    o.seed ? '--seed-ratio=0.0' : '--seed-time=0',
    '--enable-dht=false',
    '--enable-dht6=false',
    '--bt-enable-lpd=false',
    '--enable-peer-exchange=false',
    `--listen-port=${o.listenPort}`,
    `--dht-listen-port=${o.listenPort}`,
    '--follow-torrent=true',
    '--bt-remove-unselected-file=false',
    '--file-allocation=none',
    '--summary-interval=0',
    '--console-log-level=warn',
    '--bt-stop-timeout=120',
    `--max-upload-limit=${o.maxUpload ?? 0}`,
    ...(o.seed ? ['--check-integrity=true', '--bt-seed-unverified=true'] : []),
    ...(o.logFile ? [`--log=${o.logFile}`, '--log-level=info'] : []),
    ...(o.extra ?? []),
    o.torrent,
  ]
  const [cmd, argv] = o.netns ? [toolPath('ip'), ['netns', 'exec', o.netns, toolPath('aria2c'), ...args]] : [toolPath('aria2c'), args]
  return supervise(spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] }), 5000)
}

/**
 * One download to completion, as a server would run it: aria2c from a .torrent URL into `dir`,
 * given `timeoutMs` before it is stopped; throws with its output unless it exited 0.
 */
export async function aria2Download(torrent: string, dir: string, timeoutMs = 60_000): Promise<void> {
  const [port] = await freePorts(1)
  const aria = startAria2({ torrent, dir, listenPort: port as number })
  const timer = setTimeout(() => void aria.stop(), timeoutMs)
  const code = await aria.exited
  clearTimeout(timer)
  if (code !== 0) throw new Error(`aria2c exited ${code}:\n${aria.output()}`)
}
