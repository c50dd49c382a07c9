import type { ReleaseSummary, SwarmStats } from '../../shared/contract.js'
import { formatBytes, formatRate } from '../../shared/format.js'
import { useDashboard } from '../app-context.js'
import type { DashboardActions } from '../store.js'
import { ConfirmButton } from './ConfirmButton.js'

const STATE_LABEL: Record<ReleaseSummary['state'], string> = {
  hashing: 'Hashing',
  seeding: 'Seeding',
  paused: 'Paused',
  retired: 'Retired',
  error: 'Error',
}

export function StateBadge({ state }: { state: ReleaseSummary['state'] }) {
  return <span className={`badge state-${state}`}>{STATE_LABEL[state]}</span>
}

/** Every release with its swarm numbers; pause and retire ask first, resume does not. */
export function ReleasesList({ onOpen }: { onOpen: (infoHash: string) => void }) {
  const releases = useDashboard((s) => s.snapshot?.releases ?? null)
  const swarms = useDashboard((s) => s.snapshot?.swarms ?? null)
  const selected = useDashboard((s) => s.selectedInfoHash)
  const feedUrl = useDashboard((s) => s.snapshot?.endpoints.feedUrl ?? null)
  const run = useDashboard((s) => s.run)

  if (releases === null) return <p className="muted">Waiting for the first snapshot from Swarmdrop…</p>
  if (releases.length === 0) {
    return (
      <div className="empty-state">
        <h3>No releases yet</h3>
        <p>
          Drop an update here or on the Publish tab: it is hashed into a private torrent and seeded from this machine. Then subscribe
          your servers' BitTorrent clients to {feedUrl ? <code>{feedUrl}</code> : 'the feed URL'} and every new release reaches them on
          their next poll.
        </p>
      </div>
    )
  }
  const stats = new Map<string, SwarmStats>((swarms ?? []).map((s) => [s.infoHash, s]))
  return (
    <table className="releases">
      <caption className="sr-only">Releases</caption>
      <thead>
        <tr>
          <th scope="col">Release</th>
          <th scope="col">State</th>
          <th scope="col" className="numeric">
            Peers
          </th>
          <th scope="col" className="numeric">
            Down
          </th>
          <th scope="col" className="numeric">
            Up
          </th>
          <th scope="col" className="numeric">
            Uploaded
          </th>
          <th scope="col" className="numeric">
            Copies
          </th>
          <th scope="col">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {releases.map((r) => {
          const s = stats.get(r.infoHash)
          return (
            <tr key={r.infoHash} data-release={r.infoHash} className={`${r.infoHash === selected ? 'selected' : ''} row-${r.state}`} aria-selected={r.infoHash === selected}>
              <th scope="row">
                <button type="button" className="link release-name" onClick={() => onOpen(r.infoHash)}>
                  {r.name}
                </button>
                <span className="muted release-size">
                  {formatBytes(r.totalSize)} · {r.fileCount} files
                </span>
                {r.error ? <span className="row-error">{r.error.message}</span> : null}
              </th>
              <td>
                <StateBadge state={r.state} />
              </td>
              <td className="numeric">{s?.peers ?? 0}</td>
              <td className="numeric">{formatRate(s?.downloadRate ?? 0)}</td>
              <td className="numeric">{formatRate(s?.uploadRate ?? 0)}</td>
              <td className="numeric">{formatBytes(s?.uploaded ?? 0)}</td>
              <td className="numeric">{(s?.distributedCopies ?? 0).toFixed(2)}</td>
              <td className="row-actions">
                <ReleaseActions release={r} run={run} />
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}

function ReleaseActions({ release, run }: { release: ReleaseSummary; run: DashboardActions['run'] }) {
  const { infoHash, name, state } = release
  if (state === 'retired') return null
  return (
    <>
      {state === 'paused' ? (
        <button type="button" onClick={() => void run('release.resume', { infoHash })}>
          Resume
        </button>
      ) : state === 'seeding' || state === 'error' ? (
        <ConfirmButton
          label="Pause"
          question={`Pause seeding ${name}? Servers still downloading it will stall.`}
          confirmLabel="Pause"
          onConfirm={() => run('release.pause', { infoHash })}
        />
      ) : null}
      <ConfirmButton
        label="Retire"
        question={`Retire ${name}? It leaves the feed and stops seeding.`}
        confirmLabel="Retire"
        danger
        onConfirm={() => run('release.retire', { infoHash })}
      />
    </>
  )
}
