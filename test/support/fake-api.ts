/**
 * FAKE: an in-memory SwarmdropApi for the renderer's component tests only. It stands in for the
 * core so each screen can be driven into every state (hashing at 50 %, an error, 1,000 peers)
 * deterministically. The end-to-end test (test/e2e-dashboard.test.ts) uses the real backend.
 */
import type {
  CommandName,
  CommandRequest,
  CommandResponse,
  CommandResult,
  EventName,
  Events,
  FleetCell,
  FleetRow,
  PeerInfo,
  ReleaseSummary,
  RolloutSummary,
  Snapshot,
  SwarmdropApi,
  SwarmStats,
} from '../../shared/contract.js'
import { isErrorInfo, type ErrorInfo } from '../../shared/errors.js'

type Handler<K extends CommandName> = (request: CommandRequest<K>) => CommandResponse<K> | Promise<CommandResponse<K>>

export interface FakeCall {
  command: CommandName
  request: unknown
}

export class FakeSwarmdropApi implements SwarmdropApi {
  readonly calls: FakeCall[] = []
  private readonly handlers = new Map<CommandName, Handler<CommandName>>()
  private readonly listeners = new Map<EventName, Set<(payload: never) => void>>()

  constructor(public snapshot: Snapshot = makeSnapshot()) {
    this.handle('snapshot.get', () => this.snapshot)
  }

  /** Sets what a command returns; throw an ErrorInfo from the handler to make it fail. */
  handle<K extends CommandName>(command: K, handler: Handler<K>): this {
    this.handlers.set(command, handler as unknown as Handler<CommandName>)
    return this
  }

  fail<K extends CommandName>(command: K, error: ErrorInfo): this {
    return this.handle(command, () => {
      throw error
    })
  }

  async call<K extends CommandName>(command: K, request: CommandRequest<K>): Promise<CommandResult<K>> {
    this.calls.push({ command, request })
    const handler = this.handlers.get(command) as Handler<K> | undefined
    if (!handler) return { ok: false, error: { code: 'INTERNAL', message: `The fake API has no handler for ${command}.` } }
    try {
      return { ok: true, value: await handler(request) }
    } catch (err) {
      if (isErrorInfo(err)) return { ok: false, error: { code: err.code, message: err.message } }
      throw err
    }
  }

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener as (payload: never) => void)
    return () => set.delete(listener as (payload: never) => void)
  }

  emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const l of this.listeners.get(event) ?? []) (l as (p: Events[E]) => void)(payload)
  }

  /** Replaces the snapshot and pushes it, as the core does once a second. */
  push(snapshot: Snapshot): void {
    this.snapshot = snapshot
    this.emit('snapshot', snapshot)
  }

  callsOf(command: CommandName): unknown[] {
    return this.calls.filter((c) => c.command === command).map((c) => c.request)
  }
}

export const FEED_URL = 'http://10.0.0.5:8080/feed.xml'

export function makeSnapshot(patch: Partial<Snapshot> = {}): Snapshot {
  return {
    at: Date.now(),
    releases: [],
    damagedReleases: [], uploadLimitNow: { limit: 0, source: 'normal' },
    watchFolders: [],
    rollouts: [],
    swarms: [],
    peers: [],
    settings: { address: null, httpPort: 8080, peerPort: 6881, feedKey: null, announceIntervalSeconds: 30, uploadLimit: 0, utp: true, peerConnectionsPerAddress: 32, hooks: { command: null, webhookUrl: null, timeoutSeconds: 10 }, retention: [], uploadSchedule: null, watchFolders: [], externalTracker: null },
    endpoints: { address: '10.0.0.5', httpPort: 8080, peerPort: 6881, feedUrl: FEED_URL, channels: [], announceUrls: ['http://10.0.0.5:8080/announce'], dashboardUrl: null },
    ...patch,
  }
}

export function makeRelease(n: number, patch: Partial<ReleaseSummary> = {}): ReleaseSummary {
  const infoHash = n.toString(16).padStart(40, '0')
  return {
    infoHash,
    name: `app-update-${n}`,
    channel: 'default',
    comment: null,
    private: true,
    state: 'seeding',
    error: null,
    totalSize: 64 * 1024 * 1024,
    pieceLength: 256 * 1024,
    pieceCount: 256,
    fileCount: 3,
    createdAt: '2025-01-01T00:00:00.000Z',
    torrentUrl: `http://10.0.0.5:8080/torrents/${infoHash}.torrent`,
    magnet: `magnet:?xt=urn:btih:${infoHash}&dn=app-update-${n}`,
    webSeedUrl: null,
    ...patch,
  }
}

export function makeSwarm(infoHash: string, patch: Partial<SwarmStats> = {}): SwarmStats {
  return { infoHash, peers: 0, uploadRate: 0, downloadRate: 0, uploaded: 0, distributedCopies: 1, availability: [], ...patch }
}

const CLIENTS: [string, string | null][] = [
  ['qBittorrent', '4.5.2'],
  ['Transmission', '3.00'],
  ['aria2', '1.36.0'],
  ['libTorrent', '0.13.8'],
]

/** Peer number i of a swarm: 10.0.x.y addresses, a mix of clients, transports and progress. */
export function makePeer(i: number, infoHash: string, patch: Partial<PeerInfo> = {}): PeerInfo {
  const ip = `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`
  const [client, clientVersion] = CLIENTS[i % CLIENTS.length] ?? ['Unknown', null]
  return {
    id: `${ip}:6881`,
    infoHash,
    ip,
    port: 6881,
    hostname: null,
    client,
    clientVersion,
    progress: (i % 101) / 100,
    downloadRate: (i % 17) * 1024 * 100,
    uploadRate: (i % 5) * 1024 * 10,
    transport: i % 3 === 0 ? 'utp' : 'tcp',
    ...patch,
  }
}

export function makeCell(patch: Partial<FleetCell> = {}): FleetCell {
  return { state: 'not-seen', percent: 0, rate: 0, fromPublisher: 0, fromOthers: 0, startedAt: null, completedAt: null, ...patch }
}

/** Server number i of a fleet: 10.1.x.y, named srv-i, seen a minute ago, with the cells given (by info-hash). */
export function makeFleetRow(i: number, cells: Record<string, FleetCell> = {}, patch: Partial<FleetRow> = {}): FleetRow {
  const ip = `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`
  const seen = Date.now() - 60_000
  return {
    ip,
    name: `srv-${i}`,
    hostname: `srv-${i}`,
    expected: false,
    clients: ['qBittorrent 4.5.2'],
    firstSeen: seen - 3_600_000,
    lastSeen: seen,
    lastFeedPoll: seen,
    firewallHint: false,
    cells,
    version: 1,
    ...patch,
  }
}

export function makeRollout(infoHash: string, patch: Partial<RolloutSummary> = {}): RolloutSummary {
  return {
    infoHash,
    complete: 0,
    expected: 0,
    expectedComplete: 0,
    firstCompletionMs: null,
    medianCompletionMs: null,
    lastCompletionMs: null,
    uploadedCopies: 0,
    ...patch,
  }
}
