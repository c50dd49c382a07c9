import { useId, useState } from 'react'
import { DEFAULT_CHANNEL, type RetentionRule } from '../../shared/contract.js'
import { useDashboard } from '../app-context.js'
import { SaveStatus, type SaveOutcome } from './SaveStatus.js'

interface Row {
  channel: string
  keepLast: string
  olderThanDays: string
}

const toRow = (r: RetentionRule): Row => ({ channel: r.channel, keepLast: r.keepLast === null ? '' : String(r.keepLast), olderThanDays: r.olderThanDays === null ? '' : String(r.olderThanDays) })

/** A box's text as a rule limit: empty is "no limit", anything else a whole number from 1. */
function limit(text: string, what: string, channel: string): number | null | { invalid: string } {
  if (text.trim() === '') return null
  const n = Number(text.trim())
  return Number.isInteger(n) && n >= 1 ? n : { invalid: `${what} for "${channel}" must be a whole number from 1 up, or empty.` }
}

/**
 * Retention per channel: keep the last N releases and/or retire those older than D days. Retiring
 * takes a release out of the feed and stops seeding it; its files are never deleted.
 */
export function RetentionEditor() {
  const saved = useDashboard((s) => s.snapshot?.settings.retention ?? null)
  const releases = useDashboard((s) => s.snapshot?.releases ?? null)
  const watchFolders = useDashboard((s) => s.snapshot?.settings.watchFolders ?? null)
  const run = useDashboard((s) => s.run)
  const [rows, setRows] = useState<Row[]>(() => (saved ?? []).map(toRow))
  const [status, setStatus] = useState<SaveOutcome | null>(null)
  const id = useId()
  const known = [...new Set([DEFAULT_CHANNEL, ...(releases ?? []).map((r) => r.channel), ...(watchFolders ?? []).map((w) => w.channel)])].sort()
  const unused = known.filter((c) => !rows.some((r) => r.channel === c))

  const edit = (i: number, patch: Partial<Row>): void => setRows((all) => all.map((r, j) => (j === i ? { ...r, ...patch } : r)))
  const save = async (): Promise<void> => {
    const rules: RetentionRule[] = []
    for (const row of rows) {
      const keepLast = limit(row.keepLast, 'Keep last', row.channel)
      const olderThanDays = limit(row.olderThanDays, 'Older than (days)', row.channel)
      for (const v of [keepLast, olderThanDays]) if (v !== null && typeof v === 'object') return setStatus({ ok: false, message: v.invalid })
      if (keepLast === null && olderThanDays === null) return setStatus({ ok: false, message: `The rule for "${row.channel}" keeps everything: fill in Keep last, Older than, or both.` })
      rules.push({ channel: row.channel, keepLast: keepLast as number | null, olderThanDays: olderThanDays as number | null })
    }
    const result = await run('settings.update', { retention: rules })
    setStatus(result.ok ? { ok: true, message: rules.length ? 'Saved: applied now and every hour.' : 'Saved: every release is kept.' } : { ok: false, message: result.error.message })
  }

  return (
    <section className="field retention" aria-labelledby={`${id}-title`} data-setting="retention">
      <h3 id={`${id}-title`}>Retention</h3>
      <p className="field-help">
        Per channel, keep the last N releases and/or retire releases older than D days. A retired release leaves the feed and stops seeding; its files are never
        deleted.
      </p>
      {rows.length > 0 ? (
        <table className="retention-rules">
          <thead>
            <tr>
              <th scope="col">Channel</th>
              <th scope="col">Keep last</th>
              <th scope="col">Older than (days)</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {rows.map((row, i) => (
              <tr key={row.channel}>
                <th scope="row">{row.channel}</th>
                <td>
                  <input aria-label={`Keep last (${row.channel})`} value={row.keepLast} inputMode="numeric" onChange={(e) => edit(i, { keepLast: e.currentTarget.value })} />
                </td>
                <td>
                  <input
                    aria-label={`Older than, days (${row.channel})`}
                    value={row.olderThanDays}
                    inputMode="numeric"
                    onChange={(e) => edit(i, { olderThanDays: e.currentTarget.value })}
                  />
                </td>
                <td>
                  <button type="button" onClick={() => setRows((all) => all.filter((_, j) => j !== i))}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No rules: every release is kept until you retire it.</p>
      )}
      <div className="actions">
        {unused.length > 0 ? (
          <select aria-label="Channel for a new rule" value="" onChange={(e) => e.currentTarget.value && setRows((all) => [...all, { channel: e.currentTarget.value, keepLast: '5', olderThanDays: '' }])}>
            <option value="">Add a rule for…</option>
            {unused.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        ) : null}
        <button type="button" onClick={() => void save()}>
          Save retention
        </button>
      </div>
      <SaveStatus outcome={status} />
    </section>
  )
}
