import { parseArgs } from 'node:util'
import { formatBytes, formatRate } from '../../shared/format.js'
import { connectInstance } from './instance-client.js'
import { UsageError } from './cli-errors.js'

export const STATUS_USAGE = `swarmdrop status [--data-dir DIR] [--json]

  Shows the running instance's feed URL, ports and every release with its state, peers and
  upload (the whole snapshot with --json).`

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
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ok: true, dataDir: conn.dataDir, ...snap })}\n`)
      return 0
    }
    const out: string[] = []
    out.push(`Swarmdrop (${conn.dataDir})`)
    out.push(`  feed:      ${snap.endpoints.feedUrl}`)
    out.push(`  tracker:   ${snap.endpoints.announceUrls.join('  ')}`)
    out.push(`  ports:     HTTP ${snap.settings.httpPort}, peers ${snap.settings.peerPort}`)
    if (snap.endpoints.dashboardUrl) out.push(`  dashboard: ${snap.endpoints.dashboardUrl}`)
    out.push('')
    for (const d of snap.damagedReleases) out.push(`damaged record ${d.name}: ${d.reason}${d.keptAt ? ` (kept at ${d.keptAt})` : ''}`)
    if (snap.releases.length === 0 && snap.damagedReleases.length === 0) out.push('No releases yet: publish one with "swarmdrop publish <path>".')
    for (const r of snap.releases) {
      const swarm = snap.swarms.find((s) => s.infoHash === r.infoHash)
      const peers = swarm ? `${swarm.peers} peer(s), up ${formatRate(swarm.uploadRate)}, uploaded ${formatBytes(swarm.uploaded)}` : ''
      out.push(`${r.infoHash}  ${r.state.padEnd(8)} ${r.name}  (${r.fileCount} file(s), ${formatBytes(r.totalSize)}) ${peers}`)
      if (r.error) out.push(`  error ${r.error.code}: ${r.error.message}`)
    }
    process.stdout.write(`${out.join('\n')}\n`)
    return 0
  } finally {
    conn.close()
  }
}
