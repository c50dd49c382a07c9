import { memo, useMemo, useRef, useState, type CSSProperties } from 'react'
import { useRowWindow } from '../windowed-rows.js'
import type { FleetCell, FleetRow, ReleaseSummary } from '../../shared/contract.js'
import {
  cellOf,
  cellText,
  describeCell,
  FLEET_FILTERS,
  fleetColumns,
  formatAgo,
  formatTime,
  matchesFilter,
  sortFleet,
  STATE_LABEL,
  STATE_MEANING,
  STATE_ORDER,
  wholePercent,
  type FleetFilter,
  type FleetSort,
  type FleetSortKey,
} from '../fleet.js'
import { useThrottled } from '../throttle.js'

/** Fixed row height, as in PeersTable: windowing by division, not measurement. */
export const FLEET_ROW_HEIGHT = 36
/** Rows rendered above and below the viewport so fast scrolling does not show gaps. */
/** The body grows with its rows up to this many, then scrolls. */
const MAX_VISIBLE_ROWS = 16
/** Before the first layout (and under jsdom, which has no layout) assume this viewport. */
const FALLBACK_VIEWPORT = MAX_VISIBLE_ROWS * FLEET_ROW_HEIGHT

/** Column widths in px; fixed so twenty release columns line up in the header and every row. */
const WIDTH = { server: 240, clients: 150, time: 100, release: 96, padding: 16 }

export interface FleetMatrixProps {
  rows: ReadonlyMap<string, FleetRow>
  releases: readonly ReleaseSummary[]
  /** The core's clock (the snapshot's time), which the rows' times are on. */
  now: number
  firewallHint: string
  onOpen: (ip: string) => void
}

/**
 * Servers × releases, windowed like PeersTable: only the rows in view (plus a few) are in the DOM,
 * so 5,000 servers cost the same per update as thirty. What it shows changes at most once a second,
 * however the snapshot and the fleet deltas interleave.
 */
export function FleetMatrix({ rows, releases, now, firewallHint, onOpen }: FleetMatrixProps) {
  const input = useMemo(() => ({ rows, releases, now }), [rows, releases, now])
  const shown = useThrottled(input, 1000)
  const columns = useColumns(shown.releases)

  const [filter, setFilter] = useState<FleetFilter>('all')
  const [sort, setSort] = useState<FleetSort>({ key: 'name', descending: false })
  const [chosen, setChosen] = useState<string | null>(null)
  // The selected release: the one picked, while it is still published, else the newest.
  const focus = columns.find((c) => c.infoHash === chosen)?.infoHash ?? columns[0]?.infoHash ?? null

  const all = useMemo(() => [...shown.rows.values()], [shown.rows])
  const counts = useMemo(() => {
    const n: Record<FleetFilter, number> = { all: 0, 'not-complete': 0, 'never-seen': 0, firewall: 0 }
    for (const row of all) for (const f of FLEET_FILTERS) if (matchesFilter(row, f.key, focus)) n[f.key]++
    return n
  }, [all, focus])
  const sorted = useMemo(() => sortFleet(filter === 'all' ? all : all.filter((r) => matchesFilter(r, filter, focus)), sort, focus), [all, filter, focus, sort])

  const head = useRef<HTMLDivElement>(null)
  const { body, setScrollTop, first, rows: windowed } = useRowWindow(sorted, FLEET_ROW_HEIGHT, FALLBACK_VIEWPORT)

  const minWidth = WIDTH.server + WIDTH.clients + 2 * WIDTH.time + columns.length * WIDTH.release + WIDTH.padding
  const grid = {
    '--fleet-columns': `minmax(${WIDTH.server}px, 2fr) minmax(${WIDTH.clients}px, 1fr) ${WIDTH.time}px ${WIDTH.time}px repeat(${columns.length}, ${WIDTH.release}px)`,
    '--fleet-min-width': `${minWidth}px`,
  } as CSSProperties

  // Names read A→Z; "last seen" and "% done" start with the servers that need looking at: the
  // longest silent, the furthest behind.
  const sortBy = (key: FleetSortKey): void => setSort((s) => (s.key === key ? { key, descending: !s.descending } : { key, descending: false }))
  const sortByRelease = (infoHash: string): void => {
    if (infoHash === focus && sort.key === 'percent') setSort({ key: 'percent', descending: !sort.descending })
    else {
      setChosen(infoHash)
      setSort({ key: 'percent', descending: false })
    }
  }
  const ariaSort = (active: boolean): 'ascending' | 'descending' | 'none' => (active ? (sort.descending ? 'descending' : 'ascending') : 'none')
  const arrow = (active: boolean) => (active ? <span aria-hidden="true">{sort.descending ? ' ↓' : ' ↑'}</span> : null)

  return (
    <div className="fleet">
      <div className="fleet-toolbar">
        <div className="segmented" role="group" aria-label="Show servers">
          {FLEET_FILTERS.map((f) => (
            <button key={f.key} type="button" aria-pressed={filter === f.key} data-filter={f.key} onClick={() => setFilter(f.key)}>
              {f.label} <span className="count">{counts[f.key].toLocaleString('en')}</span>
            </button>
          ))}
        </div>
        {columns.length > 0 ? (
          <label className="inline-field">
            Release
            <select value={focus ?? ''} onChange={(e) => setChosen(e.currentTarget.value)}>
              {columns.map((c) => (
                <option key={c.infoHash} value={c.infoHash}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
      </div>
      <ul className="fleet-legend" aria-label="What the cell colours mean">
        {STATE_ORDER.map((state) => (
          <li key={state} title={STATE_MEANING[state]}>
            <span className="swatch" data-state={state} aria-hidden="true" />
            {STATE_LABEL[state]}
          </li>
        ))}
      </ul>
      <div className="fleet-table" role="table" aria-label="Servers and releases" aria-rowcount={sorted.length + 1} aria-colcount={4 + columns.length} style={grid}>
        <div ref={head} className="fleet-head" role="rowgroup">
          <div className="fleet-row head" role="row" aria-rowindex={1}>
            <div role="columnheader" className="cell cell-server" aria-sort={ariaSort(sort.key === 'name')}>
              <button type="button" className="sort" onClick={() => sortBy('name')}>
                Server{arrow(sort.key === 'name')}
              </button>
            </div>
            <div role="columnheader" className="cell cell-clients">
              Clients
            </div>
            <div role="columnheader" className="cell cell-time" aria-sort={ariaSort(sort.key === 'lastSeen')}>
              <button type="button" className="sort" onClick={() => sortBy('lastSeen')}>
                Last seen{arrow(sort.key === 'lastSeen')}
              </button>
            </div>
            <div role="columnheader" className="cell cell-time">
              Feed poll
            </div>
            {columns.map((c) => {
              const active = sort.key === 'percent' && c.infoHash === focus
              return (
                <div key={c.infoHash} role="columnheader" className={`cell release-head${c.infoHash === focus ? ' focus' : ''}`} aria-sort={ariaSort(active)} title={`${c.name}: sort by how far each server is`}>
                  <button type="button" className="sort" data-release={c.infoHash} onClick={() => sortByRelease(c.infoHash)}>
                    {c.name}
                    {arrow(active)}
                  </button>
                </div>
              )
            })}
          </div>
        </div>
        <div
          ref={body}
          className="fleet-body"
          role="rowgroup"
          tabIndex={0}
          aria-label={`${sorted.length.toLocaleString('en')} servers, scrollable`}
          style={{ height: Math.max(2, Math.min(sorted.length, MAX_VISIBLE_ROWS)) * FLEET_ROW_HEIGHT }}
          onScroll={(e) => {
            setScrollTop(e.currentTarget.scrollTop)
            if (head.current) head.current.scrollLeft = e.currentTarget.scrollLeft
          }}
        >
          {sorted.length === 0 ? (
            <p className="empty-row">
              {all.length === 0
                ? 'No servers yet. A server appears here once its BitTorrent client polls the feed, fetches a .torrent or announces; list the ones you expect in the roster below.'
                : 'No server matches this filter.'}
            </p>
          ) : (
            <div className="fleet-spacer" style={{ height: sorted.length * FLEET_ROW_HEIGHT }}>
              {windowed.map((row, i) => (
                <FleetMatrixRow key={row.ip} row={row} index={first + i} columns={columns} focus={focus} now={shown.now} firewallHint={firewallHint} onOpen={onOpen} />
              ))}
            </div>
          )}
        </div>
      </div>
    </div>
  )
}

/**
 * The columns, keeping their identity while the same releases are published: snapshots bring a
 * new releases array every second, and a new columns array would re-render every row with it.
 */
function useColumns(releases: readonly ReleaseSummary[]): ReleaseSummary[] {
  const key = releases
    .filter((r) => r.state !== 'retired')
    .map((r) => `${r.infoHash} ${r.createdAt} ${r.name}`)
    .join('\n')
  const cache = useRef<{ key: string; columns: ReleaseSummary[] } | null>(null)
  if (cache.current?.key !== key) cache.current = { key, columns: fleetColumns(releases) }
  return cache.current.columns
}

interface RowProps {
  row: FleetRow
  index: number
  columns: ReleaseSummary[]
  focus: string | null
  now: number
  firewallHint: string
  onOpen: (ip: string) => void
}

// Rows are replaced by IP only when the core says they changed, so the default shallow compare
// skips every unchanged row.
const FleetMatrixRow = memo(function FleetMatrixRow({ row, index, columns, focus, now, firewallHint, onOpen }: RowProps) {
  const clients = row.clients.join(', ')
  return (
    // The whole row opens the server's page; the name is a button so the keyboard can too (its click bubbles here).
    <div className="fleet-row" role="row" aria-rowindex={index + 2} data-ip={row.ip} style={{ transform: `translateY(${index * FLEET_ROW_HEIGHT}px)` }} onClick={() => onOpen(row.ip)}>
      <div role="rowheader" className="cell cell-server">
        <button type="button" className="link server-name" title={`Open ${row.name}`}>
          {row.name}
        </button>
        {row.name !== row.ip ? <span className="muted mono server-ip">{row.ip}</span> : null}
        {row.firewallHint ? (
          <span className="badge badge-warn firewall-hint" title={firewallHint}>
            Firewall<span className="sr-only">: {firewallHint}</span>
          </span>
        ) : null}
      </div>
      <div role="cell" className="cell cell-clients" title={clients || undefined}>
        {clients || <span className="muted">–</span>}
      </div>
      <div role="cell" className="cell cell-time cell-lastSeen" title={formatTime(row.lastSeen)}>
        {formatAgo(row.lastSeen, now)}
      </div>
      <div role="cell" className="cell cell-time cell-feedPoll" title={formatTime(row.lastFeedPoll)}>
        {formatAgo(row.lastFeedPoll, now)}
      </div>
      {columns.map((c) => (
        <FleetCellView key={c.infoHash} cell={cellOf(row, c.infoHash)} release={c} focus={c.infoHash === focus} />
      ))}
    </div>
  )
})

export function FleetCellView({ cell, release, focus = false }: { cell: FleetCell; release: Pick<ReleaseSummary, 'infoHash' | 'name'>; focus?: boolean }) {
  const description = describeCell(cell, release.name)
  const partial = cell.state === 'downloading' || cell.state === 'stalled' || cell.state === 'gone'
  return (
    <div role="cell" className={`cell fleet-cell${focus ? ' focus' : ''}`} data-state={cell.state} data-release={release.infoHash} title={description} aria-label={description}>
      {partial && cell.percent > 0 ? <span className="fleet-cell-fill" style={{ width: `${wholePercent(cell.percent)}%` }} aria-hidden="true" /> : null}
      <span className="fleet-cell-label" aria-hidden="true">
        {cellText(cell)}
      </span>
    </div>
  )
}
