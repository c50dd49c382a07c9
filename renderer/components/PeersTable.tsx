import { memo, useMemo, useState } from 'react'
import { useRowWindow } from '../windowed-rows.js'
import type { PeerInfo } from '../../shared/contract.js'
import type { PeerRowData } from '../departed-peers.js'
import { formatRate } from '../../shared/format.js'
import { useThrottled } from '../throttle.js'

/** Fixed row height: what makes windowing a division instead of a measurement. */
export const ROW_HEIGHT = 32
/** Rows rendered above and below the viewport so fast scrolling does not show gaps. */
/** The body grows with its rows up to this many, then scrolls. */
const MAX_VISIBLE_ROWS = 14
/** Before the first layout (and under jsdom, which has no layout) assume this viewport. */
const FALLBACK_VIEWPORT = MAX_VISIBLE_ROWS * ROW_HEIGHT

type SortKey = 'peer' | 'client' | 'progress' | 'downloadRate' | 'uploadRate' | 'transport'

const COLUMNS: { key: SortKey; label: string; numeric?: boolean }[] = [
  { key: 'peer', label: 'Peer' },
  { key: 'client', label: 'Client' },
  { key: 'progress', label: 'Progress', numeric: true },
  { key: 'downloadRate', label: 'Down', numeric: true },
  { key: 'uploadRate', label: 'Up', numeric: true },
  { key: 'transport', label: 'Transport' },
]

const TRANSPORT_LABEL: Record<PeerInfo['transport'], string> = { tcp: 'TCP', utp: 'uTP', webseed: 'Web seed' }

function peerName(p: PeerInfo): string {
  return p.hostname ?? `${p.ip}:${p.port}`
}

// One collator for every comparison: localeCompare with options builds a new one per call, which
// made sorting 1,000 rows cost more than the rest of an update.
const collator = new Intl.Collator(undefined, { numeric: true })

function sortKey(key: SortKey, p: PeerRowData): string | number {
  switch (key) {
    case 'peer':
      return peerName(p)
    case 'client':
      return `${p.client} ${p.clientVersion ?? ''}`
    case 'transport':
      return p.transport
    default:
      return p[key]
  }
}

/** Sorts by one column, ties broken by id so rows do not shuffle between updates. */
function sortRows(rows: PeerRowData[], key: SortKey, descending: boolean): PeerRowData[] {
  const keyed = rows.map((row) => ({ row, k: sortKey(key, row) }))
  keyed.sort((a, b) => {
    const byKey = typeof a.k === 'number' && typeof b.k === 'number' ? a.k - b.k : collator.compare(String(a.k), String(b.k))
    return byKey || (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0)
  })
  const sorted = keyed.map((x) => x.row)
  return descending ? sorted.reverse() : sorted
}

/**
 * Every peer connected to us, windowed: only the rows in view (plus a few) are in the DOM, so a
 * thousand peers cost the same per update as twenty. Updates are applied at most once a second.
 */
export function PeersTable({ peers, caption }: { peers: PeerRowData[]; caption: string }) {
  const shown = useThrottled(peers, 1000)
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'peer', descending: false })
  const sorted = useMemo(() => sortRows(shown, sort.key, sort.descending), [shown, sort])

  const { body, setScrollTop, first, rows } = useRowWindow(sorted, ROW_HEIGHT, FALLBACK_VIEWPORT)

  const toggleSort = (key: SortKey): void =>
    setSort((s) => (s.key === key ? { key, descending: !s.descending } : { key, descending: key !== 'peer' && key !== 'client' && key !== 'transport' }))

  return (
    <div className="peers-table" role="table" aria-label={caption} aria-rowcount={sorted.length + 1}>
      <div className="peers-head" role="rowgroup">
        <div className="peer-row head" role="row" aria-rowindex={1}>
          {COLUMNS.map((c) => (
            <div
              key={c.key}
              role="columnheader"
              className={`cell cell-${c.key}${c.numeric ? ' numeric' : ''}`}
              aria-sort={sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : 'none'}
            >
              <button type="button" className="sort" onClick={() => toggleSort(c.key)}>
                {c.label}
                {sort.key === c.key ? <span aria-hidden="true">{sort.descending ? ' ↓' : ' ↑'}</span> : null}
              </button>
            </div>
          ))}
        </div>
      </div>
      <div
        ref={body}
        className="peers-body"
        role="rowgroup"
        tabIndex={0}
        aria-label={`${sorted.length} peers, scrollable`}
        style={{ height: Math.max(2, Math.min(sorted.length, MAX_VISIBLE_ROWS)) * ROW_HEIGHT }}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      >
        {sorted.length === 0 ? (
          <p className="empty-row">No peers connected. Servers appear here once their BitTorrent client connects to this publisher.</p>
        ) : (
          <div className="peers-spacer" style={{ height: sorted.length * ROW_HEIGHT }}>
            {rows.map((peer, i) => (
              <PeerRow key={peer.id} peer={peer} index={first + i} />
            ))}
          </div>
        )}
      </div>
    </div>
  )
}

const PeerRow = memo(
  function PeerRow({ peer, index }: { peer: PeerRowData; index: number }) {
    const percent = Math.round(peer.progress * 1000) / 10
    return (
      <div
        className={`peer-row${peer.departedAt !== null ? ' peer-departed' : ''}`}
        role="row"
        aria-rowindex={index + 2}
        data-peer={peer.id}
        style={{ transform: `translateY(${index * ROW_HEIGHT}px)` }}>
        <div role="cell" className="cell cell-peer" title={`${peer.ip}:${peer.port}`}>
          {peerName(peer)}
        </div>
        <div role="cell" className="cell cell-client">
          {peer.client}
          {peer.clientVersion ? <span className="muted"> {peer.clientVersion}</span> : null}
        </div>
        <div role="cell" className="cell cell-progress numeric">
          <span className="mini-bar" aria-hidden="true">
            <span style={{ width: `${percent}%` }} />
          </span>
          <span className="percent">{percent.toFixed(percent === 100 || percent === 0 ? 0 : 1)} %</span>
        </div>
        <div role="cell" className="cell cell-downloadRate numeric">
          {formatRate(peer.downloadRate)}
        </div>
        <div role="cell" className="cell cell-uploadRate numeric">
          {formatRate(peer.uploadRate)}
        </div>
        <div role="cell" className="cell cell-transport" title={peer.departedAt === null ? undefined : 'Disconnected; shown for a minute after it left'}>
          {peer.departedAt === null ? TRANSPORT_LABEL[peer.transport] : peer.progress >= 1 ? 'Done' : 'Left'}
        </div>
      </div>
    )
  },
  (a, b) => a.index === b.index && samePeer(a.peer, b.peer),
)

/** Each snapshot brings new objects; compare values so unchanged rows skip rendering. */
function samePeer(a: PeerRowData, b: PeerRowData): boolean {
  return (
    a.id === b.id &&
    a.hostname === b.hostname &&
    a.client === b.client &&
    a.clientVersion === b.clientVersion &&
    a.progress === b.progress &&
    a.downloadRate === b.downloadRate &&
    a.uploadRate === b.uploadRate &&
    a.transport === b.transport &&
    a.departedAt === b.departedAt
  )
}

