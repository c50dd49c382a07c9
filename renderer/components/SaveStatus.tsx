/** What became of the last save of a settings section: the core's answer, or nothing yet. */
export interface SaveOutcome {
  ok: boolean
  message: string
}

/** The status line under a settings section, announced to screen readers as it changes. */
export function SaveStatus({ outcome }: { outcome: SaveOutcome | null }) {
  return (
    <span className={`field-status ${outcome ? (outcome.ok ? 'applied' : 'error') : ''}`} role="status">
      {outcome?.message ?? ''}
    </span>
  )
}
