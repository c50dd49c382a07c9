/**
 * The fleet view's pure parts: keeping the dashboard's copy of the core's fleet rows current from
 * "fleet.changed" deltas, and how a row is filtered, sorted and put into words. No React here,
 * so the rules are the same for the matrix, the server page and the release page.
 */
import type { Endpoints, Events, FleetCell, FleetRow, ProgressState, ReleaseSummary } from '../shared/contract.js'
import { formatRate } from '../shared/format.js'

/** The dashboard's copy of the fleet, by IP, as of the core's change counter `version`. */
export interface FleetCopy {
  version: number
  rows: ReadonlyMap<string, FleetRow>
}

export type FleetChangeResult = { kind: 'applied'; fleet: FleetCopy } | { kind: 'stale' } | { kind: 'refetch' }

/**
 * What a "fleet.changed" event does to the copy. An event at or below the copy's version was
 * already folded into it (it raced a "fleet.get"); an empty list with a newer version is the core
 * saying too much changed to send, so the whole fleet must be fetched again.
 */
export function applyFleetChange(fleet: FleetCopy, change: Events['fleet.changed']): FleetChangeResult {
  if (change.version <= fleet.version) return { kind: 'stale' }
  // An event in between was missed (or the delta was too big to send): only a fresh copy is right.
  if (change.rows.length === 0 || change.since > fleet.version) return { kind: 'refetch' }
  return { kind: 'applied', fleet: { version: change.version, rows: mergeRows(fleet.rows, change.rows) } }
}

/**
 * The rows with `incoming` put in by IP. Rows the copy already has at the same or a newer version
 * are skipped; when nothing is new the same map comes back, so nothing downstream re-renders.
 */
export function mergeRows(rows: ReadonlyMap<string, FleetRow>, incoming: readonly FleetRow[]): ReadonlyMap<string, FleetRow> {
  let next: Map<string, FleetRow> | null = null
  for (const row of incoming) {
    const have = (next ?? rows).get(row.ip)
    if (have && have.version >= row.version) continue
    next ??= new Map(rows)
    next.set(row.ip, row)
  }
  return next ?? rows
}

export function fleetCopyOf(response: { version: number; rows: FleetRow[] }): FleetCopy {
  return { version: response.version, rows: new Map(response.rows.map((r) => [r.ip, r])) }
}

/**
 * The matrix's columns: every release not retired, newest first, so the rollout in progress is
 * on screen without scrolling sideways past twenty older ones.
 */
export function fleetColumns(releases: readonly ReleaseSummary[]): ReleaseSummary[] {
  return releases.filter((r) => r.state !== 'retired').sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
}

const EMPTY_CELL: Omit<FleetCell, 'state'> = { percent: 0, rate: 0, fromPublisher: 0, fromOthers: 0, startedAt: null, completedAt: null }
const POLLED_CELL: FleetCell = { ...EMPTY_CELL, state: 'polled' }
const NOT_SEEN_CELL: FleetCell = { ...EMPTY_CELL, state: 'not-seen' }

/**
 * A row's cell for a release. The core only resends rows that change, so a row that has been
 * quiet since a release was published has no cell for it yet: it is what the core would say for
 * a server that did nothing with that release (polled if it ever read the feed).
 */
export function cellOf(row: FleetRow, infoHash: string): FleetCell {
  return row.cells[infoHash] ?? (row.lastFeedPoll !== null ? POLLED_CELL : NOT_SEEN_CELL)
}

export type FleetFilter = 'all' | 'not-complete' | 'never-seen' | 'firewall'

export const FLEET_FILTERS: { key: FleetFilter; label: string }[] = [
  { key: 'all', label: 'All' },
  { key: 'not-complete', label: 'Not complete' },
  { key: 'never-seen', label: 'Never seen' },
  { key: 'firewall', label: 'Firewall hint' },
]

/** `release` is the selected release ("not complete" is about it); null when none is published. */
export function matchesFilter(row: FleetRow, filter: FleetFilter, release: string | null): boolean {
  switch (filter) {
    case 'all':
      return true
    case 'not-complete':
      return release === null || cellOf(row, release).state !== 'complete'
    case 'never-seen':
      return row.lastSeen === null
    case 'firewall':
      return row.firewallHint
  }
}

export type FleetSortKey = 'name' | 'lastSeen' | 'percent'

export interface FleetSort {
  key: FleetSortKey
  descending: boolean
}

// One collator for every comparison: localeCompare with options builds one per call (see PeersTable).
const collator = new Intl.Collator(undefined, { numeric: true })

/** How far a server is with a release, for sorting: complete counts as whole whatever the bytes said. */
export function completion(cell: FleetCell): number {
  return cell.state === 'complete' ? 1 : cell.percent
}

/** Sorts by one key, ties broken by name and then IP so rows do not shuffle between updates. */
/**
 * Each server's place in name order, kept while the set of names is unchanged: deltas change
 * percents every second, names almost never, and collating 5,000 names on every update cost more
 * than the rest of it (several ms a second).
 */
let nameRanks: Map<string, { name: string; rank: number }> | null = null

function rankByName(rows: readonly FleetRow[]): Map<string, { name: string; rank: number }> {
  const cached = nameRanks
  if (cached && cached.size === rows.length && rows.every((r) => cached.get(r.ip)?.name === r.name)) return cached
  const sorted = [...rows].sort((a, b) => collator.compare(a.name, b.name) || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0))
  nameRanks = new Map(sorted.map((r, rank) => [r.ip, { name: r.name, rank }]))
  return nameRanks
}

export function sortFleet(rows: readonly FleetRow[], sort: FleetSort, release: string | null): FleetRow[] {
  const ranks = rankByName(rows)
  const value = (row: FleetRow): number =>
    sort.key === 'name' ? 0 : sort.key === 'lastSeen' ? (row.lastSeen ?? Number.NEGATIVE_INFINITY) : release === null ? 0 : completion(cellOf(row, release))
  const keyed = rows.map((row) => ({ row, k: value(row), r: ranks.get(row.ip)?.rank ?? 0 }))
  const direction = sort.descending ? -1 : 1
  // Ties (and the name sort itself) go by name, in the sort's direction only for the name sort.
  keyed.sort((a, b) => (a.k === b.k ? (a.r - b.r) * (sort.key === 'name' ? direction : 1) : (a.k < b.k ? -1 : 1) * direction))
  return keyed.map((x) => x.row)
}

export const STATE_LABEL: Record<ProgressState, string> = {
  complete: 'Done',
  downloading: 'Downloading',
  stalled: 'Stalled',
  gone: 'Gone',
  'picked-up': 'Picked up',
  polled: 'Polled',
  'not-seen': 'Not seen',
}

/** What each state means, for the legend and the cell tooltips. */
export const STATE_MEANING: Record<ProgressState, string> = {
  complete: 'has the whole release',
  downloading: 'downloading it now',
  stalled: 'downloading, but no progress for 5 minutes',
  gone: 'stopped before it had everything',
  'picked-up': 'fetched the .torrent, not downloading yet',
  polled: 'read the feed, has not fetched the .torrent',
  'not-seen': 'nothing from it yet',
}

export const STATE_ORDER: readonly ProgressState[] = ['complete', 'downloading', 'stalled', 'gone', 'picked-up', 'polled', 'not-seen']

/** Whole percent, rounded down: 99.7 % is not "100 %" while a piece is still missing. */
export function wholePercent(fraction: number): number {
  return Math.floor(Math.max(0, Math.min(1, fraction)) * 100)
}

/** The few characters a matrix cell has room for. */
export function cellText(cell: FleetCell): string {
  switch (cell.state) {
    case 'downloading':
      return `${wholePercent(cell.percent)} %`
    case 'stalled':
      return `Stalled ${wholePercent(cell.percent)} %`
    case 'gone':
      return cell.percent > 0 ? `Gone ${wholePercent(cell.percent)} %` : 'Gone'
    case 'not-seen':
      return '–'
    default:
      return STATE_LABEL[cell.state]
  }
}

/** A cell in words, for its tooltip and screen readers: "app-2.4.1: downloading it now, 42 %, 1.20 MiB/s". */
export function describeCell(cell: FleetCell, release: string): string {
  const parts = [`${release}: ${STATE_MEANING[cell.state]}`]
  if (cell.state === 'downloading' || cell.state === 'stalled' || (cell.state === 'gone' && cell.percent > 0)) parts.push(`${wholePercent(cell.percent)} %`)
  if (cell.rate > 0) parts.push(formatRate(cell.rate))
  return parts.join(', ')
}

export function firewallHintText(endpoints: Pick<Endpoints, 'httpPort' | 'peerPort'> | null): string {
  const http = endpoints ? String(endpoints.httpPort) : 'the HTTP port'
  const peer = endpoints ? String(endpoints.peerPort) : 'the peer port'
  return `Polls the feed but never announces: open TCP+UDP ${http} and TCP ${peer} from this server.`
}

/** "12 s ago", "5 min ago", "never"; `now` is the core's clock (the snapshot's time), as the rows' times are. */
export function formatAgo(at: number | null, now: number): string {
  if (at === null) return 'never'
  const s = Math.max(0, Math.round((now - at) / 1000))
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86_400)} d ago`
}

export function formatTime(at: number | null): string {
  return at === null ? 'never' : new Date(at).toLocaleString()
}

/**
 * A pasted roster: IPs or host names separated by new lines, commas, semicolons or spaces (no
 * host name has any of them), each once (host names compare without case, as DNS does).
 */
export function parseRoster(text: string): string[] {
  const seen = new Set<string>()
  const out: string[] = []
  for (const entry of text.split(/[\s,;]+/)) {
    if (entry === '' || seen.has(entry.toLowerCase())) continue
    seen.add(entry.toLowerCase())
    out.push(entry)
  }
  return out
}

export function plural(n: number, noun: string): string {
  return `${n.toLocaleString('en')} ${noun}${n === 1 ? '' : 's'}`
}
