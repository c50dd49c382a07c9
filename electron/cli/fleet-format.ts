/**
 * The fleet in a terminal: a matrix of servers × releases, a cell each ("100%", " 42%↓",
 * "stall", "gone", "poll", "got", "  - "), for `status` and `wait`.
 */
import type { FleetCell, FleetRow, ReleaseSummary } from '../../shared/contract.js'

export function cellText(cell: FleetCell | undefined): string {
  if (!cell) return '   -'
  switch (cell.state) {
    case 'complete':
      return 'done'
    case 'downloading':
      return `${Math.floor(cell.percent * 100)}%`.padStart(4)
    case 'stalled':
      return 'stal'
    case 'gone':
      return 'gone'
    case 'picked-up':
      return ' got'
    case 'polled':
      return 'poll'
    default:
      return '   -'
  }
}

/** Rows sorted by name; columns are the releases not retired, newest last. `ports` name what a firewall must let through. */
export function fleetMatrix(rows: FleetRow[], releases: ReleaseSummary[], ports: { httpPort: number; peerPort: number }): string[] {
  const columns = releases.filter((r) => r.state !== 'retired')
  if (rows.length === 0) return ['No servers seen yet: they appear when they poll the feed, fetch a .torrent or announce.']
  const nameWidth = Math.min(28, Math.max(6, ...rows.map((r) => r.name.length)))
  const out: string[] = []
  out.push(`${'server'.padEnd(nameWidth)}  ${columns.map((c, i) => `R${i + 1}`.padStart(4)).join(' ')}  client`)
  for (const row of [...rows].sort((a, b) => a.name.localeCompare(b.name))) {
    const cells = columns.map((c) => cellText(row.cells[c.infoHash])).join(' ')
    const notes = [row.clients.join(', ') || (row.lastSeen === null ? 'never seen' : '')]
    if (row.firewallHint) notes.push(`polls the feed but never announces: let it reach TCP+UDP ${ports.httpPort} and TCP ${ports.peerPort} here`)
    out.push(`${row.name.slice(0, nameWidth).padEnd(nameWidth)}  ${cells}  ${notes.filter(Boolean).join('; ')}`)
  }
  out.push(...columns.map((c, i) => `  R${i + 1} = ${c.name} (${c.infoHash.slice(0, 8)})`))
  return out
}
