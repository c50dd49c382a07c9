import { useId, useState } from 'react'
import type { HookSettings } from '../../shared/contract.js'
import { useDashboard } from '../app-context.js'
import { SaveStatus, type SaveOutcome } from './SaveStatus.js'

/**
 * The pipeline hooks: a command and/or a webhook run when a rollout reaches every expected server
 * and when a server stalls. The core validates (and names the field it refuses); this form only
 * turns empty boxes into "none".
 */
export function HooksEditor() {
  const saved = useDashboard((s) => s.snapshot?.settings.hooks ?? null)
  const run = useDashboard((s) => s.run)
  const [command, setCommand] = useState(() => saved?.command ?? '')
  const [webhookUrl, setWebhookUrl] = useState(() => saved?.webhookUrl ?? '')
  const [timeout, setTimeoutText] = useState(() => String(saved?.timeoutSeconds ?? 10))
  const [status, setStatus] = useState<SaveOutcome | null>(null)
  const id = useId()

  const save = async (): Promise<void> => {
    const timeoutSeconds = Number(timeout.trim())
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) return setStatus({ ok: false, message: 'The timeout must be a whole number of seconds, 1 or more.' })
    const hooks: HookSettings = { command: command.trim() || null, webhookUrl: webhookUrl.trim() || null, timeoutSeconds }
    const result = await run('settings.update', { hooks })
    setStatus(
      result.ok
        ? { ok: true, message: hooks.command || hooks.webhookUrl ? 'Saved: hooks run on the next rollout complete or stall.' : 'Saved: no hooks run.' }
        : { ok: false, message: result.error.message },
    )
  }

  return (
    <section className="field hooks" aria-labelledby={`${id}-title`} data-setting="hooks">
      <h3 id={`${id}-title`}>Hooks</h3>
      <p className="field-help">
        When a rollout reaches every expected server, and when a server’s download stalls, Swarmdrop runs the command (the event as JSON on stdin; SWARMDROP_EVENT,
        SWARMDROP_RELEASE and SWARMDROP_INFOHASH in its environment) and POSTs the same JSON to the webhook. Once per event, cut after the timeout; a failure is
        logged and never stops seeding.
      </p>
      <label htmlFor={`${id}-command`}>Command</label>
      <input id={`${id}-command`} value={command} spellCheck={false} placeholder="/usr/local/bin/notify-deploy" onChange={(e) => setCommand(e.currentTarget.value)} />
      <label htmlFor={`${id}-webhook`}>Webhook URL</label>
      <input id={`${id}-webhook`} value={webhookUrl} spellCheck={false} placeholder="https://chat.example/hooks/…" onChange={(e) => setWebhookUrl(e.currentTarget.value)} />
      <label htmlFor={`${id}-timeout`}>Timeout (seconds)</label>
      <input id={`${id}-timeout`} value={timeout} inputMode="numeric" onChange={(e) => setTimeoutText(e.currentTarget.value)} />
      <div className="actions">
        <button type="button" onClick={() => void save()}>
          Save hooks
        </button>
      </div>
      <SaveStatus outcome={status} />
    </section>
  )
}
