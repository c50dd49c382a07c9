import { writeFile, rename } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { createTorrent } from '../engine/create.js'
import { SwarmdropError } from '../../shared/errors.js'
import { formatBytes } from '../../shared/format.js'
import { ProgressBar } from './progress-bar.js'
import { UsageError } from './cli-errors.js'

export const CREATE_USAGE = `swarmdrop create <path> [-o FILE] [--piece-length BYTES] [--private|--public]
                 [--announce URL[,URL...]]... [--web-seed URL]... [--comment TEXT] [--name NAME] [--json]

  Hashes a file or folder into a .torrent, offline. Private by default; no tracker is added
  unless --announce is given (each --announce is one tier; commas separate URLs in a tier).
  Prints the info-hash (or a JSON object with --json).`

export async function runCreate(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      'piece-length': { type: 'string', short: 'l' },
      private: { type: 'boolean' },
      public: { type: 'boolean' },
      announce: { type: 'string', short: 'a', multiple: true },
      'web-seed': { type: 'string', short: 'w', multiple: true },
      comment: { type: 'string', short: 'c' },
      name: { type: 'string', short: 'n' },
      json: { type: 'boolean' },
    },
  })
  if (positionals.length !== 1) throw new UsageError('create takes exactly one file or folder')
  if (values.private && values.public) throw new UsageError('--private and --public cannot be combined')
  let pieceLength: number | undefined
  if (values['piece-length'] !== undefined) {
    pieceLength = Number(values['piece-length'])
    if (!Number.isInteger(pieceLength)) throw new UsageError(`--piece-length must be a number of bytes, got "${values['piece-length']}"`)
  }
  const announce = (values.announce ?? []).map((tier) => tier.split(',').map((u) => u.trim()).filter(Boolean))
  for (const url of [...announce.flat(), ...(values['web-seed'] ?? [])]) checkUrl(url)

  const input = positionals[0] as string
  const bar = new ProgressBar('Hashing')
  const created = await createTorrent(input, {
    pieceLength,
    private: !values.public,
    announce,
    webSeeds: values['web-seed'],
    comment: values.comment,
    name: values.name,
    threads: { mainThread: true },
    onProgress: (p) => bar.update(p.hashedBytes, p.totalBytes, p.rate),
  })
  bar.done()

  const output = path.resolve(values.output ?? `${created.name}.torrent`)
  // Write beside the target, then rename: an interrupted run never leaves a truncated .torrent.
  const tmp = `${output}.${process.pid}.tmp`
  try {
    await writeFile(tmp, created.torrent)
    await rename(tmp, output)
  } catch (err) {
    throw new SwarmdropError('WRITE_FAILED', `Cannot write ${output}: ${(err as Error).message}`, { cause: err })
  }

  if (values.json) {
    const result = {
      ok: true,
      infoHash: created.infoHash,
      name: created.name,
      torrentFile: output,
      magnet: created.magnet,
      private: created.private,
      pieceLength: created.pieceLength,
      pieceCount: created.pieceCount,
      totalSize: created.totalSize,
      fileCount: created.fileCount,
      elapsedMs: Math.round(created.elapsedMs),
    }
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } else {
    process.stdout.write(`${created.infoHash}\n`)
    process.stderr.write(
      `${output}: ${created.fileCount} file(s), ${formatBytes(created.totalSize)}, ${created.pieceCount} pieces of ${formatBytes(created.pieceLength)}, ${created.private ? 'private' : 'public'}\n`,
    )
  }
  return 0
}

function checkUrl(url: string): void {
  try {
    const u = new URL(url)
    if (!['http:', 'https:', 'udp:'].includes(u.protocol)) throw new Error('scheme')
  } catch {
    throw new UsageError(`"${url}" is not an http://, https:// or udp:// URL`)
  }
}
