import { useEffect, useId, useState, type FormEvent } from 'react'
import { DEFAULT_CHANNEL, type WatchFolder, type WatchFolderState } from '../../shared/contract.js'
import { useDashboard } from '../app-context.js'

const LABEL: Record<WatchFolderState, string> = {
  watching: 'Watching',
  settling: 'Settling',
  publishing: 'Publishing',
  published: 'Published',
  error: 'Error',
}

/** The release badges' colours: idle grey, busy blue, done green, red. */
const BADGE: Record<WatchFolderState, string> = {
  watching: 'paused',
  settling: 'hashing',
  publishing: 'hashing',
  published: 'seeding',
  error: 'error',
}

type Status = { kind: 'applied' | 'error'; message: string }

/** Watch folders: what each is doing (from the snapshot), and adding or removing one (a settings change). */
export function WatchFoldersPanel() {
  const configured = useDashboard((s) => s.snapshot?.settings.watchFolders ?? null)
  const folders = useDashboard((s) => s.snapshot?.watchFolders ?? null)
  const run = useDashboard((s) => s.run)
  const [dir, setDir] = useState('')
  const [channel, setChannel] = useState('')
  const [status, setStatus] = useState<Status | null>(null)
  // The list a change answered with, until the next snapshot carries it: two quick edits in a
  // row must build on each other, not on a snapshot that is up to a second old.
  const [latest, setLatest] = useState<WatchFolder[] | null>(null)
  useEffect(() => setLatest(null), [configured])
  const dirId = useId()
  const channelId = useId()
  if (!configured || !folders) return null
  const current = latest ?? configured

  const save = async (next: WatchFolder[], done: string): Promise<boolean> => {
    const result = await run('settings.update', { watchFolders: next })
    setStatus(result.ok ? { kind: 'applied', message: done } : { kind: 'error', message: result.error.message })
    if (result.ok) setLatest(result.value.settings.watchFolders)
    return result.ok
  }
  const add = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    const folder = { dir: dir.trim(), channel: channel.trim() || DEFAULT_CHANNEL }
    // A browser cannot pick a folder by path: the path is typed, and the core checks it.
    if (folder.dir === '') return setStatus({ kind: 'error', message: 'Type the full path of a folder on the publishing machine.' })
    if (await save([...current, folder], `Watching ${folder.dir}.`)) {
      setDir('')
      setChannel('')
    }
  }
  const remove = (target: string): void =>
    void save(
      current.filter((f) => f.dir !== target),
      `Stopped watching ${target}. Its releases keep seeding.`,
    )

  return (
    <section className="panel watch-folders" aria-labelledby="watch-folders-title">
      <header className="panel-header">
        <h2 id="watch-folders-title">Watch folders</h2>
      </header>
      <p className="teach">
        Each file or folder put into a watch folder is published to its channel once it has stopped changing. One changed later is published again and its
        previous release retired; one removed is retired. Hidden names and .part, .tmp and .crdownload files are ignored.
      </p>
      {folders.length === 0 ? (
        <p className="muted">No watch folders.</p>
      ) : (
        <table className="releases">
          <thead>
            <tr>
              <th scope="col">Folder</th>
              <th scope="col">Channel</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {folders.map((f) => (
              <tr key={f.dir} data-watch-folder={f.dir}>
                <th scope="row" className="mono">
                  {f.dir}
                </th>
                <td>{f.channel}</td>
                <td>
                  <span className={`badge state-${BADGE[f.state]}`}>{LABEL[f.state]}</span> <span className="watch-message">{f.message}</span>
                </td>
                <td className="row-actions">
                  <button type="button" onClick={() => remove(f.dir)} aria-label={`Stop watching ${f.dir}`}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="field setting" onSubmit={(e) => void add(e)} data-setting="watchFolders">
        <label htmlFor={dirId}>Folder to watch</label>
        <input id={dirId} value={dir} spellCheck={false} placeholder="/srv/drop" onChange={(e) => setDir(e.currentTarget.value)} />
        <label htmlFor={channelId}>Channel</label>
        <input id={channelId} value={channel} spellCheck={false} placeholder={DEFAULT_CHANNEL} onChange={(e) => setChannel(e.currentTarget.value)} />
        <button type="submit">Watch</button>
        <span className={`field-status ${status?.kind ?? ''}`} role="status">
          {status?.message ?? ''}
        </span>
      </form>
    </section>
  )
}
