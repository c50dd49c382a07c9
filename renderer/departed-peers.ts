/**
 * Peers that just left a swarm. Snapshots list only live connections, and a client that finishes
 * usually hangs up at once (aria2 says goodbye to seeders the moment it is complete), so without
 * this a server's row would vanish at 97 % instead of showing that it got everything. A departed
 * row stays for LINGER_MS with its rates at zero; the core's release.completedByServer event
 * (the tracker's "completed" announce) marks it as 100 %.
 */
import type { PeerInfo, Snapshot } from '../shared/contract.js'

export const LINGER_MS = 60_000

export interface PeerRowData extends PeerInfo {
  /** When the connection went away; null while connected. */
  departedAt: number | null
}

export interface DepartedPeers {
  /** Keyed by infoHash + peer id. */
  rows: Record<string, PeerRowData>
  /** infoHash + ip of servers the core reported as complete, with the time. */
  completed: Record<string, number>
}

export const NO_DEPARTED: DepartedPeers = { rows: {}, completed: {} }

const rowKey = (p: { infoHash: string; id: string }): string => `${p.infoHash}|${p.id}`
const completionKey = (infoHash: string, ip: string): string => `${infoHash}|${ip}`
/** One server in one swarm, whatever its connection: its address and client (several clients may share a host). */
const serverKey = (p: { infoHash: string; ip: string; client: string }): string => `${p.infoHash}|${p.ip}|${p.client}`

/** Carries the peers that disappeared between two snapshots into the departed list. */
export function trackDepartures(departed: DepartedPeers, previous: Snapshot | null, next: Snapshot): DepartedPeers {
  const live = new Set(next.peers.map(rowKey))
  // A server back on a new connection (it dialled again, or the publisher did) is one row, not two.
  const back = new Set(next.peers.map(serverKey))
  const rows: Record<string, PeerRowData> = {}
  let changed = false
  for (const [key, row] of Object.entries(departed.rows)) {
    if (!live.has(key) && !back.has(serverKey(row)) && next.at - (row.departedAt ?? 0) < LINGER_MS) rows[key] = row
    else changed = true
  }
  for (const peer of previous?.peers ?? []) {
    const key = rowKey(peer)
    if (live.has(key) || back.has(serverKey(peer)) || rows[key]) continue
    rows[key] = { ...peer, downloadRate: 0, uploadRate: 0, departedAt: next.at }
    changed = true
  }
  const completed: Record<string, number> = {}
  for (const [key, at] of Object.entries(departed.completed)) if (next.at - at < LINGER_MS) completed[key] = at
  if (Object.keys(completed).length !== Object.keys(departed.completed).length) changed = true
  return changed ? { rows, completed } : departed
}

export function recordCompletion(departed: DepartedPeers, infoHash: string, ip: string, at: number): DepartedPeers {
  return { ...departed, completed: { ...departed.completed, [completionKey(infoHash, ip)]: at } }
}

/** Live peers first, then the departed ones (complete if the core said so), optionally for one swarm. */
export function peerRows(peers: PeerInfo[], departed: DepartedPeers, infoHash: string | null): PeerRowData[] {
  const rows: PeerRowData[] = []
  for (const p of peers) if (infoHash === null || p.infoHash === infoHash) rows.push({ ...p, departedAt: null })
  for (const row of Object.values(departed.rows)) {
    if (infoHash !== null && row.infoHash !== infoHash) continue
    rows.push(departed.completed[completionKey(row.infoHash, row.ip)] !== undefined ? { ...row, progress: 1 } : row)
  }
  return rows
}
