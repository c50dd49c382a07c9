import { useId, useState } from 'react'
import type { UploadSchedule } from '../../shared/contract.js'
import { formatRate } from '../../shared/format.js'
import { useDashboard } from '../app-context.js'

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']
const HOURS = 7 * 24

/**
 * The weekly upload schedule as a 7 × 24 grid (Resilio's, qBittorrent's alternative limits): the
 * marked hours use the alternative limit. Dragging across cells marks or clears a run of hours.
 */
export function ScheduleGrid() {
  const saved = useDashboard((s) => s.snapshot?.settings.uploadSchedule ?? null)
  const now = useDashboard((s) => s.snapshot?.uploadLimitNow ?? null)
  const run = useDashboard((s) => s.run)
  const [hours, setHours] = useState<boolean[]>(() => saved?.hours ?? Array.from({ length: HOURS }, () => false))
  const [altKiB, setAltKiB] = useState<string>(() => String(Math.round((saved?.altLimit ?? 20 * 1024 * 1024) / 1024)))
  const [painting, setPainting] = useState<boolean | null>(null)
  const [status, setStatus] = useState('')
  const limitId = useId()

  const paint = (h: number, value: boolean): void => setHours((all) => all.map((v, i) => (i === h ? value : v)))
  const save = async (schedule: UploadSchedule | null): Promise<void> => {
    const result = await run('settings.update', { uploadSchedule: schedule })
    setStatus(result.ok ? (schedule ? 'Saved: the schedule applies from now on.' : 'Schedule off: the normal limit applies at all times.') : result.error.message)
  }
  const submit = (): void => {
    const kib = Number(altKiB)
    if (!Number.isInteger(kib) || kib < 0) return setStatus('The alternative limit must be a whole number of KiB/s (0 = unlimited).')
    void save({ altLimit: kib * 1024, hours })
  }

  return (
    <section className="field schedule" aria-labelledby={`${limitId}-title`} onMouseUp={() => setPainting(null)} onMouseLeave={() => setPainting(null)}>
      <h3 id={`${limitId}-title`}>Upload schedule</h3>
      <p className="field-help">
        In the marked hours the alternative limit replaces the upload limit, for BitTorrent and the web seed alike. In force now:{' '}
        {now ? (now.limit > 0 ? `${formatRate(now.limit)}${now.source === 'schedule' ? ' (by the schedule)' : ''}` : 'unlimited') : '…'}.
      </p>
      <table className="schedule-grid" role="grid" aria-label="Hours of the week with the alternative limit">
        <thead>
          <tr>
            <th scope="col" />
            {Array.from({ length: 24 }, (_, h) => (
              <th key={h} scope="col">
                {h % 3 === 0 ? h : ''}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {DAYS.map((day, d) => (
            <tr key={day}>
              <th scope="row">{day}</th>
              {Array.from({ length: 24 }, (_, h) => {
                const i = d * 24 + h
                return (
                  <td key={h}>
                    <button
                      type="button"
                      className="schedule-cell"
                      aria-pressed={hours[i] === true}
                      aria-label={`${day} ${String(h).padStart(2, '0')}:00`}
                      onMouseDown={() => {
                        const value = !hours[i]
                        setPainting(value)
                        paint(i, value)
                      }}
                      onMouseEnter={() => {
                        if (painting !== null) paint(i, painting)
                      }}
                      onKeyDown={(e) => {
                        if (e.key === ' ' || e.key === 'Enter') {
                          e.preventDefault()
                          paint(i, !hours[i])
                        }
                      }}
                    />
                  </td>
                )
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <label htmlFor={limitId}>Alternative limit (KiB/s)</label>
      <input id={limitId} value={altKiB} inputMode="numeric" onChange={(e) => setAltKiB(e.currentTarget.value)} />
      <div className="actions">
        <button type="button" onClick={submit}>
          Save schedule
        </button>
        <button type="button" onClick={() => void save(null)}>
          Turn off
        </button>
      </div>
      <span className="field-status" role="status">
        {status}
      </span>
    </section>
  )
}
