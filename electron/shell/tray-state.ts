/**
 * What the tray shows, derived from one core snapshot: the icon state, the tooltip and the menu.
 * Pure (no electron import) so it is tested in plain Node; electron/tray.ts only renders it.
 */
import type { CommandName, Snapshot } from '../../shared/contract.js'
import { formatRate } from '../../shared/format.js'

export type TrayIconState = 'idle' | 'seeding' | 'transferring' | 'error'

export const TRAY_ICON_STATES: readonly TrayIconState[] = ['idle', 'seeding', 'transferring', 'error']

export type TrayAction =
  | { kind: 'open' }
  | { kind: 'copyFeedUrl'; url: string }
  | { kind: 'command'; command: Extract<CommandName, 'releases.pauseAll' | 'releases.resumeAll'> }
  | { kind: 'quit' }

export type TrayMenuItem = { type: 'separator' } | { type: 'item'; id: string; label: string; enabled: boolean; action: TrayAction }

export interface TrayModel {
  icon: TrayIconState
  tooltip: string
  menu: TrayMenuItem[]
  /** The numbers behind the tooltip, for tests and accessibility labels. */
  counts: { seeding: number; paused: number; errored: number; serversDownloading: number; uploadRate: number; downloadRate: number }
}

/**
 * Below this, a swarm is "quiet": keep-alives and the odd re-request should not flip the icon
 * between seeding and transferring every second.
 */
export const TRANSFER_THRESHOLD_BYTES_PER_SECOND = 1024

/**
 * Rollout lines in the tooltip, newest releases first. Windows cuts a tray tooltip at 127
 * characters, so the lines that matter most come first and the list stays short.
 */
export const TOOLTIP_ROLLOUTS = 3

/** The tray before the core has produced its first snapshot (starting up, ports not bound yet). */
export function startingTrayModel(): TrayModel {
  return {
    icon: 'idle',
    tooltip: 'Swarmdrop: starting…',
    menu: buildMenu({ feedUrl: null, canPause: false, canResume: false }),
    counts: { seeding: 0, paused: 0, errored: 0, serversDownloading: 0, uploadRate: 0, downloadRate: 0 },
  }
}

export function trayModel(snapshot: Snapshot): TrayModel {
  const live = snapshot.releases.filter((r) => r.state !== 'retired')
  const seeding = live.filter((r) => r.state === 'seeding').length
  const paused = live.filter((r) => r.state === 'paused').length
  const errored = live.filter((r) => r.state === 'error')
  const liveHashes = new Set(live.map((r) => r.infoHash))
  const swarms = snapshot.swarms.filter((s) => liveHashes.has(s.infoHash))
  const uploadRate = swarms.reduce((sum, s) => sum + s.uploadRate, 0)
  const downloadRate = swarms.reduce((sum, s) => sum + s.downloadRate, 0)
  // A server is one machine however many releases it fetches at once: count distinct IPs.
  const serversDownloading = new Set(snapshot.peers.filter((p) => liveHashes.has(p.infoHash) && p.progress < 1).map((p) => p.ip)).size

  const icon: TrayIconState =
    errored.length > 0
      ? 'error'
      : uploadRate + downloadRate >= TRANSFER_THRESHOLD_BYTES_PER_SECOND
        ? 'transferring'
        : seeding > 0
          ? 'seeding'
          : 'idle'

  const lines = [`Swarmdrop: ${plural(seeding, 'release')} seeding${paused > 0 ? `, ${paused} paused` : ''}`]
  lines.push(`${plural(serversDownloading, 'server')} downloading`)
  const { limit, source } = snapshot.uploadLimitNow
  lines.push(`Upload ${formatRate(uploadRate)}${limit > 0 ? ` (limit ${formatRate(limit)}${source === 'schedule' ? ', by the schedule' : ''})` : ''}`)
  if (errored.length > 0) {
    const first = errored[0]
    const reason = first?.error?.message ?? 'unknown error'
    lines.push(`${plural(errored.length, 'release')} failed: ${first?.name}: ${reason}`)
  }
  lines.push(...rolloutLines(snapshot, live))

  return {
    icon,
    tooltip: lines.join('\n'),
    menu: buildMenu({ feedUrl: snapshot.endpoints.feedUrl || null, canPause: seeding > 0, canResume: paused > 0 }),
    counts: { seeding, paused, errored: errored.length, serversDownloading, uploadRate, downloadRate },
  }
}

/**
 * "app-2.4.1: 18 of 20 servers" against the roster, or "app-2.4.1: 12 servers" without one. A
 * release no server has yet, with no roster to count against, says nothing worth a line.
 */
function rolloutLines(snapshot: Snapshot, live: Snapshot['releases']): string[] {
  const byHash = new Map(snapshot.rollouts.filter((r) => r.expected > 0 || r.complete > 0).map((r) => [r.infoHash, r]))
  const newestFirst = live.filter((r) => byHash.has(r.infoHash)).sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
  const lines = newestFirst.slice(0, TOOLTIP_ROLLOUTS).flatMap((release) => {
    const r = byHash.get(release.infoHash)
    if (!r) return []
    return [r.expected > 0 ? `${release.name}: ${r.expectedComplete} of ${plural(r.expected, 'server')}` : `${release.name}: ${plural(r.complete, 'server')}`]
  })
  if (newestFirst.length > TOOLTIP_ROLLOUTS) lines.push(`and ${plural(newestFirst.length - TOOLTIP_ROLLOUTS, 'more release')}`)
  return lines
}

function buildMenu(opts: { feedUrl: string | null; canPause: boolean; canResume: boolean }): TrayMenuItem[] {
  return [
    { type: 'item', id: 'open', label: 'Open Swarmdrop', enabled: true, action: { kind: 'open' } },
    {
      type: 'item',
      id: 'copy-feed-url',
      label: 'Copy feed URL',
      enabled: opts.feedUrl !== null,
      action: { kind: 'copyFeedUrl', url: opts.feedUrl ?? '' },
    },
    { type: 'separator' },
    { type: 'item', id: 'pause-all', label: 'Pause all', enabled: opts.canPause, action: { kind: 'command', command: 'releases.pauseAll' } },
    { type: 'item', id: 'resume-all', label: 'Resume all', enabled: opts.canResume, action: { kind: 'command', command: 'releases.resumeAll' } },
    { type: 'separator' },
    { type: 'item', id: 'quit', label: 'Quit Swarmdrop (stops seeding)', enabled: true, action: { kind: 'quit' } },
  ]
}

/**
 * The PNG in assets/ for a state on a platform. Electron picks the @2x sibling by itself on HiDPI
 * screens. macOS wants black-and-alpha template images so the menu bar can tint them; Windows
 * draws tray icons at 16 px; Linux status areas are 22–24 px and scale a 32 px icon down cleanly.
 */
export function trayIconFileName(state: TrayIconState, platform: NodeJS.Platform): string {
  if (platform === 'darwin') return `tray-${state}Template.png`
  return platform === 'win32' ? `tray-${state}-16.png` : `tray-${state}-32.png`
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
