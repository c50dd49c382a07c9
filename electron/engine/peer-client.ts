/**
 * Client name and version from a BitTorrent peer id: the one adapter over bittorrent-peerid.
 * aria2's ("A2-1-36-0-...") and our own ("-SD0100-") peer ids are not in that package's table,
 * so they are decoded here.
 */
import peerid from 'bittorrent-peerid'

export interface PeerClient {
  client: string
  version: string | null
}

const decode = peerid as (peerId: string) => { client?: unknown; version?: unknown }

/** `peerId` is hex (as webtorrent and bittorrent-tracker give it) or the raw 20 characters. */
export function peerClient(peerId: string | null | undefined): PeerClient {
  if (!peerId) return { client: 'unknown', version: null }
  const raw = /^[0-9a-f]{40}$/i.test(peerId) ? Buffer.from(peerId, 'hex').toString('latin1') : peerId
  const aria2 = /^A2-(\d+)-(\d+)-(\d+)-/.exec(raw)
  if (aria2) return { client: 'aria2', version: `${aria2[1]}.${aria2[2]}.${aria2[3]}` }
  const swarmdrop = /^-SD(\d)(\d)(\d)\d-/.exec(raw)
  if (swarmdrop) return { client: 'Swarmdrop', version: `${swarmdrop[1]}.${swarmdrop[2]}.${swarmdrop[3]}` }
  let decoded: { client?: unknown; version?: unknown }
  try {
    decoded = decode(Buffer.from(raw, 'latin1').toString('hex'))
  } catch {
    return { client: 'unknown', version: null }
  }
  const client = typeof decoded.client === 'string' && decoded.client !== '' ? decoded.client : 'unknown'
  const version = typeof decoded.version === 'string' && decoded.version !== '' ? decoded.version : null
  return { client, version }
}

/** The printable 8-byte prefix ("-qB4520-"), for logs. */
export function peerIdPrefix(peerId: string): string {
  const raw = /^[0-9a-f]{40}$/i.test(peerId) ? Buffer.from(peerId, 'hex') : Buffer.from(peerId, 'latin1')
  return [...raw.subarray(0, 8)].map((c) => (c >= 32 && c < 127 ? String.fromCharCode(c) : '.')).join('')
}
