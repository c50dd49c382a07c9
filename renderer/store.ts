/**
 * The dashboard's state: a mirror of the core's latest snapshot (and of the fleet's rows, once a
 * view asks for them) plus what only a UI needs (rate
 * history for the charts, the connection, the selection, a notice line). Nothing here decides
 * anything the core decides; commands go straight to the core and the next snapshot shows the result.
 */
import { createStore, type StoreApi } from 'zustand/vanilla'
import type { CommandName, CommandRequest, CommandResult, Events, FleetRow, Snapshot, SwarmdropApi } from '../shared/contract.js'
import { toErrorInfo } from '../shared/errors.js'
import { NO_DEPARTED, recordCompletion, trackDepartures, type DepartedPeers } from './departed-peers.js'
import { formatElapsed } from '../shared/format.js'
import { applyFleetChange, fleetCopyOf, mergeRows, type FleetCopy } from './fleet.js'

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

/**
 * The fleet's rows, by IP. Fetched only once a view needs them (5,000 servers × 20 releases is a
 * few megabytes), then kept current from "fleet.changed" deltas.
 */
export interface FleetView extends FleetCopy {
  status: 'idle' | 'loading' | 'ready' | 'error'
  /** Why the last fetch failed; with status 'ready' the rows shown are the previous ones. */
  error: string | null
}

export const NO_FLEET: FleetView = { status: 'idle', version: 0, rows: new Map(), error: null }

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
  fleet: FleetView
  /** The server whose page is open on the Servers tab. */
  selectedServerIp: string | null
}

export interface DashboardActions {
  applySnapshot(snapshot: Snapshot): void
  serverCompleted(infoHash: string, ip: string): void
  setConnection(connection: ConnectionState, error?: string | null): void
  select(infoHash: string | null): void
  selectServer(ip: string | null): void
  notify(notice: Notice | null): void
  /** Runs a command; a failure becomes the notice line and is returned as a value. */
  run<K extends CommandName>(command: K, request: CommandRequest<K>): Promise<CommandResult<K>>
  /** Runs a command; a failure is only returned, for a view that shows it where it happened. */
  ask<K extends CommandName>(command: K, request: CommandRequest<K>): Promise<CommandResult<K>>
  /** Fetches the fleet unless it is already here or on its way; resolves when it is. */
  loadFleet(): Promise<void>
  fleetChanged(change: Events['fleet.changed']): void
  /** A row a command answered with (a rename), put in ahead of its "fleet.changed". */
  putFleetRow(row: FleetRow): void
}

export type DashboardStore = StoreApi<DashboardState & DashboardActions>

export function createDashboardStore(api: SwarmdropApi): DashboardStore {
  // While a fleet.get is on its way, the changes that arrive meanwhile wait here: the answer may
  // be older or newer than each of them, and only versions can tell.
  let pending: Events['fleet.changed'][] | null = null
  let fetching: Promise<void> | null = null

  const call = async <K extends CommandName>(command: K, request: CommandRequest<K>): Promise<CommandResult<K>> => {
    try {
      return await api.call(command, request)
    } catch (err) {
      return { ok: false, error: toErrorInfo(err) }
    }
  }

  return createStore<DashboardState & DashboardActions>()((set, get) => {
    const fetchFleet = (): Promise<void> => {
      if (fetching) return fetching
      pending = []
      if (get().fleet.status !== 'ready') set({ fleet: { ...get().fleet, status: 'loading', error: null } })
      fetching = call('fleet.get', {}).then((result) => {
        const queued = pending ?? []
        pending = null
        fetching = null
        const { fleet } = get()
        if (!result.ok) {
          set({ fleet: { ...fleet, status: fleet.status === 'ready' ? 'ready' : 'error', error: result.error.message } })
          return
        }
        let copy = fleetCopyOf(result.value)
        let again = false
        for (const change of queued) {
          const applied = applyFleetChange(copy, change)
          if (applied.kind === 'applied') copy = applied.fleet
          else if (applied.kind === 'refetch') again = true
        }
        set({ fleet: { status: 'ready', error: null, version: copy.version, rows: copy.rows } })
        if (again) void fetchFleet()
      })
      return fetching
    }

    return {
      connection: 'connecting',
      connectionError: null,
      snapshot: null,
      history: {},
      departed: NO_DEPARTED,
      selectedInfoHash: null,
      notice: null,
      fleet: NO_FLEET,
      selectedServerIp: null,
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
      selectServer(ip) {
        set({ selectedServerIp: ip })
      },
      notify(notice) {
        set({ notice })
      },
      async run(command, request) {
        const result = await call(command, request)
        if (!result.ok) set({ notice: { kind: 'error', message: result.error.message } })
        return result
      },
      ask: call,
      loadFleet() {
        const { status } = get().fleet
        return status === 'ready' ? Promise.resolve() : fetchFleet()
      },
      fleetChanged(change) {
        if (pending) {
          pending.push(change)
          return
        }
        const { fleet } = get()
        // Nobody has asked for the fleet yet: the fetch that asks will get all of it.
        if (fleet.status !== 'ready') return
        const applied = applyFleetChange(fleet, change)
        if (applied.kind === 'applied') set({ fleet: { ...fleet, version: applied.fleet.version, rows: applied.fleet.rows } })
        else if (applied.kind === 'refetch') void fetchFleet()
      },
      putFleetRow(row) {
        const { fleet } = get()
        if (fleet.status !== 'ready') return
        const rows = mergeRows(fleet.rows, [row])
        if (rows !== fleet.rows) set({ fleet: { ...fleet, rows } })
      },
    }
  })
}

/** "app-2.4.1 reached all 20 servers in 3 min 12 s." */
export function rolloutCompleteMessage(e: Events['release.rolloutComplete']): string {
  const who = e.servers === 1 ? 'its one expected server' : `all ${e.servers.toLocaleString('en')} servers`
  return `${e.name} reached ${who} in ${formatElapsed(e.tookMs)}.`
}

/** Subscribes the store to the core; returns the unsubscribe. */
export function attachDashboard(store: DashboardStore, api: SwarmdropApi): () => void {
  const { applySnapshot, notify, setConnection, serverCompleted, fleetChanged } = store.getState()
  const offs = [
    api.on('snapshot', applySnapshot),
    api.on('release.completedByServer', (e) => {
      serverCompleted(e.infoHash, e.ip)
      notify({ kind: 'info', message: `${e.hostname ?? e.ip} finished downloading ${e.name}.` })
    }),
    api.on('fleet.changed', fleetChanged),
    api.on('release.rolloutComplete', (e) => notify({ kind: 'info', message: rolloutCompleteMessage(e) })),
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
