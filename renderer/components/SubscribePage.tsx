import { useId, useState } from 'react'
import { DEFAULT_CHANNEL } from '../../shared/contract.js'
import { subscribeSetups, type SetupClient } from '../../shared/subscribe-setups.js'
import { useDashboard } from '../app-context.js'
import { copyText } from '../clipboard.js'

/**
 * "Subscribe your servers": for the feed URL in use now (its key included), a ready setup per
 * client, each block with a copy button. The same text as `swarmdrop subscribe`; the
 * qBittorrent and aria2 ones are run against the real clients in the tests.
 */
export function SubscribePage() {
  const endpoints = useDashboard((s) => s.snapshot?.endpoints ?? null)
  const [channel, setChannel] = useState(DEFAULT_CHANNEL)
  const channelId = useId()
  const feedUrl = endpoints?.channels.find((c) => c.name === channel)?.feedUrl ?? endpoints?.feedUrl ?? null
  const [client, setClient] = useState<SetupClient>('qbittorrent')
  const [saveDir, setSaveDir] = useState('/srv/updates')
  const dirId = useId()
  if (!feedUrl) return <p className="muted">Waiting for the first snapshot from Swarmdrop…</p>
  const setups = subscribeSetups({ feedUrl, saveDir: saveDir.trim() || '/srv/updates' })
  const setup = setups.find((s) => s.client === client) ?? setups[0]
  return (
    <section className="panel subscribe" aria-labelledby="subscribe-title">
      <header className="panel-header">
        <h2 id="subscribe-title">Subscribe your servers</h2>
      </header>
      <p className="teach">
        Each server's own BitTorrent client follows the feed <code>{feedUrl}</code> and fetches every new release by itself. Pick the client a server runs:
      </p>
      <div className="segmented" role="tablist" aria-label="Client">
        {setups.map((s) => (
          <button key={s.client} type="button" role="tab" aria-selected={s.client === setup?.client} onClick={() => setClient(s.client)}>
            {s.title.replace(/ \(.*\)$/, '')}
          </button>
        ))}
      </div>
      {endpoints && endpoints.channels.length > 1 ? (
        <div className="field">
          <label htmlFor={channelId}>Channel</label>
          <select id={channelId} value={channel} onChange={(e) => setChannel(e.currentTarget.value)}>
            {endpoints.channels.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
          <span className="field-help">A server subscribed to one channel gets only that channel's releases.</span>
        </div>
      ) : null}
      <div className="field">
        <label htmlFor={dirId}>Where the servers keep releases</label>
        <input id={dirId} value={saveDir} spellCheck={false} onChange={(e) => setSaveDir(e.currentTarget.value)} />
      </div>
      {setup ? (
        <article aria-label={setup.title}>
          <h3>{setup.title}</h3>
          <p>{setup.intro}</p>
          {setup.blocks.map((b) => (
            <SetupBlock key={b.label} label={b.label} text={b.text} />
          ))}
        </article>
      ) : null}
    </section>
  )
}

function SetupBlock({ label, text }: { label: string; text: string }) {
  const [status, setStatus] = useState('')
  return (
    <figure className="setup-block">
      <figcaption>
        {label}{' '}
        <button type="button" onClick={() => void copyText(text).then((ok) => setStatus(ok ? 'Copied' : 'Select the text and press Ctrl+C'))}>
          Copy
        </button>{' '}
        <span role="status" className="muted">
          {status}
        </span>
      </figcaption>
      <pre>
        <code>{text}</code>
      </pre>
    </figure>
  )
}
