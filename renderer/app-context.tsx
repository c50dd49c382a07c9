/** The stores and the transport, handed to components through context so tests can supply their own. */
import { createContext, useContext, useEffect, useMemo } from 'react'
import { useStore } from 'zustand'
import type { Backend } from './backend.js'
import { peerRows, type PeerRowData } from './departed-peers.js'
import { attachDashboard, createDashboardStore, NO_FLEET, type DashboardActions, type DashboardState, type DashboardStore, type FleetView } from './store.js'
import { createPublishStore, type PublishState, type PublishStore } from './publish-flow.js'

export interface AppContextValue {
  backend: Backend
  dashboard: DashboardStore
  publish: PublishStore
}

export const AppContext = createContext<AppContextValue | null>(null)

export function useApp(): AppContextValue {
  const value = useContext(AppContext)
  if (!value) throw new Error('AppContext is missing: render components inside <AppContext.Provider>.')
  return value
}

export function useDashboard<T>(selector: (state: DashboardState & DashboardActions) => T): T {
  return useStore(useApp().dashboard, selector)
}

/** The peers table's rows: live peers plus those that just left, for one swarm or all (null). Null before the first snapshot. */
export function usePeerRows(infoHash: string | null): PeerRowData[] | null {
  const peers = useDashboard((s) => s.snapshot?.peers ?? null)
  const departed = useDashboard((s) => s.departed)
  return useMemo(() => (peers ? peerRows(peers, departed, infoHash) : null), [peers, departed, infoHash])
}

/**
 * The fleet's rows, fetched the first time a view that shows them mounts (and again after a failed
 * fetch, when one mounts anew). `enabled: false` neither fetches nor shows anything.
 */
export function useFleet(enabled = true): FleetView {
  const fleet = useDashboard((s) => s.fleet)
  const loadFleet = useDashboard((s) => s.loadFleet)
  useEffect(() => {
    if (enabled) void loadFleet()
  }, [enabled, loadFleet])
  return enabled ? fleet : NO_FLEET
}

export function usePublish<T>(selector: (state: PublishState) => T): T {
  return useStore(useApp().publish, selector)
}

/** Wires a transport to fresh stores; the returned detach undoes the subscriptions. */
export function createAppContext(backend: Backend): { value: AppContextValue; detach: () => void } {
  const dashboard = createDashboardStore(backend.api)
  const publish = createPublishStore(backend)
  const detach = attachDashboard(dashboard, backend.api)
  backend.onDisconnect((reason) => dashboard.getState().setConnection('disconnected', `Lost the connection to Swarmdrop (${reason}). Reload once it is running again.`))
  return { value: { backend, dashboard, publish }, detach }
}
