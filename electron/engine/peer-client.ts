/**
 * Client name and version from a BitTorrent peer id: the one adapter over bittorrent-peerid.
 * aria2's ("A2-1-36-0-...") and our own ("-SD0100-") peer ids are not in that package's table,
 * so they are decoded here; so are the Azureus-style versions it leaves empty, rTorrent's
 * libtorrent ("-lt0D80-": 0.13.8) and libtorrent-rasterbar's ("-LT1220-": 1.2.2) among them,
 * since a fleet view that cannot tell two client versions apart cannot explain a slow server.
 */
import peerid from 'bittorrent-peerid'

export interface PeerClient {
  client: string
  version: string | null
}

const decode = peerid as (peerId: string) => { client?: unknown; version?: unknown }

/**
 * Decoded peer ids, since every announce asks again for the same few thousand: decoding was a
 * few percent of the tracker's CPU under load. Emptied when full, which a fleet larger than this
 * only makes as slow as no cache.
 */
const decodedIds = new Map<string, PeerClient>()
const MAX_DECODED_IDS = 16_384

/** `peerId` is hex (as webtorrent and bittorrent-tracker give it) or the raw 20 characters. */
export function peerClient(peerId: string | null | undefined): PeerClient {
  if (!peerId) return { client: 'unknown', version: null }
  let known = decodedIds.get(peerId)
  if (!known) {
    if (decodedIds.size >= MAX_DECODED_IDS) decodedIds.clear()
    decodedIds.set(peerId, (known = decodePeerId(peerId)))
  }
  // A copy: callers own what they are given.
  return { client: known.client, version: known.version }
}

function decodePeerId(peerId: string): PeerClient {
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
  const client = typeof decoded.client === 'string' && decoded.client !== '' ? RENAMED[decoded.client] ?? decoded.client : 'unknown'
  const version = typeof decoded.version === 'string' && decoded.version.trim() !== '' ? decoded.version.trim() : azureusVersion(raw)
  return { client, version }
}

/** bittorrent-peerid's names that read as a guess ("*") or name two things at once. */
const RENAMED: Record<string, string> = { 'libTorrent (Rakshasa) / rTorrent*': 'libtorrent (rTorrent)' }

/**
 * "-XXabcd-": each of a, b, c, d is one digit in base 36 (0-9, then A/a = 10 ...), the last one
 * left out when it is 0, as libtorrent and libtorrent-rasterbar write them.
 */
function azureusVersion(raw: string): string | null {
  const m = /^-[A-Za-z~]{2}([0-9A-Za-z]{4})-/.exec(raw)
  if (!m) return null
  const digits = [...(m[1] as string)].map((c) => parseInt(c, 36))
  if (digits[3] === 0) digits.pop()
  return digits.join('.')
}

/** The printable 8-byte prefix ("-qB4520-"), for logs. */
export function peerIdPrefix(peerId: string): string {
  const raw = /^[0-9a-f]{40}$/i.test(peerId) ? Buffer.from(peerId, 'hex') : Buffer.from(peerId, 'latin1')
  return [...raw.subarray(0, 8)].map((c) => (c >= 32 && c < 127 ? String.fromCharCode(c) : '.')).join('')
}
