/**
 * Test support: reads a .torrent back into its fields, to check what the engine builds and
 * serves. The engine itself never parses .torrent files, so this lives here, on the engine's own
 * bencode decoder (test/support/webtorrent-parser.ts is the independent second opinion).
 */
import { bdecode, type Decoded, type DecodedDict } from '../../electron/engine/bencode.js'
import { infoHashOf, type InfoFile } from '../../electron/engine/torrent-file.js'

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
