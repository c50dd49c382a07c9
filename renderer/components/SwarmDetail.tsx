import { formatBytes, formatRate } from '../../shared/format.js'
import { useDashboard, usePeerRows } from '../app-context.js'
import type { RateSample } from '../store.js'
import { AvailabilityBar } from './AvailabilityBar.js'
import { CopyField } from './CopyField.js'
import { PeersTable } from './PeersTable.js'
import { RateChart } from './RateChart.js'
import { RolloutProgress } from './RolloutProgress.js'
import { StateBadge } from './ReleasesList.js'

const NO_SAMPLES: RateSample[] = []

/** One release's swarm: live rates, how far the pieces have spread, which servers have it, and who is connected. */
export function SwarmDetail({ infoHash, onClose, onOpenServer }: { infoHash: string; onClose: () => void; onOpenServer?: (ip: string) => void }) {
  const release = useDashboard((s) => s.snapshot?.releases.find((r) => r.infoHash === infoHash) ?? null)
  const swarm = useDashboard((s) => s.snapshot?.swarms.find((w) => w.infoHash === infoHash) ?? null)
  const samples = useDashboard((s) => s.history[infoHash] ?? NO_SAMPLES)
  const peers = usePeerRows(infoHash)

  if (!release) {
    return (
      <section className="panel swarm-detail">
        <p className="muted">This release is no longer in the library.</p>
        <button type="button" onClick={onClose}>
          Back to releases
        </button>
      </section>
    )
  }
  return (
    <section className="panel swarm-detail" aria-labelledby="swarm-title">
      <header className="panel-header">
        <div>
          <h2 id="swarm-title">{release.name}</h2>
          <span className="muted mono">{release.infoHash}</span>
        </div>
        <div className="header-actions">
          <StateBadge state={release.state} />
          <button type="button" onClick={onClose}>
            Back to releases
          </button>
        </div>
      </header>
      <dl className="facts">
        <div>
          <dt>Peers</dt>
          <dd>{swarm?.peers ?? 0}</dd>
        </div>
        <div>
          <dt>Upload</dt>
          <dd>{formatRate(swarm?.uploadRate ?? 0)}</dd>
        </div>
        <div>
          <dt>Download</dt>
          <dd>{formatRate(swarm?.downloadRate ?? 0)}</dd>
        </div>
        <div>
          <dt>Uploaded</dt>
          <dd>{formatBytes(swarm?.uploaded ?? 0)}</dd>
        </div>
        <div>
          <dt>Distributed copies</dt>
          <dd data-testid="distributed-copies">{(swarm?.distributedCopies ?? 0).toFixed(2)}</dd>
        </div>
        <div>
          <dt>Size</dt>
          <dd>
            {formatBytes(release.totalSize)} in {release.pieceCount} pieces
          </dd>
        </div>
      </dl>
      <RolloutProgress infoHash={infoHash} onOpenServer={onOpenServer} />
      <RateChart samples={samples} />
      <h3>Piece availability</h3>
      <AvailabilityBar cells={swarm?.availability ?? []} pieceCount={release.pieceCount} />
      <details className="links">
        <summary>Links for this release</summary>
        <CopyField label=".torrent URL" value={release.torrentUrl} />
        <CopyField label="Magnet link" value={release.magnet} />
        {release.webSeedUrl ? <CopyField label="Web seed URL" value={release.webSeedUrl} /> : null}
      </details>
      <h3>Peers</h3>
      <PeersTable peers={peers ?? []} caption={`Peers of ${release.name}`} />
    </section>
  )
}
