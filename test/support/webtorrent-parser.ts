/** Typed adapter over parse-torrent, the parser webtorrent itself uses: a second opinion on our output. */
import parseTorrent from 'parse-torrent'

export interface WebtorrentView {
  infoHash: string
  name: string
  private: boolean
  pieceLength: number
  length: number
  files: { path: string; length: number }[]
  announce: string[]
  urlList: string[]
}

export async function parseWithWebtorrent(torrent: Buffer): Promise<WebtorrentView> {
  return (await parseTorrent(new Uint8Array(torrent))) as WebtorrentView
}
