import { parseArgs } from 'node:util'
import { formatBytes, formatRate } from '../../shared/format.js'
import { fleetMatrix } from './fleet-format.js'
import { connectInstance } from './instance-client.js'
import { UsageError } from './cli-errors.js'

export const STATUS_USAGE = `swarmdrop status [--data-dir DIR] [--json]

  Shows the running instance's feed URL, ports, each watch folder's state, every release with its state, peers, upload and
  rollout, and the fleet: which server has which release (the whole snapshot and every server's
  row with --json).`

export async function runStatus(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, json: { type: 'boolean' } },
  })
  if (positionals.length > 0) throw new UsageError('status takes no arguments')
  const conn = await connectInstance(values['data-dir'])
  try {
    const snap = await conn.call('snapshot.get', {})
    const fleet = await conn.call('fleet.get', {})
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ok: true, dataDir: conn.dataDir, ...snap, fleet: fleet.rows })}\n`)
      return 0
    }
    const out: string[] = []
    out.push(`Swarmdrop (${conn.dataDir})`)
    out.push(`  feed:      ${snap.endpoints.feedUrl}`)
    out.push(`  tracker:   ${snap.endpoints.announceUrls.join('  ')}`)
    out.push(`  ports:     HTTP ${snap.settings.httpPort}, peers ${snap.settings.peerPort}`)
    if (snap.endpoints.dashboardUrl) out.push(`  dashboard: ${snap.endpoints.dashboardUrl}`)
    for (const w of snap.watchFolders) out.push(`  watching:  ${w.dir} (channel ${w.channel}): ${w.state}, ${w.message}`)
    out.push('')
    for (const d of snap.damagedReleases) out.push(`damaged record ${d.name}: ${d.reason}${d.keptAt ? ` (kept at ${d.keptAt})` : ''}`)
    if (snap.releases.length === 0 && snap.damagedReleases.length === 0) out.push('No releases yet: publish one with "swarmdrop publish <path>".')
    for (const r of snap.releases) {
      const swarm = snap.swarms.find((s) => s.infoHash === r.infoHash)
      const peers = swarm ? `${swarm.peers} peer(s), up ${formatRate(swarm.uploadRate)}, uploaded ${formatBytes(swarm.uploaded)}` : ''
      out.push(`${r.infoHash}  ${r.state.padEnd(8)} ${r.name}  (${r.fileCount} file(s), ${formatBytes(r.totalSize)}) ${peers}`)
      if (r.error) out.push(`  error ${r.error.code}: ${r.error.message}`)
      const rollout = snap.rollouts.find((x) => x.infoHash === r.infoHash)
      if (rollout && (rollout.complete > 0 || rollout.expected > 0)) {
        const of = rollout.expected > 0 ? `${rollout.expectedComplete} of ${rollout.expected} expected servers` : `${rollout.complete} server(s)`
        const times = rollout.lastCompletionMs !== null ? `, first ${seconds(rollout.firstCompletionMs)}, median ${seconds(rollout.medianCompletionMs)}, last ${seconds(rollout.lastCompletionMs)} after publishing` : ''
        out.push(`  rollout: ${of} complete${times}; uploaded ${rollout.uploadedCopies.toFixed(2)} copies`)
      }
    }
    out.push('')
    out.push(...fleetMatrix(fleet.rows, snap.releases, snap.endpoints))
    process.stdout.write(`${out.join('\n')}\n`)
    return 0
  } finally {
    conn.close()
  }
}

function seconds(ms: number | null): string {
  return ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`
}
