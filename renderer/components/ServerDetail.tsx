import { useEffect, useId, useMemo, useState, type FormEvent } from 'react'
import type { FleetCell, FleetRow, ReleaseSummary, TimelineEntry } from '../../shared/contract.js'
import { formatBytes, formatElapsed, formatRate } from '../../shared/format.js'
import { useDashboard, useFleet } from '../app-context.js'
import { cellOf, fleetColumns, firewallHintText, formatAgo, formatTime, wholePercent } from '../fleet.js'
import { FleetCellView } from './FleetMatrix.js'

type Loaded = { row: FleetRow; timeline: TimelineEntry[] } | { error: string } | null

/**
 * One server: what it is, where it is with each release, and its history from "fleet.server".
 * The history is fetched again whenever the fleet says this row changed.
 */
export function ServerDetail({ ip, onClose }: { ip: string; onClose: () => void }) {
  const fleet = useFleet()
  const live = fleet.rows.get(ip) ?? null
  const ask = useDashboard((s) => s.ask)
  const releases = useDashboard((s) => s.snapshot?.releases ?? null)
  const endpoints = useDashboard((s) => s.snapshot?.endpoints ?? null)
  const now = useDashboard((s) => s.snapshot?.at ?? null)
  const [loaded, setLoaded] = useState<Loaded>(null)

  const version = live?.version ?? null
  useEffect(() => {
    let current = true
    void ask('fleet.server', { ip }).then((result) => {
      if (current) setLoaded(result.ok ? result.value : { error: result.error.message })
    })
    return () => {
      current = false
    }
  }, [ask, ip, version])

  const fetched = loaded && 'row' in loaded ? loaded : null
  // The store's row is the freshest (deltas arrive between fetches); the fetched one covers a fleet not loaded.
  const row = live && (!fetched || live.version >= fetched.row.version) ? live : (fetched?.row ?? null)
  const columns = useMemo(() => fleetColumns(releases ?? []), [releases])

  const back = (
    <button type="button" onClick={onClose}>
      Back to servers
    </button>
  )
  if (!row) {
    return (
      <section className="panel server-detail">
        <header className="panel-header">
          <h2>{ip}</h2>
          {back}
        </header>
        {loaded && 'error' in loaded ? (
          <p className="row-error" role="alert">
            {loaded.error}
          </p>
        ) : (
          <p className="muted">Loading this server…</p>
        )}
      </section>
    )
  }
  const clock = now ?? Date.now()
  return (
    <section className="panel server-detail" aria-labelledby="server-title">
      <header className="panel-header">
        <div>
          <h2 id="server-title">{row.name}</h2>
          <span className="muted mono">{row.ip}</span>
        </div>
        <div className="header-actions">
          {row.expected ? <span className="badge state-seeding">On the roster</span> : <span className="badge">Not on the roster</span>}
          {back}
        </div>
      </header>
      {row.firewallHint ? (
        <p className="warnings firewall-warning" role="note">
          {firewallHintText(endpoints)}
        </p>
      ) : null}
      <dl className="facts">
        <div>
          <dt>Host name</dt>
          <dd>{row.hostname ?? '–'}</dd>
        </div>
        <div>
          <dt>Clients</dt>
          <dd>{row.clients.length > 0 ? row.clients.join(', ') : '–'}</dd>
        </div>
        <div>
          <dt>First seen</dt>
          <dd title={formatTime(row.firstSeen)}>{formatAgo(row.firstSeen, clock)}</dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd title={formatTime(row.lastSeen)}>{formatAgo(row.lastSeen, clock)}</dd>
        </div>
        <div>
          <dt>Last feed poll</dt>
          <dd title={formatTime(row.lastFeedPoll)}>{formatAgo(row.lastFeedPoll, clock)}</dd>
        </div>
      </dl>
      <RenameField row={row} />
      <h3>Releases</h3>
      {columns.length === 0 ? (
        <p className="muted">No release is published.</p>
      ) : (
        <table className="releases server-cells">
          <caption className="sr-only">Where {row.name} is with each release</caption>
          <thead>
            <tr>
              <th scope="col">Release</th>
              <th scope="col">State</th>
              <th scope="col">Progress over time</th>
              <th scope="col" className="numeric">
                Rate
              </th>
              <th scope="col" className="numeric">
                From us
              </th>
              <th scope="col" className="numeric">
                From other servers
              </th>
              <th scope="col">Completed</th>
              <th scope="col">Took</th>
            </tr>
          </thead>
          <tbody>
            {columns.map((release) => {
              const cell = cellOf(row, release.infoHash)
              return (
                <tr key={release.infoHash} data-release={release.infoHash}>
                  <th scope="row">{release.name}</th>
                  <td className="state-cell">
                    <FleetCellView cell={cell} release={release} />
                  </td>
                  <td>
                    <ProgressCurve entries={fetched?.timeline ?? []} infoHash={release.infoHash} percentNow={cell.state === 'complete' ? 1 : cell.percent} now={clock} />
                  </td>
                  <td className="numeric">{formatRate(cell.rate)}</td>
                  <td className="numeric">{formatBytes(cell.fromPublisher)}</td>
                  <td className="numeric">{formatBytes(cell.fromOthers)}</td>
                  <td title={cell.completedAt === null ? undefined : formatTime(cell.completedAt)}>{cell.completedAt === null ? '–' : formatAgo(cell.completedAt, clock)}</td>
                  <td title={cell.startedAt === null ? undefined : `Started ${formatTime(cell.startedAt)}`}>{tookText(cell, clock)}</td>
                </tr>
              )
            })}
          </tbody>
        </table>
      )}
      <h3>Timeline</h3>
      {loaded && 'error' in loaded ? (
        <p className="row-error" role="alert">
          Cannot load its history: {loaded.error}
        </p>
      ) : (
        <Timeline row={row} entries={fetched?.timeline ?? null} releases={releases ?? []} />
      )}
    </section>
  )
}

function RenameField({ row }: { row: FleetRow }) {
  const id = useId()
  const run = useDashboard((s) => s.run)
  const putFleetRow = useDashboard((s) => s.putFleetRow)
  // While the user edits, their text wins over incoming rows.
  const [draft, setDraft] = useState<string | null>(null)
  const [status, setStatus] = useState('')
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    const name = (draft ?? row.name).trim()
    const result = await run('fleet.rename', { ip: row.ip, name: name === '' ? null : name })
    if (!result.ok) return
    putFleetRow(result.value)
    setDraft(null)
    setStatus(name === '' ? `Named ${result.value.name} again.` : 'Saved.')
  }
  return (
    <form className="field rename" onSubmit={(e) => void submit(e)}>
      <label htmlFor={id}>Name</label>
      <div className="copy-row">
        <input id={id} value={draft ?? row.name} spellCheck={false} aria-describedby={`${id}-help`} onChange={(e) => setDraft(e.currentTarget.value)} />
        <button type="submit">Rename</button>
      </div>
      <span id={`${id}-help`} className="field-help">
        Your name for this server, shown instead of its host name or IP. Leave it empty to go back to its reverse-DNS name.
      </span>
      <span className="field-status applied" role="status">
        {status}
      </span>
    </form>
  )
}

const KIND_TEXT: Record<TimelineEntry['kind'], (percent: string) => string> = {
  polled: () => 'Polled the feed',
  fetched: () => 'Fetched the .torrent',
  started: (p) => `Started downloading${p ? ` (at ${p})` : ''}`,
  progress: (p) => `Reached ${p}`,
  completed: () => 'Completed',
  stopped: (p) => `Stopped before completing${p ? ` (at ${p})` : ''}`,
  stalled: (p) => `Stalled${p ? ` at ${p}` : ''}`,
}

/** Newest first, with the latest feed poll among the events (the core notes only the first after a silence). */
function Timeline({ row, entries, releases }: { row: FleetRow; entries: TimelineEntry[] | null; releases: readonly ReleaseSummary[] }) {
  if (entries === null) return <p className="muted">Loading its history…</p>
  const names = new Map(releases.map((r) => [r.infoHash, r.name]))
  const items = entries.map((e, i) => ({
    key: `${e.at}-${i}`,
    at: e.at,
    kind: e.kind,
    text: KIND_TEXT[e.kind](e.percent === null ? '' : `${wholePercent(e.percent)} %`),
    release: e.infoHash === null ? '' : (names.get(e.infoHash) ?? `${e.infoHash.slice(0, 8)}… (retired)`),
  }))
  if (row.lastFeedPoll !== null && !entries.some((e) => e.kind === 'polled' && e.at === row.lastFeedPoll)) {
    items.push({ key: 'poll', at: row.lastFeedPoll, kind: 'polled', text: 'Polled the feed (latest poll)', release: '' })
  }
  items.sort((a, b) => b.at - a.at)
  if (items.length === 0) return <p className="muted">Nothing from this server yet: it has not polled the feed, fetched a .torrent or announced.</p>
  return (
    <ol className="timeline" aria-label={`History of ${row.name}`}>
      {items.map((item) => (
        <li key={item.key} data-kind={item.kind}>
          <time className="muted" dateTime={new Date(item.at).toISOString()}>
            {formatTime(item.at)}
          </time>
          <span className="timeline-release">{item.release}</span>
          <span className="timeline-text">{item.text}</span>
        </li>
      ))}
    </ol>
  )
}

const CURVE = { width: 160, height: 28 }

/**
 * Percent over time for one release, drawn from the timeline's entries (one per tenth and each
 * state change) up to now: a step line, since nothing is known between two reports.
 */
function ProgressCurve({ entries, infoHash, percentNow, now }: { entries: TimelineEntry[]; infoHash: string; percentNow: number; now: number }) {
  const points = entries.filter((e) => e.infoHash === infoHash && e.percent !== null).map((e) => ({ at: e.at, p: e.percent as number }))
  const start = points[0]?.at
  if (start === undefined) return <span className="muted">–</span>
  const end = Math.max(now, start + 1)
  points.push({ at: end, p: Math.max(percentNow, points[points.length - 1]?.p ?? 0) })
  const x = (at: number): string => (((at - start) / (end - start)) * CURVE.width).toFixed(1)
  const y = (p: number): string => (CURVE.height - p * CURVE.height).toFixed(1)
  const path: string[] = []
  points.forEach((pt, i) => {
    const prev = points[i - 1]
    if (prev) path.push(`${x(pt.at)},${y(prev.p)}`)
    path.push(`${x(pt.at)},${y(pt.p)}`)
  })
  return (
    <svg className="progress-curve" viewBox={`0 0 ${CURVE.width} ${CURVE.height}`} preserveAspectRatio="none" role="img" aria-label={`Progress from ${formatTime(start)} until now, ${wholePercent(percentNow)} % now`}>
      <polyline points={path.join(' ')} />
    </svg>
  )
}

/** How long its download took, from its start to its completion; while it runs, how long so far. */
function tookText(cell: FleetCell, clock: number): string {
  if (cell.startedAt === null) return '–'
  if (cell.completedAt !== null) return formatElapsed(cell.completedAt - cell.startedAt)
  return cell.state === 'downloading' ? `${formatElapsed(clock - cell.startedAt)} so far` : '–'
}
