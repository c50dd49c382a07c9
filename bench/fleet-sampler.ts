/**
 * Runs inside the publisher's namespace (the admin port listens on its loopback): sets the
 * roster, then every `intervalMs` prints one JSON line with what the fleet view knows — the
 * rollouts, the swarms' upload counters and each server's cells. The benchmark reads these lines
 * for its timings and its plots. Usage: fleet-sampler.js DATA_DIR INTERVAL_MS IP,IP,...
 */
import { connectInstance } from '../electron/cli/instance-client.js'
import type { FleetCell, RolloutSummary } from '../shared/contract.js'

export interface FleetSample {
  /** The engine's clock (Date.now() there; the same machine's clock as the benchmark's). */
  at: number
  rollouts: RolloutSummary[]
  swarms: { infoHash: string; uploaded: number }[]
  rows: { ip: string; clients: string[]; cells: Record<string, FleetCell> }[]
}

const [dataDir, intervalArg, ips] = process.argv.slice(2)
const intervalMs = Number(intervalArg)
if (!dataDir || !(intervalMs > 0) || ips === undefined) {
  process.stderr.write('usage: fleet-sampler.js DATA_DIR INTERVAL_MS IP,IP,...\n')
  process.exit(2)
}
const conn = await connectInstance(dataDir)
const roster = await conn.call('fleet.roster.set', { servers: ips.split(',').filter(Boolean) })
process.stdout.write(`${JSON.stringify({ roster })}\n`)
// Samples are taken one after another, never overlapping, so a slow answer delays the next
// rather than piling requests onto a busy engine.
for (;;) {
  const started = Date.now()
  const [snap, fleet] = await Promise.all([conn.call('snapshot.get', {}), conn.call('fleet.get', {})])
  const sample: FleetSample = {
    at: snap.at,
    rollouts: snap.rollouts,
    swarms: snap.swarms.map((s) => ({ infoHash: s.infoHash, uploaded: s.uploaded })),
    rows: fleet.rows.map((r) => ({ ip: r.ip, clients: r.clients, cells: r.cells })),
  }
  process.stdout.write(`${JSON.stringify({ sample })}\n`)
  await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))))
}
