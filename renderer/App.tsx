import { useState } from 'react'
import { formatRate } from '../shared/format.js'
import { useDashboard, usePeerRows } from './app-context.js'
import { useTheme } from './theme.js'
import { ConfirmButton } from './components/ConfirmButton.js'
import { ErrorBoundary } from './components/ErrorBoundary.js'
import { PeersTable } from './components/PeersTable.js'
import { PublishWizard } from './components/PublishWizard.js'
import { ReleasesList } from './components/ReleasesList.js'
import { ServersView } from './components/ServersView.js'
import { SubscribePage } from './components/SubscribePage.js'
import { SettingsPanel } from './components/SettingsPanel.js'
import { SwarmDetail } from './components/SwarmDetail.js'
import { WatchFoldersPanel } from './components/WatchFoldersPanel.js'

export type View = 'publish' | 'releases' | 'servers' | 'subscribe' | 'peers' | 'settings'

export function App({ initialView = 'publish' }: { initialView?: View }) {
  const [view, setView] = useState<View>(initialView)
  const { theme, next } = useTheme()
  const selectServer = useDashboard((s) => s.selectServer)
  const openServer = (ip: string): void => {
    selectServer(ip)
    setView('servers')
  }
  return (
    <div className="app">
      <header className="topbar">
        <h1 className="brand">Swarmdrop</h1>
        <Totals />
        <div className="topbar-actions">
          <FleetActions />
          <button type="button" onClick={next} aria-label={`Theme: ${theme}. Switch theme`} title="Switch between system, light and dark">
            {theme === 'dark' ? '☾ Dark' : theme === 'light' ? '☀ Light' : '◐ System'}
          </button>
        </div>
      </header>
      <ConnectionBanner />
      <DamagedReleasesBanner />
      <NoticeBar />
      <nav className="tabs" aria-label="Sections">
        {(['publish', 'releases', 'servers', 'subscribe', 'peers', 'settings'] as const).map((v) => (
          <button key={v} type="button" className="tab" aria-current={view === v ? 'page' : undefined} onClick={() => setView(v)}>
            <TabLabel view={v} />
          </button>
        ))}
      </nav>
      <main className="content">
        <ErrorBoundary>
          {view === 'publish' ? <PublishWizard /> : null}
          {view === 'releases' ? <ReleasesView onOpenServer={openServer} /> : null}
          {view === 'servers' ? <ServersView /> : null}
          {view === 'subscribe' ? <SubscribePage /> : null}
          {view === 'peers' ? <AllPeersView /> : null}
          {view === 'settings' ? <SettingsPanel /> : null}
          {view === 'settings' ? <WatchFoldersPanel /> : null}
        </ErrorBoundary>
      </main>
    </div>
  )
}

function TabLabel({ view }: { view: View }) {
  const releases = useDashboard((s) => s.snapshot?.releases.filter((r) => r.state !== 'retired').length ?? 0)
  const peers = useDashboard((s) => s.snapshot?.peers.length ?? 0)
  // The fleet is fetched when first looked at; until then the tab has no count rather than a wrong one.
  const servers = useDashboard((s) => (s.fleet.status === 'ready' ? s.fleet.rows.size : null))
  switch (view) {
    case 'publish':
      return <>Publish</>
    case 'releases':
      return (
        <>
          Releases <span className="count">{releases}</span>
        </>
      )
    case 'servers':
      return (
        <>
          Servers {servers !== null ? <span className="count">{servers}</span> : null}
        </>
      )
    case 'subscribe':
      return <>Subscribe</>
    case 'peers':
      return (
        <>
          Peers <span className="count">{peers}</span>
        </>
      )
    case 'settings':
      return <>Settings</>
  }
}

function Totals() {
  const seeding = useDashboard((s) => s.snapshot?.releases.filter((r) => r.state === 'seeding').length ?? 0)
  const up = useDashboard((s) => s.snapshot?.swarms.reduce((sum, w) => sum + w.uploadRate, 0) ?? 0)
  const peers = useDashboard((s) => s.snapshot?.peers.length ?? 0)
  return (
    <p className="totals" aria-live="off">
      <span>{seeding} seeding</span>
      <span>{peers} peers</span>
      <span>↑ {formatRate(up)}</span>
    </p>
  )
}

function FleetActions() {
  const run = useDashboard((s) => s.run)
  const notify = useDashboard((s) => s.notify)
  const hasReleases = useDashboard((s) => (s.snapshot?.releases.length ?? 0) > 0)
  if (!hasReleases) return null
  return (
    <>
      <ConfirmButton
        label="Pause all"
        question="Pause seeding every release?"
        confirmLabel="Pause all"
        onConfirm={async () => {
          const r = await run('releases.pauseAll', {})
          if (r.ok) notify({ kind: 'info', message: `Paused ${r.value.count} releases.` })
        }}
      />
      <button
        type="button"
        onClick={async () => {
          const r = await run('releases.resumeAll', {})
          if (r.ok) notify({ kind: 'info', message: `Resumed ${r.value.count} releases.` })
        }}
      >
        Resume all
      </button>
    </>
  )
}

function ConnectionBanner() {
  const connection = useDashboard((s) => s.connection)
  const error = useDashboard((s) => s.connectionError)
  if (connection === 'connected') return null
  return (
    <div className={`banner ${connection === 'disconnected' ? 'banner-error' : ''}`} role={connection === 'disconnected' ? 'alert' : 'status'}>
      {connection === 'connecting' ? 'Connecting to Swarmdrop…' : (error ?? 'Not connected to Swarmdrop.')}
    </div>
  )
}

/** Records that could not be loaded: said by name until they are dealt with, never silently dropped. */
function DamagedReleasesBanner() {
  const damaged = useDashboard((s) => s.snapshot?.damagedReleases)
  if (!damaged || damaged.length === 0) return null
  return (
    <div className="banner banner-error" role="alert">
      <div>
        <strong>
          {damaged.length === 1 ? 'A release record is damaged' : `${damaged.length} release records are damaged`} and was not loaded; every other release runs.
        </strong>
        <ul className="damaged-list">
          {damaged.map((d) => (
            <li key={d.name}>
              <code>{d.name}</code>: {d.reason}. {d.keptAt ? <>Kept at <code>{d.keptAt}</code>.</> : null}
            </li>
          ))}
        </ul>
      </div>
    </div>
  )
}

function NoticeBar() {
  const notice = useDashboard((s) => s.notice)
  const notify = useDashboard((s) => s.notify)
  if (!notice) return null
  return (
    <div className={`banner ${notice.kind === 'error' ? 'banner-error' : 'banner-info'}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
      <span>{notice.message}</span>
      <button type="button" className="link" onClick={() => notify(null)} aria-label="Dismiss">
        Dismiss
      </button>
    </div>
  )
}

function ReleasesView({ onOpenServer }: { onOpenServer: (ip: string) => void }) {
  const selected = useDashboard((s) => s.selectedInfoHash)
  const select = useDashboard((s) => s.select)
  if (selected) return <SwarmDetail infoHash={selected} onClose={() => select(null)} onOpenServer={onOpenServer} />
  return (
    <section className="panel" aria-labelledby="releases-title">
      <header className="panel-header">
        <h2 id="releases-title">Releases</h2>
      </header>
      <ReleasesList onOpen={select} />
    </section>
  )
}

function AllPeersView() {
  const peers = usePeerRows(null)
  return (
    <section className="panel" aria-labelledby="peers-title">
      <header className="panel-header">
        <h2 id="peers-title">Peers</h2>
        <span className="muted">All releases</span>
      </header>
      {peers ? <PeersTable peers={peers} caption="Peers of all releases" /> : <p className="muted">Waiting for the first snapshot from Swarmdrop…</p>}
    </section>
  )
}
