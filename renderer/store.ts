/**
 * The dashboard's state: a mirror of the core's latest snapshot plus what only a UI needs (rate
 * history for the charts, the connection, the selection, a notice line). Nothing here decides
 * anything the core decides; commands go straight to the core and the next snapshot shows the result.
 */
import { createStore, type StoreApi } from 'zustand/vanilla'
import type { CommandName, CommandRequest, CommandResult, Snapshot, SwarmdropApi } from '../shared/contract.js'
import { toErrorInfo } from '../shared/errors.js'
import { NO_DEPARTED, recordCompletion, trackDepartures, type DepartedPeers } from './departed-peers.js'

/** How much rate history the charts keep: five minutes at one snapshot a second. */
export const HISTORY_SAMPLES = 300

export interface RateSample {
  at: number
  up: number
  down: number
}

export interface Notice {
  kind: 'info' | 'error'
  message: string
}

export type ConnectionState = 'connecting' | 'connected' | 'disconnected'

export interface DashboardState {
  connection: ConnectionState
  /** Why the connection is not up, in words. */
  connectionError: string | null
  snapshot: Snapshot | null
  /** Per info-hash rate samples, oldest first; the core only sends the current rates. */
  history: Record<string, RateSample[]>
  /** Peers that left in the last minute (see departed-peers.ts). */
  departed: DepartedPeers
  selectedInfoHash: string | null
  notice: Notice | null
}

export interface DashboardActions {
  applySnapshot(snapshot: Snapshot): void
  serverCompleted(infoHash: string, ip: string): void
  setConnection(connection: ConnectionState, error?: string | null): void
  select(infoHash: string | null): void
  notify(notice: Notice | null): void
  /** Runs a command; a failure becomes the notice line and is returned as a value. */
  run<K extends CommandName>(command: K, request: CommandRequest<K>): Promise<CommandResult<K>>
}

export type DashboardStore = StoreApi<DashboardState & DashboardActions>

export function createDashboardStore(api: SwarmdropApi): DashboardStore {
  return createStore<DashboardState & DashboardActions>()((set, get) => ({
    connection: 'connecting',
    connectionError: null,
    snapshot: null,
    history: {},
    departed: NO_DEPARTED,
    selectedInfoHash: null,
    notice: null,
    applySnapshot(snapshot) {
      const { history, departed, snapshot: previous } = get()
      set({
        snapshot,
        history: appendHistory(history, snapshot),
        departed: trackDepartures(departed, previous, snapshot),
        connection: 'connected',
        connectionError: null,
      })
    },
    serverCompleted(infoHash, ip) {
      set({ departed: recordCompletion(get().departed, infoHash, ip, get().snapshot?.at ?? Date.now()) })
    },
    setConnection(connection, error = null) {
      set({ connection, connectionError: error })
    },
    select(infoHash) {
      set({ selectedInfoHash: infoHash })
    },
    notify(notice) {
      set({ notice })
    },
    async run(command, request) {
      let result: CommandResult<typeof command>
      try {
        result = await api.call(command, request)
      } catch (err) {
        result = { ok: false, error: toErrorInfo(err) }
      }
      if (!result.ok) set({ notice: { kind: 'error', message: result.error.message } })
      return result
    },
  }))
}

/** Subscribes the store to the core; returns the unsubscribe. */
export function attachDashboard(store: DashboardStore, api: SwarmdropApi): () => void {
  const { applySnapshot, notify, setConnection, serverCompleted } = store.getState()
  const offs = [
    api.on('snapshot', applySnapshot),
    api.on('release.completedByServer', (e) => {
      serverCompleted(e.infoHash, e.ip)
      notify({ kind: 'info', message: `${e.hostname ?? e.ip} finished downloading ${e.name}.` })
    }),
  ]
  void api.call('snapshot.get', {}).then(
    (result) => (result.ok ? applySnapshot(result.value) : setConnection('disconnected', result.error.message)),
    (err: unknown) => setConnection('disconnected', toErrorInfo(err).message),
  )
  return () => offs.forEach((off) => off())
}

function appendHistory(previous: Record<string, RateSample[]>, snapshot: Snapshot): Record<string, RateSample[]> {
  const next: Record<string, RateSample[]> = {}
  for (const swarm of snapshot.swarms) {
    const samples = previous[swarm.infoHash] ?? []
    const last = samples[samples.length - 1]
    // The same snapshot can arrive twice (snapshot.get racing the first event): keep one sample per instant.
    const kept = last && last.at >= snapshot.at ? samples.slice(0, -1) : samples
    next[swarm.infoHash] = [...kept.slice(-(HISTORY_SAMPLES - 1)), { at: snapshot.at, up: swarm.uploadRate, down: swarm.downloadRate }]
  }
  return next
}
