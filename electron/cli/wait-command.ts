import { parseArgs } from 'node:util'
import type { FleetRow, ReleaseSummary } from '../../shared/contract.js'
import { SwarmdropError } from '../../shared/errors.js'
import { cellText } from './fleet-format.js'
import { connectInstance } from './instance-client.js'
import { EXIT_FAILURE, UsageError } from './cli-errors.js'

export const WAIT_USAGE = `swarmdrop wait <release> [--servers all|N|HOST,...] [--timeout SECONDS] [--data-dir DIR] [--json]

  Blocks until the release (its info-hash, or its name) has reached the servers, printing
  progress, then exits 0. What a deploy pipeline runs after "swarmdrop publish".
    --servers all        every server on the roster of expected servers (the default)
    --servers N          any N servers
    --servers a,b,...    these servers, by IP or name
    --timeout SECONDS    give up after this long: exit 1 and name the servers still missing`

/** How often the fleet is read again; the UIs get changes once a second too. */
const POLL_MS = 1000

type Target = { kind: 'all' } | { kind: 'count'; n: number } | { kind: 'named'; names: string[] }

export async function runWait(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, servers: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' } },
  })
  const [wanted, ...extra] = positionals
  if (!wanted || extra.length > 0) throw new UsageError('wait takes exactly one release (its info-hash or name)')
  const target = parseTarget(values.servers ?? 'all')
  const timeoutS = values.timeout === undefined ? null : Number(values.timeout)
  if (timeoutS !== null && !(timeoutS > 0)) throw new UsageError(`--timeout must be a number of seconds, got "${values.timeout}"`)
  const deadline = timeoutS === null ? Infinity : Date.now() + timeoutS * 1000

  const conn = await connectInstance(values['data-dir'])
  try {
    const snap = await conn.call('snapshot.get', {})
    const release = findRelease(snap.releases, wanted)
    let lastLine = ''
    for (;;) {
      const { rows } = await conn.call('fleet.get', {})
      const outcome = evaluate(target, rows, release.infoHash)
      const line = `${release.name}: ${outcome.done.length} of ${outcome.needed} server(s) complete${outcome.pending.length ? `; waiting for ${outcome.pending.map((r) => `${r.name} ${cellText(r.cells[release.infoHash]).trim()}`).join(', ')}` : ''}`
      if (line !== lastLine && !values.json) process.stderr.write(`${line}\n`)
      lastLine = line
      if (outcome.satisfied) {
        if (values.json) process.stdout.write(`${JSON.stringify({ ok: true, infoHash: release.infoHash, complete: outcome.done.map((r) => r.ip) })}\n`)
        else process.stdout.write(`${release.name} reached ${outcome.done.length} server(s): ${outcome.done.map((r) => r.name).join(', ')}\n`)
        return 0
      }
      if (Date.now() >= deadline) {
        const missing = outcome.missing.length ? outcome.missing.join(', ') : `${outcome.needed - outcome.done.length} more server(s)`
        if (values.json) process.stdout.write(`${JSON.stringify({ ok: false, infoHash: release.infoHash, complete: outcome.done.map((r) => r.ip), missing: outcome.missing })}\n`)
        process.stderr.write(`swarmdrop: error TIMEOUT: ${release.name} did not reach ${missing} within ${timeoutS} s\n`)
        return EXIT_FAILURE
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))))
    }
  } finally {
    conn.close()
  }
}

function parseTarget(spec: string): Target {
  if (spec === 'all') return { kind: 'all' }
  if (/^\d+$/.test(spec)) {
    const n = Number(spec)
    if (n < 1) throw new UsageError('--servers N needs at least 1')
    return { kind: 'count', n }
  }
  const names = spec.split(',').map((s) => s.trim()).filter(Boolean)
  if (names.length === 0) throw new UsageError(`--servers takes "all", a number, or server names: got "${spec}"`)
  return { kind: 'named', names }
}

function findRelease(releases: ReleaseSummary[], wanted: string): ReleaseSummary {
  const live = releases.filter((r) => r.state !== 'retired')
  const match = live.find((r) => r.infoHash === wanted.toLowerCase()) ?? live.filter((r) => r.name === wanted).at(-1)
  if (!match) throw new SwarmdropError('UNKNOWN_RELEASE', `No published release is called or has the info-hash "${wanted}". Run "swarmdrop status" to list them.`)
  return match
}

interface Outcome {
  satisfied: boolean
  needed: number
  done: FleetRow[]
  pending: FleetRow[]
  /** Names of the servers still missing (for --servers all and a list). */
  missing: string[]
}

function evaluate(target: Target, rows: FleetRow[], infoHash: string): Outcome {
  const isDone = (r: FleetRow): boolean => r.cells[infoHash]?.state === 'complete'
  if (target.kind === 'count') {
    const done = rows.filter(isDone)
    return { satisfied: done.length >= target.n, needed: target.n, done, pending: rows.filter((r) => !isDone(r) && (r.cells[infoHash]?.percent ?? 0) > 0), missing: [] }
  }
  let group: FleetRow[]
  const missing: string[] = []
  if (target.kind === 'all') {
    group = rows.filter((r) => r.expected)
    if (group.length === 0) throw new SwarmdropError('INVALID_ARGUMENT', 'There is no roster of expected servers to wait for: add them in the dashboard (Servers), or use --servers N or --servers host,host.')
  } else {
    group = []
    for (const name of target.names) {
      const row = rows.find((r) => r.ip === name || r.name === name || r.hostname === name)
      if (row) group.push(row)
      else missing.push(`${name} (never seen)`)
    }
  }
  const done = group.filter(isDone)
  const pending = group.filter((r) => !isDone(r))
  missing.push(...pending.map((r) => `${r.name}${r.lastSeen === null ? ' (never seen)' : ` (${cellText(r.cells[infoHash]).trim()})`}`))
  return { satisfied: missing.length === 0, needed: group.length + (target.kind === 'named' ? target.names.length - group.length : 0), done, pending, missing }
}
