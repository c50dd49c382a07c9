import { useId, useState, type FormEvent } from 'react'
import type { PublishPreview } from '../../shared/contract.js'
import { formatBytes, formatDuration, formatRate } from '../../shared/format.js'
import { useApp, useDashboard, usePublish } from '../app-context.js'
import type { PublishOptions } from '../publish-flow.js'
import { CopyField } from './CopyField.js'
import { DropZone } from './DropZone.js'
import { ErrorMessage } from './ErrorMessage.js'
import { FileTree } from './FileTree.js'
import { ProgressBar } from './ProgressBar.js'

const STEPS = ['Add files', 'Review', 'Options', 'Hash & seed'] as const

export function PublishWizard() {
  const flow = usePublish((s) => s.flow)
  const notice = usePublish((s) => s.notice)
  const current = { empty: 0, staging: 0, review: 1, options: 2, hashing: 3, done: 3, error: -1 }[flow.step]
  return (
    <section className="panel wizard" aria-labelledby="wizard-title" data-step={flow.step}>
      <header className="panel-header">
        <h2 id="wizard-title">Publish an update</h2>
        <ol className="steps" aria-label="Publish steps">
          {STEPS.map((label, i) => (
            <li key={label} className={i === current ? 'current' : i < current ? 'past' : ''} aria-current={i === current ? 'step' : undefined}>
              {label}
            </li>
          ))}
        </ol>
      </header>
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <WizardStep />
    </section>
  )
}

function WizardStep() {
  const flow = usePublish((s) => s.flow)
  switch (flow.step) {
    case 'empty':
      return <EmptyStep />
    case 'staging':
      return <StagingStep loaded={flow.progress.loaded} total={flow.progress.total} />
    case 'review':
      return <ReviewStep preview={flow.preview} />
    case 'options':
      return <OptionsStep preview={flow.preview} options={flow.options} />
    case 'hashing':
      return <HashingStep name={flow.options.name || flow.preview.name} />
    case 'done':
      return <DoneStep />
    case 'error':
      return <ErrorStep />
  }
}

function EmptyStep() {
  const { backend } = useApp()
  const drop = usePublish((s) => s.drop)
  const previewPaths = usePublish((s) => s.previewPaths)
  const feedUrl = useDashboard((s) => s.snapshot?.endpoints.feedUrl ?? null)
  const [path, setPath] = useState('')
  const id = useId()
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    const trimmed = path.trim()
    if (trimmed !== '') void previewPaths([trimmed])
  }
  const hint =
    backend.kind === 'browser'
      ? 'A file or a folder, or press Enter to choose. Files are uploaded to the publisher, hashed into a private torrent and seeded.'
      : 'A file or a folder, or press Enter to choose. It is hashed into a private torrent and seeded from this machine.'
  return (
    <div className="step step-empty">
      <DropZone onItems={(items) => void drop(items)} hint={hint} />
      <form className="path-form" onSubmit={submit}>
        <label htmlFor={id}>Or publish a path on this machine</label>
        <div className="copy-row">
          <input id={id} value={path} placeholder="/srv/updates/app-2.4.1" onChange={(e) => setPath(e.currentTarget.value)} spellCheck={false} />
          <button type="submit" disabled={path.trim() === ''}>
            Review
          </button>
        </div>
      </form>
      {feedUrl ? (
        <p className="teach">
          Servers pick up new releases from the feed: subscribe each server's BitTorrent client (qBittorrent, Transmission, aria2…) to{' '}
          <code>{feedUrl}</code>.
        </p>
      ) : null}
    </div>
  )
}

function StagingStep({ loaded, total }: { loaded: number; total: number }) {
  const cancel = usePublish((s) => s.cancel)
  return (
    <div className="step step-staging">
      <p>
        Uploading to the publisher: {formatBytes(loaded)} of {formatBytes(total)}
      </p>
      <ProgressBar value={total > 0 ? loaded / total : 0} label="Upload progress" />
      <div className="actions">
        <button type="button" onClick={() => void cancel()}>
          Cancel
        </button>
      </div>
    </div>
  )
}

function ReviewStep({ preview }: { preview: PublishPreview }) {
  const back = usePublish((s) => s.back)
  const toOptions = usePublish((s) => s.toOptions)
  return (
    <div className="step step-review">
      <dl className="facts">
        <div>
          <dt>Name</dt>
          <dd>{preview.name}</dd>
        </div>
        <div>
          <dt>Files</dt>
          <dd data-testid="file-count">{preview.fileCount}</dd>
        </div>
        <div>
          <dt>Total size</dt>
          <dd data-testid="total-size">{formatBytes(preview.totalSize)}</dd>
        </div>
        <div>
          <dt>Piece size</dt>
          <dd>{formatBytes(preview.pieceLength)}</dd>
        </div>
      </dl>
      {preview.warnings.length > 0 ? (
        <ul className="warnings" aria-label="Warnings">
          {preview.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      ) : null}
      <FileTree files={preview.files} />
      <div className="actions">
        <button type="button" onClick={back}>
          Start over
        </button>
        <button type="button" className="primary" onClick={toOptions}>
          Next: options
        </button>
      </div>
    </div>
  )
}

function OptionsStep({ preview, options }: { preview: PublishPreview; options: PublishOptions }) {
  const setOptions = usePublish((s) => s.setOptions)
  const back = usePublish((s) => s.back)
  const start = usePublish((s) => s.start)
  const id = useId()
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    void start()
  }
  return (
    <form className="step step-options" onSubmit={submit}>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input id={`${id}-name`} value={options.name} placeholder={preview.name} onChange={(e) => setOptions({ name: e.currentTarget.value })} />
        <span className="field-help">What the servers see in the feed and in their client. Rules that filter the feed match on it.</span>
      </div>
      <div className="field">
        <label htmlFor={`${id}-channel`}>Channel</label>
        <input id={`${id}-channel`} value={options.channel} placeholder="default" onChange={(e) => setOptions({ channel: e.currentTarget.value })} />
      </div>
      <div className="field check">
        <input id={`${id}-private`} type="checkbox" checked={options.private} onChange={(e) => setOptions({ private: e.currentTarget.checked })} />
        <label htmlFor={`${id}-private`}>Private torrent</label>
        <span className="field-help">Peers come only from this publisher's tracker: no DHT, no peer exchange.</span>
      </div>
      <div className="field check">
        <input id={`${id}-webseed`} type="checkbox" checked={options.webSeed} onChange={(e) => setOptions({ webSeed: e.currentTarget.checked })} />
        <label htmlFor={`${id}-webseed`}>Web seed</label>
        <span className="field-help">Also serve the files over HTTP to servers BitTorrent does not feed (a blocked peer port, Transmission's first seconds). Servers that fetch over BitTorrent are refused.</span>
      </div>
      <div className="field">
        <label htmlFor={`${id}-comment`}>Comment</label>
        <textarea id={`${id}-comment`} rows={2} value={options.comment} onChange={(e) => setOptions({ comment: e.currentTarget.value })} />
      </div>
      <p className="summary">
        {preview.fileCount} files, {formatBytes(preview.totalSize)}
      </p>
      <div className="actions">
        <button type="button" onClick={back}>
          Back
        </button>
        <button type="submit" className="primary">
          Publish
        </button>
      </div>
    </form>
  )
}

function HashingStep({ name }: { name: string }) {
  const flow = usePublish((s) => s.flow)
  const cancel = usePublish((s) => s.cancel)
  if (flow.step !== 'hashing') return null
  const p = flow.progress
  const total = p?.totalBytes ?? flow.preview.totalSize
  const done = p?.hashedBytes ?? 0
  return (
    <div className="step step-hashing">
      <p>
        Hashing <strong>{name}</strong>
      </p>
      <ProgressBar value={total > 0 ? done / total : 0} label="Hashing progress" />
      <p className="progress-facts" data-testid="hash-facts">
        <span>
          {formatBytes(done)} of {formatBytes(total)}
        </span>
        <span>{p ? formatRate(p.rate) : 'starting…'}</span>
        <span>ETA {p ? formatDuration(p.etaSeconds) : '--:--'}</span>
      </p>
      <div className="actions">
        <button type="button" onClick={() => void cancel()} disabled={flow.jobId === null}>
          Cancel
        </button>
      </div>
    </div>
  )
}

function DoneStep() {
  const flow = usePublish((s) => s.flow)
  const reset = usePublish((s) => s.reset)
  const feedUrl = useDashboard((s) => s.snapshot?.endpoints.feedUrl ?? null)
  if (flow.step !== 'done') return null
  const { release } = flow
  return (
    <div className="step step-done">
      <p className="success" role="status">
        Published <strong>{release.name}</strong> ({formatBytes(release.totalSize)}, {release.fileCount} files). It is seeding now; servers
        subscribed to the feed pick it up on their next poll.
      </p>
      {feedUrl ? <CopyField label="Feed URL" value={feedUrl} /> : null}
      <CopyField label=".torrent URL" value={release.torrentUrl} />
      <CopyField label="Magnet link" value={release.magnet} />
      <div className="actions">
        <button type="button" className="primary" onClick={reset}>
          Publish another
        </button>
      </div>
    </div>
  )
}

function ErrorStep() {
  const flow = usePublish((s) => s.flow)
  const back = usePublish((s) => s.back)
  const reset = usePublish((s) => s.reset)
  if (flow.step !== 'error') return null
  return (
    <div className="step step-error">
      <ErrorMessage error={flow.error} title="Publishing failed" />
      <div className="actions">
        <button type="button" onClick={reset}>
          Start over
        </button>
        {flow.selection ? (
          <button type="button" className="primary" onClick={back}>
            Back to options
          </button>
        ) : null}
      </div>
    </div>
  )
}
