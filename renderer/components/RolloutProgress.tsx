import { useMemo } from 'react'
import type { FleetRow } from '../../shared/contract.js'
import { useDashboard, useFleet } from '../app-context.js'
import { formatElapsed } from '../../shared/format.js'
import { cellOf, cellText, plural, sortFleet, STATE_LABEL } from '../fleet.js'
import { ProgressBar } from './ProgressBar.js'

/** Missing servers listed by name; past this many, a count (the Servers tab filters the rest). */
const MISSING_SHOWN = 50

/**
 * How far a release has spread over the fleet: the share of expected servers that have it, and
 * which expected servers still do not. Without a roster, only how many servers have it.
 */
export function RolloutProgress({ infoHash, onOpenServer }: { infoHash: string; onOpenServer?: (ip: string) => void }) {
  const rollout = useDashboard((s) => s.snapshot?.rollouts.find((r) => r.infoHash === infoHash) ?? null)
  // The rows are needed only to name the missing servers, so a release with no roster fetches none.
  const withRoster = rollout !== null && rollout.expected > 0
  const fleet = useFleet(withRoster)
  const missing = useMemo(() => {
    if (fleet.status !== 'ready') return null
    const out = [...fleet.rows.values()].filter((r) => r.expected && cellOf(r, infoHash).state !== 'complete')
    return sortFleet(out, { key: 'name', descending: false }, infoHash)
  }, [fleet, infoHash])

  if (!rollout) return null
  const timing = [
    rollout.firstCompletionMs !== null ? `first after ${formatElapsed(rollout.firstCompletionMs)}` : null,
    rollout.medianCompletionMs !== null ? `median ${formatElapsed(rollout.medianCompletionMs)}` : null,
    rollout.lastCompletionMs !== null ? `last after ${formatElapsed(rollout.lastCompletionMs)}` : null,
  ].filter((t): t is string => t !== null)

  return (
    <div className="rollout" data-testid="rollout">
      <h3>Servers updated</h3>
      {withRoster ? (
        <>
          <ProgressBar value={rollout.expectedComplete / rollout.expected} label="Share of expected servers updated" />
          <p className="rollout-summary">
            <strong>{Math.floor((rollout.expectedComplete / rollout.expected) * 100)} %</strong>
            {` of servers updated: ${rollout.expectedComplete.toLocaleString('en')} of ${plural(rollout.expected, 'expected server')}${
              rollout.complete > rollout.expectedComplete ? `, plus ${plural(rollout.complete - rollout.expectedComplete, 'server')} not on the roster` : ''
            }.`}
          </p>
        </>
      ) : (
        <p className="rollout-summary">
          {plural(rollout.complete, 'server')} {rollout.complete === 1 ? 'has' : 'have'} it. No roster of expected servers yet: list them on the Servers tab to follow a
          rollout as a share, and see who is missing it.
        </p>
      )}
      <p className="muted rollout-facts">
        {timing.length > 0 ? `Completions after publishing: ${timing.join(', ')}. ` : ''}
        Uploaded {rollout.uploadedCopies.toFixed(2)} copies from this machine.
      </p>
      {withRoster && rollout.expectedComplete < rollout.expected ? <MissingServers missing={missing} infoHash={infoHash} onOpenServer={onOpenServer} /> : null}
    </div>
  )
}

function MissingServers({ missing, infoHash, onOpenServer }: { missing: FleetRow[] | null; infoHash: string; onOpenServer?: (ip: string) => void }) {
  if (missing === null) return <p className="muted">Loading the servers still missing it…</p>
  if (missing.length === 0) return null
  const shown = missing.slice(0, MISSING_SHOWN)
  return (
    <div className="missing">
      <h3>Still missing it ({missing.length.toLocaleString('en')})</h3>
      <ul className="missing-list" aria-label="Expected servers still missing this release">
        {shown.map((row) => {
          const cell = cellOf(row, infoHash)
          return (
            <li key={row.ip} data-ip={row.ip}>
              {onOpenServer ? (
                <button type="button" className="link" onClick={() => onOpenServer(row.ip)}>
                  {row.name}
                </button>
              ) : (
                <span>{row.name}</span>
              )}
              {row.name !== row.ip ? <span className="muted mono"> {row.ip}</span> : null}
              <span className="missing-state" data-state={cell.state}>
                {cell.state === 'not-seen' ? STATE_LABEL[cell.state] : cellText(cell)}
              </span>
            </li>
          )
        })}
      </ul>
      {missing.length > shown.length ? (
        <p className="muted">…and {plural(missing.length - shown.length, 'more server')}: the Servers tab lists them all (pick this release there, then "Not complete").</p>
      ) : null}
    </div>
  )
}
