import { useId, useMemo, useState, type FormEvent } from 'react'
import type { FleetRow } from '../../shared/contract.js'
import { useDashboard } from '../app-context.js'
import { parseRoster, plural } from '../fleet.js'

type Outcome = { expected: number; unresolved: string[] } | null

/**
 * The roster of expected servers: what a rollout is measured against ("18 of 20"), and who is
 * missing a release. Pasted as a list; saving replaces the whole roster.
 */
export function RosterEditor({ rows }: { rows: ReadonlyMap<string, FleetRow> }) {
  const id = useId()
  const run = useDashboard((s) => s.run)
  // The core keeps the roster as resolved IPs, so that is what an edit starts from.
  const current = useMemo(() => [...rows.values()].filter((r) => r.expected).map((r) => r.ip), [rows])
  const [draft, setDraft] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [outcome, setOutcome] = useState<Outcome>(null)
  // Open at first for an empty roster (nothing to measure a rollout against yet); after that the user decides.
  const [openAtFirst] = useState(current.length === 0)
  const text = draft ?? current.join('\n')
  const entries = useMemo(() => parseRoster(text), [text])

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    const result = await run('fleet.roster.set', { servers: entries })
    setBusy(false)
    // The user's text stays: it is what they meant, and rows catch up with the next fleet change.
    if (result.ok) setOutcome(result.value)
  }

  return (
    <details className="roster" open={openAtFirst || undefined}>
      <summary>
        Roster of expected servers <span className="count">{current.length.toLocaleString('en')}</span>
      </summary>
      <form className="field roster-form" onSubmit={(e) => void submit(e)}>
        <label htmlFor={id}>Expected servers</label>
        <textarea
          id={id}
          rows={6}
          value={text}
          spellCheck={false}
          placeholder={'10.0.0.21\nweb-03.lan, web-04.lan'}
          aria-describedby={`${id}-help`}
          onChange={(e) => {
            setDraft(e.currentTarget.value)
            setOutcome(null)
          }}
        />
        <span id={`${id}-help`} className="field-help">
          IPs or host names, one per line or separated by commas. Saving replaces the roster; host names are looked up when you save. Each release
          then shows how many of these servers have it, and which do not.
        </span>
        <div className="actions roster-actions">
          <span className="muted">
            {entries.length.toLocaleString('en')} {entries.length === 1 ? 'entry' : 'entries'}
          </span>
          <button type="submit" className="primary" disabled={busy}>
            {entries.length === 0 ? 'Clear roster' : 'Save roster'}
          </button>
        </div>
        <div role="status" className="roster-outcome">
          {outcome ? <p className="success">{plural(outcome.expected, 'server')} on the roster.</p> : null}
        </div>
        {outcome && outcome.unresolved.length > 0 ? (
          <div className="warnings unresolved" role="alert">
            <strong>
              {outcome.unresolved.length === 1
                ? 'This name did not resolve, so it is not on the roster:'
                : `These ${outcome.unresolved.length} names did not resolve, so they are not on the roster:`}
            </strong>
            <ul>
              {outcome.unresolved.map((name) => (
                <li key={name}>
                  <code>{name}</code>
                </li>
              ))}
            </ul>
            <span className="field-help">Check the spelling, or use the server's IP.</span>
          </div>
        ) : null}
      </form>
    </details>
  )
}
