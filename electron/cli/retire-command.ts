import { parseArgs } from 'node:util'
import { connectInstance } from './instance-client.js'
import { UsageError } from './cli-errors.js'

export const RETIRE_USAGE = `swarmdrop retire <infohash> [--data-dir DIR] [--json]
swarmdrop retire [--older-than DAYS] [--keep-last N] [--channel NAME] [--data-dir DIR] [--json]

  Removes a release from the feed, stops seeding it and makes the tracker refuse it. The files
  stay where they are. With --older-than (e.g. 30 or 30d) and/or --keep-last, retires every
  release of the channel (default: each channel) older than that, or beyond the newest N.`

export async function runRetire(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, json: { type: 'boolean' }, 'older-than': { type: 'string' }, 'keep-last': { type: 'string' }, channel: { type: 'string' } },
  })
  if (values['older-than'] !== undefined || values['keep-last'] !== undefined) {
    if (positionals.length > 0) throw new UsageError('retire takes an info-hash, or --older-than/--keep-last, not both')
    const olderThan = values['older-than']
    const keepLast = values['keep-last']
    if (olderThan !== undefined && !/^\d+d?$/.test(olderThan)) throw new UsageError(`--older-than takes days, like 30 or 30d; got "${olderThan}"`)
    if (keepLast !== undefined && !/^\d+$/.test(keepLast)) throw new UsageError(`--keep-last takes a number of releases; got "${keepLast}"`)
    const conn = await connectInstance(values['data-dir'])
    try {
      const { retired } = await conn.call('releases.retireOld', {
        ...(values.channel !== undefined ? { channel: values.channel } : {}),
        ...(keepLast !== undefined ? { keepLast: Number(keepLast) } : {}),
        ...(olderThan !== undefined ? { olderThanDays: Number(olderThan.replace(/d$/, '')) } : {}),
      })
      if (values.json) process.stdout.write(`${JSON.stringify({ ok: true, retired })}\n`)
      else process.stdout.write(retired.length === 0 ? 'Nothing to retire.\n' : `Retired ${retired.length} release(s), their files left in place:\n${retired.map((r) => `  ${r.infoHash}  ${r.name}`).join('\n')}\n`)
      return 0
    } finally {
      conn.close()
    }
  }
  const [infoHash, ...extra] = positionals
  if (!infoHash || extra.length > 0) throw new UsageError('retire takes exactly one info-hash')
  if (!/^[0-9a-fA-F]{40}$/.test(infoHash)) throw new UsageError(`"${infoHash}" is not an info-hash (40 hex characters)`)
  const conn = await connectInstance(values['data-dir'])
  try {
    const release = await conn.call('release.retire', { infoHash: infoHash.toLowerCase() })
    if (values.json) process.stdout.write(`${JSON.stringify({ ok: true, release })}\n`)
    else process.stdout.write(`Retired "${release.name}" (${release.infoHash}): no longer in the feed or seeded.\n`)
    return 0
  } finally {
    conn.close()
  }
}
