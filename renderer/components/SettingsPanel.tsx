import { useEffect, useId, useState, type FormEvent, type ReactNode } from 'react'
import { FEED_KEY_MIN_LENGTH, type Settings } from '../../shared/contract.js'
import { useDashboard } from '../app-context.js'
import { HooksEditor } from './HooksEditor.js'
import { RetentionEditor } from './RetentionEditor.js'
import { ScheduleGrid } from './ScheduleGrid.js'

type FieldStatus = { kind: 'applied' | 'restart' | 'error'; message: string }

interface FieldSpec<K extends keyof Settings> {
  key: K
  label: string
  help: string
  /** Settings value -> text in the input. */
  show: (value: Settings[K]) => string
  /** Text in the input -> settings value, or an error message. */
  parse: (text: string) => Settings[K] | { invalid: string }
}

const wholeNumber =
  (what: string, min: number, max: number) =>
  (text: string): number | { invalid: string } => {
    const n = Number(text.trim())
    return Number.isInteger(n) && n >= min && n <= max ? n : { invalid: `${what} must be a whole number from ${min} to ${max}.` }
  }

const nullableText = (text: string): string | null => (text.trim() === '' ? null : text.trim())

const FIELDS = {
  address: {
    key: 'address',
    label: 'Address',
    help: 'Host name or IP written into the feed, .torrent and web seed URLs. Empty means this machine’s LAN IPv4. A host name survives DHCP changes.',
    show: (v) => v ?? '',
    parse: nullableText,
  } satisfies FieldSpec<'address'>,
  httpPort: {
    key: 'httpPort',
    label: 'HTTP port',
    help: 'Feed, .torrent files, web seed and HTTP tracker (TCP), and the UDP tracker on the same number.',
    show: String,
    parse: wholeNumber('The HTTP port', 1, 65535),
  } satisfies FieldSpec<'httpPort'>,
  peerPort: {
    key: 'peerPort',
    label: 'Peer port',
    help: 'BitTorrent connections from the servers (TCP and UDP).',
    show: String,
    parse: wholeNumber('The peer port', 1, 65535),
  } satisfies FieldSpec<'peerPort'>,
  feedKey: {
    key: 'feedKey',
    label: 'Feed key',
    help: `Optional secret added to every LAN URL (?key=…), at least ${FEED_KEY_MIN_LENGTH} characters: use Generate. Servers must be re-subscribed with the new feed URL when it changes.`,
    show: (v) => v ?? '',
    parse: (text) => {
      const key = nullableText(text)
      return key !== null && key.length < FEED_KEY_MIN_LENGTH ? { invalid: `A feed key needs at least ${FEED_KEY_MIN_LENGTH} characters to stay secret; use Generate for a random one.` } : key
    },
  } satisfies FieldSpec<'feedKey'>,
  announceIntervalSeconds: {
    key: 'announceIntervalSeconds',
    label: 'Announce interval (seconds)',
    help: 'How often servers report their progress to the tracker. 30–60 s suits a LAN.',
    show: String,
    parse: wholeNumber('The announce interval', 1, 86400),
  } satisfies FieldSpec<'announceIntervalSeconds'>,
  uploadLimit: {
    key: 'uploadLimit',
    label: 'Upload limit (KiB/s)',
    help: '0 means unlimited.',
    show: (v) => String(Math.round(v / 1024)),
    parse: (text) => {
      const n = wholeNumber('The upload limit', 0, 10_000_000)(text)
      return typeof n === 'number' ? n * 1024 : n
    },
  } satisfies FieldSpec<'uploadLimit'>,
  peerConnectionsPerAddress: {
    key: 'peerConnectionsPerAddress',
    label: 'Peer connections per address',
    help: 'A server needs one per release it fetches. Servers behind one NAT address share this limit: raise it for such a fleet.',
    show: String,
    parse: wholeNumber('The peer connections per address', 1, 65535),
  } satisfies FieldSpec<'peerConnectionsPerAddress'>,
}

export function SettingsPanel() {
  const settings = useDashboard((s) => s.snapshot?.settings ?? null)
  const endpoints = useDashboard((s) => s.snapshot?.endpoints ?? null)
  const run = useDashboard((s) => s.run)
  const [status, setStatus] = useState<Partial<Record<keyof Settings, FieldStatus>>>({})

  if (!settings) return <p className="muted">Waiting for the first snapshot from Swarmdrop…</p>

  const report = (key: keyof Settings, result: Awaited<ReturnType<typeof run<'settings.update'>>>): void => {
    const next: FieldStatus = !result.ok
      ? { kind: 'error', message: result.error.message }
      : result.value.restartRequired.includes(key)
        ? { kind: 'restart', message: 'Saved. This takes effect after Swarmdrop restarts.' }
        : { kind: 'applied', message: key === 'feedKey' ? 'Applied. Re-subscribe your servers with the new feed URL.' : 'Applied.' }
    setStatus((s) => ({ ...s, [key]: next }))
  }
  const apply = async (patch: Partial<Settings>): Promise<void> => report(Object.keys(patch)[0] as keyof Settings, await run('settings.update', patch))
  const generateKey = async (): Promise<void> => report('feedKey', await run('settings.generateFeedKey', {}))

  return (
    <section className="panel settings" aria-labelledby="settings-title">
      <header className="panel-header">
        <h2 id="settings-title">Settings</h2>
      </header>
      {endpoints ? (
        <p className="teach">
          In use now: <code>{endpoints.address}</code>. Firewall: allow TCP and UDP {endpoints.httpPort} (feed, tracker) and {settings.utp ? 'TCP and UDP' : 'TCP'}{' '}
          {endpoints.peerPort} (peers) from your servers.
        </p>
      ) : null}
      {Object.values(FIELDS).map((spec) => (
        <TextSetting key={spec.key} spec={spec as FieldSpec<keyof Settings>} value={settings[spec.key]} status={status[spec.key]} onApply={apply}>
          {spec.key === 'feedKey' ? (
            <button type="button" onClick={() => void generateKey()}>
              Generate
            </button>
          ) : null}
        </TextSetting>
      ))}
      <CheckSetting
        label="uTP"
        help="Also accept peers over uTP. Without it, clients that try uTP first fall back to TCP after a few seconds."
        checked={settings.utp}
        status={status.utp}
        onChange={(utp) => void apply({ utp })}
      />
      <ScheduleGrid />
      <RetentionEditor />
      <HooksEditor />
    </section>
  )
}

function TextSetting({
  spec,
  value,
  status,
  onApply,
  children,
}: {
  spec: FieldSpec<keyof Settings>
  value: Settings[keyof Settings]
  status: FieldStatus | undefined
  onApply: (patch: Partial<Settings>) => Promise<void>
  /** Extra controls beside the input (the feed key's Generate). */
  children?: ReactNode
}) {
  const id = useId()
  // While the user edits, their text wins over incoming snapshots; after that the core's value shows.
  const [draft, setDraft] = useState<string | null>(null)
  const [invalid, setInvalid] = useState<string | null>(null)
  // A fresh answer from the core for this field (e.g. a generated key) replaces what was typed.
  useEffect(() => {
    setDraft(null)
    setInvalid(null)
  }, [status])
  const text = draft ?? spec.show(value)
  const commit = async (): Promise<void> => {
    if (draft === null || draft === spec.show(value)) return setDraft(null)
    const parsed = spec.parse(draft)
    if (typeof parsed === 'object' && parsed !== null && 'invalid' in parsed) return setInvalid(parsed.invalid)
    setInvalid(null)
    await onApply({ [spec.key]: parsed } as Partial<Settings>)
    setDraft(null)
  }
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    void commit()
  }
  const shown = invalid ? { kind: 'error' as const, message: invalid } : status
  return (
    <form className="field setting" onSubmit={submit} data-setting={spec.key}>
      <label htmlFor={id}>{spec.label}</label>
      <input
        id={id}
        value={text}
        spellCheck={false}
        aria-describedby={`${id}-help ${id}-status`}
        onChange={(e) => setDraft(e.currentTarget.value)}
        onBlur={() => void commit()}
      />
      {children}
      <span id={`${id}-help`} className="field-help">
        {spec.help}
      </span>
      <span id={`${id}-status`} className={`field-status ${shown?.kind ?? ''}`} role="status">
        {shown?.message ?? ''}
      </span>
    </form>
  )
}

function CheckSetting({ label, help, checked, status, onChange }: { label: string; help: string; checked: boolean; status: FieldStatus | undefined; onChange: (value: boolean) => void }) {
  const id = useId()
  return (
    <div className="field setting check" data-setting="utp">
      <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange(e.currentTarget.checked)} />
      <label htmlFor={id}>{label}</label>
      <span className="field-help">{help}</span>
      <span className={`field-status ${status?.kind ?? ''}`} role="status">
        {status?.message ?? ''}
      </span>
    </div>
  )
}
