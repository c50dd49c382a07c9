/**
 * Building .torrent files. The info dictionary is built once and kept as bytes; the
 * outer dictionary (announce, url-list, comment) is re-encoded around it, so a release can be
 * served with the current LAN address without its info-hash ever changing.
 */
import { createHash } from 'node:crypto'
import { bencode, RawBencode, type BDict, type BValue } from './bencode.js'

export interface InfoFile {
  path: string[]
  length: number
}

export interface InfoInput {
  name: string
  /** null for a single-file torrent. */
  files: InfoFile[] | null
  /** Single-file length (ignored for multi-file). */
  length: number
  pieceLength: number
  pieces: Buffer
  private: boolean
}

/** Exactly mktorrent's info dictionary for the same input (no extra keys), so info-hashes agree. */
export function encodeInfo(input: InfoInput): Buffer {
  const info: BDict = {
    name: input.name,
    'piece length': input.pieceLength,
    pieces: input.pieces,
  }
  if (input.files) info.files = input.files.map((f) => ({ length: f.length, path: f.path }))
  else info.length = input.length
  if (input.private) info.private = 1
  return bencode(info)
}

export function infoHashOf(info: Buffer): string {
  return createHash('sha1').update(info).digest('hex')
}

export interface TorrentMeta {
  /** Tiers of announce URLs (BEP 12); empty for a trackerless torrent. */
  announce: string[][]
  /** BEP 19 web seeds. */
  urlList?: string[]
  comment?: string | null
  createdBy?: string
  creationDate?: number
}

export function encodeTorrent(info: Buffer, meta: TorrentMeta): Buffer {
  const tiers = meta.announce.filter((t) => t.length > 0)
  const dict: BDict = { info: new RawBencode(info) }
  const first = tiers[0]?.[0]
  if (first) dict.announce = first
  if (tiers.length > 1 || (tiers[0]?.length ?? 0) > 1) dict['announce-list'] = tiers
  if (meta.urlList && meta.urlList.length > 0) dict['url-list'] = meta.urlList
  if (meta.comment) dict.comment = meta.comment
  if (meta.createdBy) dict['created by'] = meta.createdBy
  if (meta.creationDate !== undefined) dict['creation date'] = meta.creationDate
  return bencode(dict as BValue)
}

export function magnetUri(infoHash: string, name: string, trackers: string[]): string {
  const params = [`xt=urn:btih:${infoHash}`, `dn=${encodeURIComponent(name)}`]
  for (const tr of trackers) params.push(`tr=${encodeURIComponent(tr)}`)
  return `magnet:?${params.join('&')}`
}
