import { useId, useMemo, useState } from 'react'
import type { ReleaseSummary } from '../../shared/contract.js'
import { useDashboard, useFleet } from '../app-context.js'
import { firewallHintText, plural } from '../fleet.js'
import { FleetMatrix } from './FleetMatrix.js'
import { RosterEditor } from './RosterEditor.js'
import { ServerDetail } from './ServerDetail.js'

const NO_RELEASES: ReleaseSummary[] = []

/** The Servers tab: the fleet matrix and the roster, or one server's page. */
export function ServersView() {
  const selected = useDashboard((s) => s.selectedServerIp)
  const selectServer = useDashboard((s) => s.selectServer)
  if (selected) return <ServerDetail ip={selected} onClose={() => selectServer(null)} />
  return <FleetPanel />
}

function FleetPanel() {
  const fleet = useFleet()
  const loadFleet = useDashboard((s) => s.loadFleet)
  const selectServer = useDashboard((s) => s.selectServer)
  const releases = useDashboard((s) => s.snapshot?.releases ?? NO_RELEASES)
  const endpoints = useDashboard((s) => s.snapshot?.endpoints ?? null)
  const now = useDashboard((s) => s.snapshot?.at ?? null)
  const expected = useDashboard((s) => (s.fleet.status === 'ready' ? countExpected(s.fleet.rows) : 0))
  const channels = endpoints?.channels ?? []
  const [channel, setChannel] = useState<string>('')
  const channelId = useId()
  // A channel picks the columns: the releases its servers subscribe to.
  const shown = useMemo(() => (channel === '' ? releases : releases.filter((r) => r.channel === channel)), [releases, channel])

  return (
    <section className="panel servers" aria-labelledby="servers-title">
      <header className="panel-header">
        <h2 id="servers-title">Servers</h2>
        {fleet.status === 'ready' ? (
          <span className="muted">
            {plural(fleet.rows.size, 'server')} seen or expected{expected > 0 ? `, ${plural(expected, 'server')} on the roster` : ''}
          </span>
        ) : null}
      </header>
      {fleet.status === 'idle' || fleet.status === 'loading' ? <p className="muted">Loading the fleet from Swarmdrop…</p> : null}
      {fleet.status === 'error' ? (
        <div className="error-message" role="alert">
          <strong className="error-title">Cannot load the fleet</strong>
          <p>{fleet.error}</p>
          <button type="button" onClick={() => void loadFleet()}>
            Try again
          </button>
        </div>
      ) : null}
      {fleet.status === 'ready' ? (
        <>
          {fleet.error ? (
            <p className="row-error" role="status">
              Showing the fleet as it was: fetching it again failed ({fleet.error}).
            </p>
          ) : null}
          {channels.length > 1 ? (
            <div className="field inline">
              <label htmlFor={channelId}>Channel</label>
              <select id={channelId} value={channel} onChange={(e) => setChannel(e.currentTarget.value)}>
                <option value="">All channels</option>
                {channels.map((c) => (
                  <option key={c.name} value={c.name}>
                    {c.name}
                  </option>
                ))}
              </select>
            </div>
          ) : null}
          <FleetMatrix rows={fleet.rows} releases={shown} now={now ?? Date.now()} firewallHint={firewallHintText(endpoints)} onOpen={selectServer} />
          <RosterEditor rows={fleet.rows} />
        </>
      ) : null}
    </section>
  )
}

function countExpected(rows: ReadonlyMap<string, { expected: boolean }>): number {
  let n = 0
  for (const row of rows.values()) if (row.expected) n++
  return n
}
