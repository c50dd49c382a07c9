/**
 * A PublishedRelease built straight from createTorrent output, the way the engine builds one:
 * the .torrent is re-encoded on every call around the fixed info bytes, with the LAN server's
 * current announce and web-seed URLs.
 */
import type { CreatedTorrent } from '../../electron/engine/create.js'
import type { PublishedRelease } from '../../electron/engine/lan-server.js'
import { encodeTorrent } from '../../electron/engine/torrent-file.js'

export function publishedRelease(
  created: CreatedTorrent,
  options: { title: string; publishedAt: Date; announce: () => string[][]; webSeeds: () => string[]; channel?: string },
): PublishedRelease {
  return {
    infoHash: created.infoHash,
    title: options.title,
    channel: options.channel ?? 'default',
    publishedAt: options.publishedAt,
    name: created.name,
    isDirectory: created.source.isDirectory,
    files: created.source.files.map((f) => ({ path: f.path, absPath: f.absPath, length: f.length })),
    totalSize: created.totalSize,
    torrent: () => encodeTorrent(created.info, { announce: options.announce(), urlList: options.webSeeds(), createdBy: 'swarmdrop test' }),
    magnet: created.magnet,
  }
}
