import { parseArgs } from 'node:util'
import type { FleetRow, ReleaseSummary } from '../../shared/contract.js'
import { SwarmdropError } from '../../shared/errors.js'
import { cellText } from './fleet-format.js'
import { connectInstance, type InstanceConnection } from './instance-client.js'
import { EXIT_FAILURE, UsageError } from './cli-errors.js'

export const WAIT_USAGE = `swarmdrop wait <release> [--servers all|N|HOST,...] [--timeout SECONDS] [--data-dir DIR] [--json]

  Blocks until the release (its info-hash, or its name) has reached the servers, printing
  progress, then exits 0. What a deploy pipeline runs after "swarmdrop publish" (or use
  "swarmdrop publish <path> --wait", which does both).
    --servers all        every server on the roster of expected servers (the default)
    --servers N          any N servers
    --servers a,b,...    these servers, by IP or name
    --timeout SECONDS    give up after this long: exit 1 and name the servers still missing`

/** How often the fleet is read again; the UIs get changes once a second too. */
const POLL_MS = 1000

export type WaitTarget = { kind: 'all' } | { kind: 'count'; n: number } | { kind: 'named'; names: string[] }

/** What to wait for, from `--servers` and `--timeout` (shared by `wait` and `publish --wait`). */
export interface WaitSpec {
  target: WaitTarget
  /** Null waits for ever. */
  timeoutS: number | null
}

/** The `--servers` and `--timeout` flags, for parseArgs. */
export const WAIT_FLAGS = { servers: { type: 'string' }, timeout: { type: 'string' } } as const

/** Checks the flags before anything happens, so a typo is a usage error (exit 2), not a half-done deploy. */
export function parseWaitSpec(values: { servers?: string; timeout?: string }): WaitSpec {
  const target = parseTarget(values.servers ?? 'all')
  const timeoutS = values.timeout === undefined ? null : Number(values.timeout)
  if (timeoutS !== null && !(timeoutS > 0)) throw new UsageError(`--timeout must be a number of seconds, got "${values.timeout}"`)
  return { target, timeoutS }
}

/** What a wait ended with; `json` is the machine-readable line (`--json`) for the caller to print. */
export interface WaitResult {
  code: number
  json: { ok: boolean; infoHash: string; complete: string[]; missing?: string[] }
}

export async function runWait(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, ...WAIT_FLAGS, json: { type: 'boolean' } },
  })
  const [wanted, ...extra] = positionals
  if (!wanted || extra.length > 0) throw new UsageError('wait takes exactly one release (its info-hash or name)')
  const spec = parseWaitSpec(values)

  const conn = await connectInstance(values['data-dir'])
  try {
    const snap = await conn.call('snapshot.get', {})
    const release = findRelease(snap.releases, wanted)
    const result = await waitForRollout(conn, release, spec, { json: values.json ?? false })
    if (values.json) process.stdout.write(`${JSON.stringify(result.json)}\n`)
    return result.code
  } finally {
    conn.close()
  }
}

/**
 * Fails at once when the target cannot be met by this fleet at all (`--servers all` and no
 * roster): `publish --wait` asks before it publishes anything.
 */
export async function checkWaitable(conn: InstanceConnection, spec: WaitSpec): Promise<void> {
  if (spec.target.kind !== 'all') return
  const { rows } = await conn.call('fleet.get', {})
  expectedGroup(rows)
}

/**
 * Polls the fleet until the release reached the target or the timeout passed (counted from now),
 * printing progress lines on stderr (and the outcome on stdout) unless `json`. The one waiting
 * loop of `wait` and `publish --wait`. Exit code 0 when reached, 1 on timeout.
 */
export async function waitForRollout(conn: InstanceConnection, release: ReleaseSummary, spec: WaitSpec, output: { json: boolean }): Promise<WaitResult> {
  const deadline = spec.timeoutS === null ? Infinity : Date.now() + spec.timeoutS * 1000
  let lastLine = ''
  // A call made after the socket closed would never settle: check before each poll instead.
  let lost: string | null = null
  conn.api.onDisconnect((reason) => (lost = reason))
  for (;;) {
    if (lost !== null) throw new SwarmdropError('NOT_RUNNING', `Swarmdrop stopped while waiting for ${release.name} (${lost}).`)
    const { rows } = await conn.call('fleet.get', {})
    const outcome = evaluate(spec.target, rows, release.infoHash)
    const line = `${release.name}: ${outcome.done.length} of ${outcome.needed} server(s) complete${outcome.pending.length ? `; waiting for ${outcome.pending.map((r) => `${r.name} ${cellText(r.cells[release.infoHash]).trim()}`).join(', ')}` : ''}`
    if (line !== lastLine && !output.json) process.stderr.write(`${line}\n`)
    lastLine = line
    const complete = outcome.done.map((r) => r.ip)
    if (outcome.satisfied) {
      if (!output.json) process.stdout.write(`${release.name} reached ${outcome.done.length} server(s): ${outcome.done.map((r) => r.name).join(', ')}\n`)
      return { code: 0, json: { ok: true, infoHash: release.infoHash, complete } }
    }
    if (Date.now() >= deadline) {
      const missing = outcome.missing.length ? outcome.missing.join(', ') : `${outcome.needed - outcome.done.length} more server(s)`
      process.stderr.write(`swarmdrop: error TIMEOUT: ${release.name} did not reach ${missing} within ${spec.timeoutS} s\n`)
      return { code: EXIT_FAILURE, json: { ok: false, infoHash: release.infoHash, complete, missing: outcome.missing } }
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))))
  }
}

function parseTarget(spec: string): WaitTarget {
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

/** The roster, or an error saying there is none to wait for. */
function expectedGroup(rows: FleetRow[]): FleetRow[] {
  const group = rows.filter((r) => r.expected)
  if (group.length === 0) throw new SwarmdropError('INVALID_ARGUMENT', 'There is no roster of expected servers to wait for: add them in the dashboard (Servers), or use --servers N or --servers host,host.')
  return group
}

function evaluate(target: WaitTarget, rows: FleetRow[], infoHash: string): Outcome {
  const isDone = (r: FleetRow): boolean => r.cells[infoHash]?.state === 'complete'
  if (target.kind === 'count') {
    const done = rows.filter(isDone)
    return { satisfied: done.length >= target.n, needed: target.n, done, pending: rows.filter((r) => !isDone(r) && (r.cells[infoHash]?.percent ?? 0) > 0), missing: [] }
  }
  let group: FleetRow[]
  const missing: string[] = []
  if (target.kind === 'all') {
    group = expectedGroup(rows)
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
