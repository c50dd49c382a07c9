/**
 * Building and reading .torrent files. The info dictionary is built once and kept as bytes; the
 * outer dictionary (announce, url-list, comment) is re-encoded around it, so a release can be
 * served with the current LAN address without its info-hash ever changing.
 */
import { createHash } from 'node:crypto'
import { bdecode, bencode, RawBencode, type BDict, type BValue, type Decoded, type DecodedDict } from './bencode.js'

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

export interface ParsedTorrent {
  infoHash: string
  info: Buffer
  name: string
  files: InfoFile[]
  isMultiFile: boolean
  totalSize: number
  pieceLength: number
  pieceCount: number
  private: boolean
  announce: string[][]
  urlList: string[]
  comment: string | null
}

export class TorrentParseError extends Error {}

export function parseTorrent(data: Buffer): ParsedTorrent {
  let decoded
  try {
    decoded = bdecode(data)
  } catch (err) {
    throw new TorrentParseError(`Not a .torrent file: ${(err as Error).message}`)
  }
  const top = asDict(decoded.value, 'top level')
  const span = decoded.spans.get('info')
  if (!span) throw new TorrentParseError('Not a .torrent file: no info dictionary')
  const info = data.subarray(span[0], span[1])
  const infoDict = asDict(top.info, 'info')
  const name = asString(infoDict.name, 'info.name')
  const pieceLength = asInt(infoDict['piece length'], 'info.piece length')
  const pieces = asBuffer(infoDict.pieces, 'info.pieces')
  let files: InfoFile[]
  const isMultiFile = infoDict.files !== undefined
  if (isMultiFile) {
    files = asList(infoDict.files, 'info.files').map((f, i) => {
      const fd = asDict(f, `info.files[${i}]`)
      return {
        length: asInt(fd.length, `info.files[${i}].length`),
        path: asList(fd.path, `info.files[${i}].path`).map((p) => asString(p, 'path')),
      }
    })
  } else {
    files = [{ path: [name], length: asInt(infoDict.length, 'info.length') }]
  }
  const totalSize = files.reduce((s, f) => s + f.length, 0)
  const announce: string[][] = []
  if (top['announce-list'] !== undefined) {
    for (const tier of asList(top['announce-list'], 'announce-list')) announce.push(asList(tier, 'tier').map((u) => asString(u, 'url')))
  } else if (top.announce !== undefined) {
    announce.push([asString(top.announce, 'announce')])
  }
  const urlList =
    top['url-list'] === undefined
      ? []
      : Buffer.isBuffer(top['url-list'])
        ? [asString(top['url-list'], 'url-list')]
        : asList(top['url-list'], 'url-list').map((u) => asString(u, 'url-list'))
  return {
    infoHash: infoHashOf(info),
    info,
    name,
    files,
    isMultiFile,
    totalSize,
    pieceLength,
    pieceCount: pieces.length / 20,
    private: infoDict.private !== undefined && asInt(infoDict.private, 'private') === 1,
    announce,
    urlList,
    comment: top.comment === undefined ? null : asString(top.comment, 'comment'),
  }
}

export function magnetUri(infoHash: string, name: string, trackers: string[]): string {
  const params = [`xt=urn:btih:${infoHash}`, `dn=${encodeURIComponent(name)}`]
  for (const tr of trackers) params.push(`tr=${encodeURIComponent(tr)}`)
  return `magnet:?${params.join('&')}`
}

function asDict(v: Decoded | undefined, what: string): DecodedDict {
  if (v === undefined || Buffer.isBuffer(v) || Array.isArray(v) || typeof v === 'bigint') throw new TorrentParseError(`${what} is not a dictionary`)
  return v
}
function asList(v: Decoded | undefined, what: string): Decoded[] {
  if (!Array.isArray(v)) throw new TorrentParseError(`${what} is not a list`)
  return v
}
function asBuffer(v: Decoded | undefined, what: string): Buffer {
  if (!Buffer.isBuffer(v)) throw new TorrentParseError(`${what} is not a string`)
  return v
}
function asString(v: Decoded | undefined, what: string): string {
  return asBuffer(v, what).toString('utf8')
}
function asInt(v: Decoded | undefined, what: string): number {
  if (typeof v !== 'bigint') throw new TorrentParseError(`${what} is not an integer`)
  return Number(v)
}
