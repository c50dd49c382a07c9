/**
 * The one contract between the core and every UI. Electron IPC (preload + ipcMain) and the web
 * dashboard's WebSocket are two transports over these two maps; neither adds channels of its own.
 *
 * Commands are request/response. Events are pushed by the core, at most about once a second for
 * the periodic ones (snapshot), so a UI never has to throttle.
 */
import type { ErrorInfo } from './errors.js'

export type ReleaseState = 'hashing' | 'seeding' | 'paused' | 'retired' | 'error'

/** The channel of a release published without one; its feed is /feed.xml, the others /feeds/<name>.xml. */
export const DEFAULT_CHANNEL = 'default'

export interface ReleaseFile {
  /** Path inside the release, with '/' separators. */
  path: string
  length: number
}

export interface ReleaseSummary {
  infoHash: string
  name: string
  channel: string
  comment: string | null
  private: boolean
  state: ReleaseState
  error: ErrorInfo | null
  totalSize: number
  pieceLength: number
  pieceCount: number
  fileCount: number
  createdAt: string
  torrentUrl: string
  magnet: string
  webSeedUrl: string | null
}

export type Transport = 'tcp' | 'utp' | 'webseed'

export interface PeerInfo {
  /** ip:port, unique within a swarm. */
  id: string
  infoHash: string
  ip: string
  port: number
  hostname: string | null
  /** Decoded from the peer id, e.g. "qBittorrent". */
  client: string
  clientVersion: string | null
  /** 0..1, from the peer's bitfield. */
  progress: number
  downloadRate: number
  uploadRate: number
  transport: Transport
}

export interface SwarmStats {
  infoHash: string
  peers: number
  uploadRate: number
  downloadRate: number
  uploaded: number
  /** Full copies among connected peers plus us (like libtorrent's distributed copies). */
  distributedCopies: number
  /** Piece availability among peers, at most 256 cells, each the minimum over its pieces (0 = some piece in it is on nobody but the publisher). */
  availability: number[]
}

/**
 * A feed key shorter than this can be guessed: 22 random base64url characters are 132 bits.
 * "settings.generateFeedKey" makes one of 32 (192 bits).
 */
export const FEED_KEY_MIN_LENGTH = 22

/** In the hours marked (168 of them, Monday 00:00 first, local time), `altLimit` replaces the upload limit. */
export interface UploadSchedule {
  /** Bytes per second, 0 = unlimited. */
  altLimit: number
  hours: boolean[]
}

/** Per channel: keep the newest `keepLast` releases and/or retire those older than `olderThanDays`. */
export interface RetentionRule {
  channel: string
  keepLast: number | null
  olderThanDays: number | null
}

/**
 * Hooks: on a rollout that reached every expected server, and on a server whose download stalled,
 * run `command` (the event as JSON on stdin, and SWARMDROP_EVENT / SWARMDROP_RELEASE /
 * SWARMDROP_INFOHASH in its environment) and/or POST the event as JSON to `webhookUrl`. Each is
 * cut after `timeoutSeconds`; a failure is logged and never stops seeding.
 */
export interface HookSettings {
  /** A shell command line, or null for none. */
  command: string | null
  /** An http:// or https:// URL, or null for none. */
  webhookUrl: string | null
  timeoutSeconds: number
}

export interface Settings {
  /** Host name or IP written into every LAN URL; null means "the primary LAN IPv4". */
  address: string | null
  httpPort: number
  peerPort: number
  /** At least FEED_KEY_MIN_LENGTH letters, digits, "-" or "_"; null for no key. */
  feedKey: string | null
  announceIntervalSeconds: number
  /** Bytes per second, 0 = unlimited. */
  uploadLimit: number
  utp: boolean
  /**
   * Open BitTorrent connections the peer port takes from one address. A server needs one per
   * release it fetches; servers behind one NAT address share it, so raise it for such a fleet.
   */
  peerConnectionsPerAddress: number
  /** What runs when a rollout completes or a server stalls (electron/engine/hooks.ts). */
  hooks: HookSettings
  /** Applied after every publish and once an hour; retiring never deletes files. */
  retention: RetentionRule[]
  /** The weekly schedule of the alternative upload limit, or null for the normal one at all times. */
  uploadSchedule: UploadSchedule | null
  /** Folders whose new top-level entries are published by themselves (electron/engine/watch-folders.ts). */
  watchFolders: WatchFolder[]
  /** A tracker of the user's (opentracker) in place of ours in every .torrent; null for ours. */
  externalTracker: ExternalTracker | null
}

/**
 * An external tracker for fleets beyond what the built-in one holds (electron/engine/external-tracker.ts).
 * Swarmdrop writes the whitelist of its published info-hashes; our own tracker keeps answering
 * the clients that still hold an older .torrent.
 */
export interface ExternalTracker {
  /** http://, https:// or udp:// announce URL that every .torrent and magnet carries instead of ours. */
  announceUrl: string
  /** Absolute path of opentracker's whitelist (`-w` / `access.whitelist`): one hex info-hash per line; null when it is managed elsewhere. */
  whitelistFile: string | null
  /** Sent SIGHUP after each whitelist change, which is when opentracker re-reads it; null for none. */
  reloadPid: number | null
}

/** A folder on the publisher's machine: each file or folder put in it becomes a release in `channel`. */
export interface WatchFolder {
  /** Absolute path. */
  dir: string
  channel: string
}

/**
 * What a watch folder is doing: nothing new (watching), waiting for an entry to stop changing
 * (settling), hashing and seeding one (publishing), done with the last one (published), or
 * stuck (error: the folder is missing, or an entry could not be published).
 */
export type WatchFolderState = 'watching' | 'settling' | 'publishing' | 'published' | 'error'

export interface WatchFolderStatus {
  dir: string
  channel: string
  state: WatchFolderState
  /** The top-level entry the state is about; null while only watching, or when the folder itself is the problem. */
  entry: string | null
  /** While settling: how long the entry has been unchanged so far, in ms, out of `settleMs`. */
  stableMs: number | null
  settleMs: number
  /** Entries seen but not published yet (settling, empty, or waiting their turn). */
  pending: number
  /** One line for a person, e.g. `waiting for "app-2.5.tar" to settle (unchanged for 4 s of 10 s)`. */
  message: string
}

export interface Endpoints {
  /** The address in use right now (resolved from Settings.address). */
  address: string
  /** Ports actually bound right now (settings may hold 0 = "any", or a change pending a restart). */
  httpPort: number
  peerPort: number
  /** The default channel's feed. */
  feedUrl: string
  /** Every channel with a release not retired (the default one always), and its feed. */
  channels: { name: string; feedUrl: string }[]
  announceUrls: string[]
  dashboardUrl: string | null
}

/**
 * Where one server is with one release, read from its client's own traffic (no agent):
 * not-seen → polled (read the feed) → picked-up (fetched the .torrent) → downloading →
 * complete; stalled = no progress for a while; gone = stopped before completing.
 */
export type ProgressState = 'not-seen' | 'polled' | 'picked-up' | 'downloading' | 'complete' | 'stalled' | 'gone'

export interface FleetCell {
  state: ProgressState
  /** 0..1 */
  percent: number
  /** Bytes per second it downloads from us right now. */
  rate: number
  /** Bytes it took from the publisher (wires and web seed) and from other servers. */
  fromPublisher: number
  fromOthers: number
  /**
   * When it began to fetch this release (its first announce with bytes left, or its first piece):
   * with `completedAt`, how long its download took. Null before that, and for releases it
   * finished before the publisher last restarted.
   */
  startedAt: number | null
  completedAt: number | null
}

/** One server of the fleet, keyed by IP, with a cell per published release. */
export interface FleetRow {
  ip: string
  /** The user's name for it, else its reverse-DNS name, else the IP. */
  name: string
  hostname: string | null
  /** Listed in the roster of expected servers. */
  expected: boolean
  /** Client names and versions seen (peer ids, user agents), e.g. "qBittorrent 4.5.2". */
  clients: string[]
  firstSeen: number | null
  lastSeen: number | null
  lastFeedPoll: number | null
  /** Polls the feed but never announces or connects: a firewall between it and our ports. */
  firewallHint: boolean
  /** By info-hash, for every published release. */
  cells: Record<string, FleetCell>
  /** Bumped on every change of this row. */
  version: number
}

export interface TimelineEntry {
  at: number
  /** 'polled' is its first poll of the feed, or the first after an hour of silence. */
  kind: 'polled' | 'fetched' | 'started' | 'progress' | 'completed' | 'stopped' | 'stalled'
  /** Null for 'polled', which is about the feed, not one release. */
  infoHash: string | null
  percent: number | null
}

/** A release's rollout: who has it, how long it took from publication, what it cost us. */
export interface RolloutSummary {
  infoHash: string
  /** Servers that completed it, listed or not. */
  complete: number
  /** Servers on the roster, and how many of them completed it. */
  expected: number
  expectedComplete: number
  firstCompletionMs: number | null
  medianCompletionMs: number | null
  lastCompletionMs: number | null
  /** What the publisher uploaded, in copies of the release. */
  uploadedCopies: number
}

/** A stored release record that could not be used at start-up; the others run regardless. */
export interface DamagedRelease {
  /** The record's file name, "<infohash>.json". */
  name: string
  /** Where the damaged file was moved, to inspect or restore; null if it could not be moved. */
  keptAt: string | null
  reason: string
}

export interface Snapshot {
  at: number
  /** The upload limit in force now (bytes per second, 0 = unlimited), and whether the schedule set it. */
  uploadLimitNow: { limit: number; source: 'normal' | 'schedule' }
  releases: ReleaseSummary[]
  /** Records found damaged at start-up (kept aside, never loaded). */
  damagedReleases: DamagedRelease[]
  /** Per published release; the per-server matrix itself comes from "fleet.get" and "fleet.changed". */
  rollouts: RolloutSummary[]
  swarms: SwarmStats[]
  peers: PeerInfo[]
  settings: Settings
  endpoints: Endpoints
  /** One per watch folder in use (settings or `serve --watch`). */
  watchFolders: WatchFolderStatus[]
}

export interface PublishRequest {
  /** Absolute paths on the publisher's machine: one file, one folder, or several files. */
  paths: string[]
  name?: string
  channel?: string
  comment?: string
  private?: boolean
  webSeed?: boolean
  pieceLength?: number
}

export interface PreviewEntry {
  path: string
  length: number
}

export interface PublishPreview {
  name: string
  files: PreviewEntry[]
  fileCount: number
  totalSize: number
  pieceLength: number
  warnings: string[]
}

export interface HashProgress {
  jobId: string
  hashedBytes: number
  totalBytes: number
  /** Bytes per second over the last second or so. */
  rate: number
  etaSeconds: number
}

export interface SettingsUpdateResult {
  settings: Settings
  /** Names of settings that take effect only after a restart. */
  restartRequired: (keyof Settings)[]
}

/** Request/response commands: name -> [request, response]. */
export interface Commands {
  'snapshot.get': [Record<string, never>, Snapshot]
  'publish.preview': [{ paths: string[] }, PublishPreview]
  'publish.start': [PublishRequest, { jobId: string }]
  'publish.cancel': [{ jobId: string }, { cancelled: boolean }]
  'release.pause': [{ infoHash: string }, ReleaseSummary]
  'release.resume': [{ infoHash: string }, ReleaseSummary]
  'release.retire': [{ infoHash: string }, ReleaseSummary]
  'releases.pauseAll': [Record<string, never>, { count: number }]
  'releases.resumeAll': [Record<string, never>, { count: number }]
  'settings.update': [Partial<Settings>, SettingsUpdateResult]
  /** Sets a new random feed key (192 bits); servers must be re-subscribed with the new feed URL. */
  'settings.generateFeedKey': [Record<string, never>, SettingsUpdateResult]
  /** The whole fleet once; "fleet.changed" then carries only the rows that change. */
  'fleet.get': [Record<string, never>, { version: number; rows: FleetRow[] }]
  'fleet.server': [{ ip: string }, { row: FleetRow; timeline: TimelineEntry[] }]
  /** Replaces the roster of expected servers: IPs or host names, one per entry. */
  'fleet.roster.set': [{ servers: string[] }, { expected: number; unresolved: string[] }]
  'fleet.rename': [{ ip: string; name: string | null }, FleetRow]
  /** Retires, in one channel (default: all), all but the newest `keepLast` and/or those older than `olderThanDays`. */
  'releases.retireOld': [{ channel?: string; keepLast?: number; olderThanDays?: number }, { retired: ReleaseSummary[] }]
}

/** Events pushed by the core: name -> payload. */
export interface Events {
  snapshot: Snapshot
  'publish.progress': HashProgress
  'publish.done': { jobId: string; release: ReleaseSummary }
  'publish.error': { jobId: string; error: ErrorInfo }
  'release.completedByServer': { infoHash: string; name: string; ip: string; hostname: string | null }
  /**
   * Rows of the fleet that changed between versions `since` and `version`, at most once a second.
   * A UI whose copy is not at `since` missed an event, and fetches "fleet.get" again; so does one
   * that gets `rows: []` (too many changed at once).
   */
  'fleet.changed': { since: number; version: number; rows: FleetRow[] }
  /** Every expected server has the release (sent once per release). */
  'release.rolloutComplete': { infoHash: string; name: string; servers: number; tookMs: number }
}

export type CommandName = keyof Commands
export type CommandRequest<K extends CommandName> = Commands[K][0]
export type CommandResponse<K extends CommandName> = Commands[K][1]
export type EventName = keyof Events

/** What a command call resolves to on the wire: errors are values, never thrown across a transport. */
export type CommandResult<K extends CommandName> =
  | { ok: true; value: CommandResponse<K> }
  | { ok: false; error: ErrorInfo }

/** The API every UI sees, whatever the transport. */
export interface SwarmdropApi {
  call<K extends CommandName>(command: K, request: CommandRequest<K>): Promise<CommandResult<K>>
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void
}

export const COMMAND_NAMES = [
  'snapshot.get',
  'publish.preview',
  'publish.start',
  'publish.cancel',
  'release.pause',
  'release.resume',
  'release.retire',
  'releases.pauseAll',
  'releases.resumeAll',
  'settings.update',
  'settings.generateFeedKey',
  'fleet.get',
  'fleet.server',
  'fleet.roster.set',
  'fleet.rename',
  'releases.retireOld',
] as const satisfies readonly CommandName[]

export const EVENT_NAMES = [
  'snapshot',
  'publish.progress',
  'publish.done',
  'publish.error',
  'release.completedByServer',
  'fleet.changed',
  'release.rolloutComplete',
] as const satisfies readonly EventName[]

// A command or event added to the maps above but not to these lists fails the build here (the
// preload's own copies are checked the same way).
const commandNamesComplete: [Exclude<CommandName, (typeof COMMAND_NAMES)[number]>] extends [never] ? true : false = true
const eventNamesComplete: [Exclude<EventName, (typeof EVENT_NAMES)[number]>] extends [never] ? true : false = true
void commandNamesComplete
void eventNamesComplete

/**
 * What the Electron preload exposes as `window.swarmdrop`: the contract, plus the real path of a
 * dropped file. `DroppedFile` is the DOM's File where there is one (shared/ itself has no DOM).
 */
export interface PreloadApi<DroppedFile> extends SwarmdropApi {
  getPathForFile(file: DroppedFile): string
}

/**
 * What the core implements (electron/engine/engine.ts). Commands throw SwarmdropError; transports
 * turn that into `{ ok: false, error }` so no stack trace ever reaches a UI.
 */
export interface CoreApi {
  handle<K extends CommandName>(command: K, request: CommandRequest<K>): Promise<CommandResponse<K>>
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void
}
