import { parseArgs } from 'node:util'
import { connectInstance } from './instance-client.js'
import { UsageError } from './cli-errors.js'

export const RETIRE_USAGE = `swarmdrop retire <infohash> [--data-dir DIR] [--json]

  Removes a release from the feed, stops seeding it and makes the tracker refuse it. The files
  stay where they are.`

export async function runRetire(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, json: { type: 'boolean' } },
  })
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
