/**
 * The engine: the one CoreApi every front end (Electron IPC, the WebSocket dashboard, the CLI)
 * talks to. It wires settings, the release library, the seeder, the tracker and the LAN server,
 * and owns the publish jobs. Release state is derived (stored intent + runtime problems + what
 * the seeder is doing), never stored twice.
 */
import { EventEmitter } from 'node:events'
import { isIP } from 'node:net'
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import {
  DEFAULT_CHANNEL,
  type CommandName,
  type CommandRequest,
  type CommandResponse,
  type CoreApi,
  type Endpoints,
  type EventName,
  type Events,
  type PeerInfo,
  type PublishPreview,
  type PublishRequest,
  type ReleaseState,
  type ReleaseSummary,
  type RolloutSummary,
  type Settings,
  type SettingsUpdateResult,
  type Snapshot,
  type SwarmStats,
} from '../../shared/contract.js'
import { SwarmdropError, toErrorInfo, type ErrorInfo } from '../../shared/errors.js'
import { choosePieceLength } from '../../shared/piece-length.js'
import { validateRequest } from '../../shared/request-validation.js'
import { removeAbandonedWrites } from './atomic-write.js'
import { createTorrent } from './create.js'
import { acquireLock, ensureDataDir, type DataDirLock } from './data-dir.js'
import { resolveAddress } from './lan-address.js'
import { LanServer, type PublishedRelease } from './lan-server.js'
import { checkRelease } from './release-check.js'
import { absPathOf, infoBytes, newReleaseRecord, pieceHashesOf, ReleaseStore, type ReleaseRecord } from './release-store.js'
import { Seeder } from './seeder.js'
import { WebSeedGate } from './web-seed-gate.js'
import { DEFAULT_SETTINGS, generateFeedKey, SettingsStore, validateSettings } from './settings-store.js'
import { retentionPlan } from './retention.js'
import { limitInForce, type LimitInForce } from './upload-schedule.js'
import { scanSources } from './source-scanner.js'
import { encodeTorrent, magnetUri } from './torrent-file.js'
import { Tracker, type AnnounceEvent } from './tracker.js'
import { DialLimiter } from './dial-limiter.js'
import { normalizeIp } from './ip-address.js'
import { ExternalTrackerLink } from './external-tracker.js'
import { FleetTracker, systemResolver, type HostResolver } from './fleet-tracker.js'
import { HookRunner, rolloutCompleteEvent, stalledEvent } from './hooks.js'
import { PRODUCT } from './product.js'
import { coreActions, WatchFolders } from './watch-folders.js'

export interface EngineOptions {
  dataDir: string
  /** CLI flags: they win over the stored settings for this run and are never persisted. */
  overrides?: Partial<Settings>
  /** Where the LAN server binds; default: the configured address when it is an IP, else all interfaces. */
  bindHost?: string
  /** One line per notable event (serve prints them). */
  log?: (line: string) => void
  /** Host names for the fleet view; default the system's resolver. */
  resolver?: HostResolver
  /** Watch folders: how long an entry must stay unchanged, and how often folders are polled (tests shorten both). */
  watch?: { settleMs?: number; pollMs?: number }
  /** No progress for this long marks a server's download stalled (default 5 min; tests shorten it). */
  stallAfterMs?: number
  /** The clock the upload schedule reads; tests move it. */
  now?: () => number
}

/** Settings that a running engine applies at once; the others need a restart. */
const LIVE_SETTINGS: readonly (keyof Settings)[] = ['feedKey', 'announceIntervalSeconds', 'uploadLimit', 'retention', 'hooks', 'watchFolders', 'uploadSchedule', 'peerConnectionsPerAddress']
const PROGRESS_INTERVAL_MS = 100
const SNAPSHOT_INTERVAL_MS = 1000
/** Age limits are checked this often, besides after each publish. */
const RETENTION_EVERY_MS = 3600_000
/** How often the external tracker is asked who is in each release's swarm (for dialing them). */
const EXTERNAL_LISTING_EVERY_MS = 10_000
/**
 * A server that drops a wire it kept this long, before we saw it finish, is probed (see
 * dialUnfinished): dialled every tick for PROBE_FAST_MS, then every PROBE_SLOW_EVERY_MS until
 * PROBE_FOR_MS. Shorter-lived wires start no probe, so a client that takes a connection and drops
 * it at once is not dialled every second.
 */
const PROBE_AFTER_WIRE_MS = 5_000
const PROBE_FAST_MS = 15_000
const PROBE_SLOW_EVERY_MS = 5_000
const PROBE_FOR_MS = 120_000
/** Servers remembered per release for completion notices; far above any LAN fleet. */
const MAX_PEERS_REMEMBERED = 100_000
/** A refused address is logged again after this long, so a flood writes a line a minute, not one per connection. */
const REFUSED_LOG_EVERY_MS = 60_000
/**
 * Of a release, what the web seed may send a second time to servers that BitTorrent also reaches
 * (Transmission 3.00 before its first pulse): bytes of pieces that BitTorrent has already sent or
 * is sending to some server, counted from the moment each response is served. Pieces no server
 * has yet are not counted: super-seeding takes them as that server's first copy. Before that
 * rule every web-seed byte counted, and with a tenth mixed fleets sent 1.14-1.25 copies, with a
 * twentieth 1.08-1.20.
 */
const WEB_SEED_SHARE = 0.05

export async function startEngine(options: EngineOptions): Promise<Engine> {
  await ensureDataDir(options.dataDir)
  const lock = await acquireLock(options.dataDir)
  const cleanup: (() => Promise<void>)[] = [() => lock.release()]
  try {
    // settings.json, instance.json and the token are written atomically; a kill mid-write leaves a temp file.
    await removeAbandonedWrites(options.dataDir)
    const overrides = validateSettings(options.overrides ?? {})
    const settingsStore = await SettingsStore.open(options.dataDir)
    const store = await ReleaseStore.open(options.dataDir)
    const settings = { ...settingsStore.settings, ...overrides }
    const seeder = await Seeder.start({ peerPort: settings.peerPort, utp: settings.utp, uploadLimit: settings.uploadLimit, connectionsPerAddress: settings.peerConnectionsPerAddress })
    cleanup.push(() => seeder.close())
    const engine = new Engine({ options, lock, settingsStore, store, seeder, overrides })
    cleanup.push(() => engine.closeTrackerOnly())
    await engine.listen()
    engine.startRestoring()
    return engine
  } catch (err) {
    for (const undo of cleanup.reverse()) await undo().catch(() => undefined)
    throw err
  }
}

interface EngineParts {
  options: EngineOptions
  lock: DataDirLock
  settingsStore: SettingsStore
  store: ReleaseStore
  seeder: Seeder
  overrides: Partial<Settings>
}

export class Engine implements CoreApi {
  private readonly events = new EventEmitter()
  private readonly options: EngineOptions
  private readonly lock: DataDirLock
  private readonly settingsStore: SettingsStore
  private readonly store: ReleaseStore
  private readonly seeder: Seeder
  private readonly tracker: Tracker
  /**
   * opentracker in place of ours in every .torrent (settings.externalTracker, fixed for this run),
   * or null. Ours keeps answering the clients that hold an older .torrent; with nobody announcing
   * to it, the fleet view lives on feed polls, .torrent fetches, wires and web-seed requests.
   */
  private readonly external: ExternalTrackerLink | null
  private readonly lan: LanServer
  /** Per release: when the external tracker was last asked for its swarm, or is being asked (Infinity). */
  private readonly externalListing = new Map<string, number>()
  private overrides: Partial<Settings>
  /** The address every URL carries, fixed for this run (changing it needs a restart). */
  private readonly address: string
  /** Runtime problems (missing or changed files); cleared when the release seeds again. */
  private readonly problems = new Map<string, ErrorInfo>()
  /** Releases being checked or hashed right now. */
  private readonly checking = new Set<string>()
  /** Published but not yet in the library: the tracker must already accept the seeder's announce. */
  private readonly starting = new Set<string>()
  private readonly jobs = new Map<string, AbortController>()
  private readonly torrentCache = new Map<string, { key: string; torrent: Buffer }>()
  /**
   * Per release: the servers (ip:port) seen downloading, and those already reported complete.
   * Bounded, and dropped with the release, so a churning or hostile swarm cannot grow them forever.
   */
  private readonly completions = new Map<string, { downloading: BoundedSet; completed: BoundedSet }>()
  /** Announces come every few seconds per server; a dial per announce would be a connect each time. */
  private readonly dials = new DialLimiter()
  /** Servers being probed (see dialUnfinished) by "infoHash ip": since when, and the next dial. */
  private readonly probes = new Map<string, { since: number; next: number }>()
  /** When each address turned away at the peer port was last logged. */
  private readonly refusedLogged = new Map<string, number>()
  private readonly fleet: FleetTracker
  /** New entries of the watch folders become releases (watch-folders.ts). */
  private readonly watch: WatchFolders
  /** Rollout-complete and stall hooks (settings.hooks), fire and forget. */
  private readonly hooks: HookRunner
  /** What the LAN server lists, per release, rebuilt only when the record changes (never per request). */
  private readonly publishedCache = new Map<string, { record: ReleaseRecord; release: PublishedRelease }>()
  private dashboardUrl: string | null = null
  private snapshotTimer: NodeJS.Timeout | null = null
  private retentionTimer: NodeJS.Timeout | null = null
  private closing: Promise<void> | null = null
  /** Resolves once every stored release has been checked and re-seeded (or marked as an error). */
  restored: Promise<void> = Promise.resolve()

  constructor(parts: EngineParts) {
    this.options = parts.options
    this.lock = parts.lock
    this.settingsStore = parts.settingsStore
    this.store = parts.store
    this.seeder = parts.seeder
    this.overrides = parts.overrides
    const settings = this.settings()
    this.address = resolveAddress(settings.address)
    this.tracker = new Tracker({
      intervalSeconds: settings.announceIntervalSeconds,
      isAllowed: (infoHash) => this.isPublished(infoHash),
      holdReply: (infoHash, ip, port) => this.seeder.connecting(infoHash, ip, port),
    })
    const external = settings.externalTracker
    this.external = external
      ? new ExternalTrackerLink({ config: external, seeder: () => ({ peerId: this.seeder.peerId, port: this.seeder.port }), published: () => this.whitelisted(), log: (line) => this.log(line) })
      : null
    this.fleet = new FleetTracker({ dataDir: parts.options.dataDir, resolver: parts.options.resolver ?? systemResolver, log: (line) => this.log(line), stallAfterMs: parts.options.stallAfterMs })
    this.watch = new WatchFolders({
      stateFile: path.join(parts.options.dataDir, 'watch.json'),
      folders: settings.watchFolders,
      actions: coreActions(this),
      settleMs: parts.options.watch?.settleMs,
      pollMs: parts.options.watch?.pollMs,
      log: (line) => this.log(line),
    })
    this.hooks = new HookRunner({ settings: () => this.settings().hooks, log: (line) => this.log(line) })
    this.on('release.rolloutComplete', (e) => this.hooks.fire(rolloutCompleteEvent(e)))
    this.tracker.on('announce', (ev) => this.onAnnounce(ev))
    const webSeedGate = new WebSeedGate({
      standing: (infoHash, ip) => this.seeder.standingOf(infoHash, ip),
      withinShare: (infoHash, bytes) => bytes <= WEB_SEED_SHARE * (this.store.get(infoHash)?.totalSize ?? 0),
      overlap: (infoHash, ip, span) => this.seeder.webSeedOverlap(infoHash, ip, span),
      serving: (infoHash, ip, span) => this.seeder.webSeedServing(infoHash, ip, span),
      served: (infoHash, ip, span, complete) => this.seeder.webSeedServed(infoHash, ip, span, complete),
    })
    this.seeder.holdUnchokes((infoHash, ip) => webSeedGate.answerWaiting(infoHash, ip))
    this.lan = new LanServer({
      port: settings.httpPort,
      host: parts.options.bindHost ?? bindHostFor(settings.address),
      address: this.address,
      feedKey: () => this.settings().feedKey,
      releases: () => this.publishedReleases(),
      onSourceChanged: (infoHash, err) => this.sourceChanged(infoHash, toErrorInfo(err)),
      uploadLimit: () => this.limitNow().limit,
      tracker: this.tracker,
      feedTitle: `${PRODUCT.name} releases`,
      webSeedGate,
    })
    this.lan.on('request', (log) => this.fleet.onRequest(log))
    this.seeder.on('wireClosed', (infoHash, signal) => {
      this.fleet.onWires(infoHash, [{ ...signal, rate: 0 }])
      if (signal.progress < 1 && (signal.livedMs ?? 0) >= PROBE_AFTER_WIRE_MS) this.probes.set(`${infoHash} ${normalizeIp(signal.ip)}`, { since: Date.now(), next: 0 })
    })
    this.seeder.on('wireComplete', (infoHash, signal) => this.fleet.onWires(infoHash, [signal]))
    this.seeder.on('superSeedDone', (infoHash) => {
      const record = this.store.get(infoHash)
      const uploaded = this.seeder.stats(infoHash)?.uploaded ?? 0
      if (record) this.log(`every piece of ${record.title} has reached a server after ${(uploaded / Math.max(1, record.totalSize)).toFixed(2)} copies uploaded: from now on it sends only what no connected server holds, or helps a server that stalls`)
    })
    this.seeder.on('connectionRefused', (ip, limit) => {
      const now = Date.now()
      if (now - (this.refusedLogged.get(ip) ?? -Infinity) < REFUSED_LOG_EVERY_MS) return
      if (this.refusedLogged.size >= MAX_PEERS_REMEMBERED) this.refusedLogged.clear()
      this.refusedLogged.set(ip, now)
      this.log(`peer port: refused connections from ${ip}, which already has ${limit} open. If several servers share that address (NAT), raise "Peer connections per address" in Settings (peerConnectionsPerAddress)`)
    })
    this.seeder.on('error', (infoHash, err) => {
      const record = this.store.get(infoHash)
      this.sourceChanged(infoHash, { code: 'FILE_CHANGED', message: `"${record?.title ?? infoHash}" stopped seeding. ${err.message}` })
    })
  }

  /** @internal startEngine's second step. */
  async listen(): Promise<void> {
    await this.fleet.load()
    this.syncFleetReleases()
    // An unwritable whitelist stops the start here, with the file named, not at the first publish.
    await this.external?.sync()
    await this.lan.listen()
    this.retentionTimer = setInterval(() => void this.applyRetention().catch((err: unknown) => this.log(`error: retention: ${toErrorInfo(err).message}`)), RETENTION_EVERY_MS)
    this.retentionTimer.unref()
    this.applyUploadLimit()
    this.snapshotTimer = setInterval(() => {
      // The schedule's hour may have turned: cheap to check every second.
      this.applyUploadLimit()
      this.fleetTick()
      if (this.events.listenerCount('snapshot') > 0) this.emit('snapshot', this.snapshot())
    }, SNAPSHOT_INTERVAL_MS)
    this.snapshotTimer.unref()
  }

  /** @internal startEngine's third step: re-seed the library in the background. */
  startRestoring(): void {
    for (const d of this.store.damaged) {
      this.log(`error: the release record ${d.name} is damaged (${d.reason}); ${d.keptAt ? `moved to ${d.keptAt}` : 'left in place'}. The other releases keep running.`)
    }
    const todo = this.store.all().filter((r) => r.state === 'seeding')
    for (const r of todo) this.checking.add(r.infoHash)
    this.restored = (async () => {
      for (const record of todo) await this.reseed(record)
    })()
    // Only once the library is back: a watched entry's release may have changed or gone while we were down.
    void this.restored.then(() => {
      if (!this.closing) this.watch.start()
    })
  }

  /** @internal used by startEngine when listening fails. */
  async closeTrackerOnly(): Promise<void> {
    await this.tracker.close()
  }

  get dataDir(): string {
    return this.options.dataDir
  }

  get httpPort(): number {
    return this.lan.port
  }

  get peerPort(): number {
    return this.seeder.port
  }

  /** The admin transport is started after the engine; it tells the engine its URL. */
  setDashboardUrl(url: string | null): void {
    this.dashboardUrl = url
  }

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    this.events.on(event, listener)
    return () => this.events.off(event, listener)
  }

  async handle<K extends CommandName>(command: K, request: CommandRequest<K>): Promise<CommandResponse<K>> {
    if (this.closing) throw new SwarmdropError('NOT_RUNNING', 'Swarmdrop is shutting down.')
    // Transports check a request's shape before it gets here (shared/request-validation.ts).
    const handler = this.handlers[command] as ((req: CommandRequest<K>) => Promise<CommandResponse<K>>) | undefined
    if (!handler) throw new SwarmdropError('INVALID_ARGUMENT', `Unknown command "${String(command)}".`)
    return handler(request)
  }

  private readonly handlers: { [K in CommandName]: (req: CommandRequest<K>) => Promise<CommandResponse<K>> } = {
    'snapshot.get': async () => this.snapshot(),
    'publish.preview': async (req) => this.preview(req.paths),
    'publish.start': async (req) => ({ jobId: this.startPublish(req) }),
    'publish.cancel': async (req) => {
      const job = this.jobs.get(req.jobId)
      job?.abort()
      return { cancelled: job !== undefined }
    },
    'release.pause': async (req) => this.pause(req.infoHash),
    'release.resume': async (req) => this.resume(req.infoHash),
    'release.retire': async (req) => this.retire(req.infoHash),
    'releases.pauseAll': async () => {
      const active = this.store.all().filter((r) => r.state === 'seeding')
      for (const r of active) await this.pause(r.infoHash)
      return { count: active.length }
    },
    'releases.resumeAll': async () => {
      const paused = this.store.all().filter((r) => r.state === 'paused')
      for (const r of paused) await this.resume(r.infoHash)
      return { count: paused.length }
    },
    'settings.update': async (req) => this.updateSettings(req),
    'settings.generateFeedKey': async () => this.updateSettings({ feedKey: generateFeedKey() }),
    'fleet.get': async () => this.fleet.rows(),
    'fleet.server': async (req) => this.fleet.server(req.ip),
    'fleet.roster.set': async (req) => this.fleet.setRoster(req.servers),
    'fleet.rename': async (req) => this.fleet.rename(req.ip, req.name),
    'releases.retireOld': async (req) => ({
      retired: await this.retireAll(
        retentionPlan(this.store.all(), this.channelNames().filter((c) => req.channel === undefined || c === req.channel).map((channel) => ({ channel, keepLast: req.keepLast ?? null, olderThanDays: req.olderThanDays ?? null })), Date.now()),
      ),
    }),
  }

  settings(): Settings {
    return { ...DEFAULT_SETTINGS, ...this.settingsStore.settings, ...this.overrides }
  }

  endpoints(): Endpoints {
    return {
      address: this.address,
      httpPort: this.lan.port,
      peerPort: this.peerPort,
      feedUrl: this.lan.urls.feed(),
      channels: this.channelNames().map((name) => ({ name, feedUrl: this.lan.urls.feed(name) })),
      announceUrls: this.external?.announceUrls() ?? this.lan.urls.announce(),
      dashboardUrl: this.dashboardUrl,
    }
  }

  snapshot(): Snapshot {
    const records = this.store.all()
    const swarms: SwarmStats[] = []
    const peers: PeerInfo[] = []
    for (const r of records) {
      const s = this.seeder.stats(r.infoHash)
      if (s) swarms.push(s)
      peers.push(...this.seeder.peers(r.infoHash))
    }
    return {
      at: Date.now(),
      releases: records.map((r) => this.summary(r)),
      uploadLimitNow: this.limitNow(),
      damagedReleases: this.store.damaged,
      rollouts: this.rollouts(),
      swarms,
      peers,
      settings: this.settings(),
      endpoints: this.endpoints(),
      watchFolders: this.watch.status(),
    }
  }

  /** Stops seeding cleanly (stopped announces go out), closes the ports and releases the lock. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.snapshotTimer) clearInterval(this.snapshotTimer)
      await this.hooks.close()
      if (this.retentionTimer) clearInterval(this.retentionTimer)
      await this.watch.stop()
      for (const job of this.jobs.values()) job.abort()
      await this.fleet.close()
      await this.restored.catch(() => undefined)
      await this.seeder.close()
      await this.lan.close()
      await this.tracker.close()
      await this.lock.release()
      this.events.removeAllListeners()
    })()
    return this.closing
  }

  // --- publishing -------------------------------------------------------------------------

  private async preview(paths: string[]): Promise<PublishPreview> {
    const source = await scanSources(somePaths(paths), defaultReleaseName(paths))
    const warnings: string[] = []
    const empty = source.files.filter((f) => f.length === 0).length
    if (empty > 0) warnings.push(`${empty} empty file(s) will be created on the servers but carry no data.`)
    return {
      name: source.name,
      files: source.files.map((f) => ({ path: [source.name, ...f.path].join('/'), length: f.length })),
      fileCount: source.files.length,
      totalSize: source.totalSize,
      pieceLength: choosePieceLength(source.totalSize),
      warnings,
    }
  }

  private startPublish(req: PublishRequest): string {
    const input = somePaths(req.paths)
    // The channel goes into a feed URL and into the stored record: checked here too, for callers
    // inside the process (the tray, tests) that no transport stands in front of.
    if (req.channel !== undefined) validateRequest('publish.start', { paths: req.paths, channel: req.channel })
    const jobId = randomUUID()
    const abort = new AbortController()
    this.jobs.set(jobId, abort)
    void this.runPublish(jobId, input, req, abort.signal).finally(() => this.jobs.delete(jobId))
    return jobId
  }

  private async runPublish(jobId: string, input: string[], req: PublishRequest, signal: AbortSignal): Promise<void> {
    let lastProgress = 0
    try {
      const created = await createTorrent(input, {
        // Several paths go under a folder named after the release.
        name: req.name ?? (input.length > 1 ? defaultReleaseName(input) : undefined),
        pieceLength: req.pieceLength,
        private: req.private ?? true,
        comment: req.comment,
        signal,
        onProgress: (p) => {
          const now = Date.now()
          if (now - lastProgress < PROGRESS_INTERVAL_MS && p.hashedBytes < p.totalBytes) return
          lastProgress = now
          const left = p.totalBytes - p.hashedBytes
          this.emit('publish.progress', { jobId, hashedBytes: p.hashedBytes, totalBytes: p.totalBytes, rate: p.rate, etaSeconds: p.rate > 0 ? left / p.rate : 0 })
        },
      })
      if (signal.aborted) throw new SwarmdropError('CANCELLED', 'Publishing was cancelled.')
      const existing = this.store.get(created.infoHash)
      if (existing && existing.state !== 'retired') {
        this.emit('publish.done', { jobId, release: this.summary(existing) })
        return
      }
      const now = new Date()
      const record = newReleaseRecord(created, {
        title: req.name ?? created.name,
        channel: req.channel ?? DEFAULT_CHANNEL,
        comment: req.comment ?? null,
        // On unless asked otherwise: with a web seed in the .torrent aria2 starts about a second
        // sooner (its HTTP request wakes its event loop, so it announces and takes our dial at
        // once), and Transmission 3.00 has something to fetch before its first 10 s pulse. The gate
        // (web-seed-gate.ts) keeps clients that BitTorrent feeds off it.
        webSeed: req.webSeed ?? true,
        publishedAt: now,
        createdAt: existing?.createdAt,
      })
      // The tracker must accept the seeder's first announce, and the feed may list the release
      // only once it is seeding and its .torrent is served (qBittorrent never retries a fetch).
      this.starting.add(record.infoHash)
      try {
        await this.seedRecord(record)
        await this.store.put(record)
      } finally {
        this.starting.delete(record.infoHash)
      }
      this.problems.delete(record.infoHash)
      this.lan.releasesChanged()
      // Its first announces arrive at once: the fleet view must already have its column.
      this.syncFleetReleases()
      this.log(`published ${record.title} (${record.infoHash})`)
      await this.applyRetention()
      this.emit('publish.done', { jobId, release: this.summary(record) })
    } catch (err) {
      const error = toErrorInfo(err)
      this.log(`publish failed: ${error.code}: ${error.message}`)
      this.emit('publish.error', { jobId, error })
    }
  }

  private async seedRecord(record: ReleaseRecord): Promise<void> {
    // The seeder's first announce must be accepted: refused, it would not retry for the tracker's interval.
    await this.external?.allow(record.infoHash)
    await this.seeder.seed({
      infoHash: record.infoHash,
      torrent: this.torrentOf(record),
      pieceLength: record.pieceLength,
      files: record.source.files.map((f) => ({ absPath: absPathOf(record, f), length: f.length, mtimeMs: f.mtimeMs, ino: f.ino })),
      path: record.source.isDirectory ? record.source.root : path.dirname(record.source.root),
      pieceHashes: pieceHashesOf(record),
    })
    this.dialKnownPeers(record.infoHash)
  }

  /**
   * Servers still fetching a release but no longer connected to us: a super-seeded server gets
   * its last pieces from the others and may drop us first, and one that never announces its
   * completion (rTorrent) would then stay "downloading" until its next announce, ten minutes on.
   * A dial shows its bitfield (and a finished one hangs up right after it), so its progress is
   * known within a dial window. The limiter keeps this to one dial per server per window.
   *
   * Except while a server is probed, after it dropped a long-lived wire unfinished: then it is
   * dialled every tick at first, and every few seconds after (PROBE_*). rTorrent closes its wire
   * to us (a seeder) the moment it has every piece, before its last HAVEs go out, and resets our
   * connections until it has checked and flushed the data (1-4 s here); once it dropped us at
   * 72 % and took us back only when done. One dial per window, or webtorrent's retries 1 s and 5 s
   * later, saw it complete up to 4.6 s after it finished, or a whole window later.
   */
  private dialUnfinished(infoHash: string, now: number): void {
    const unfinished = this.fleet.model.knownPeers(infoHash, true)
    // A wire a server has gone silent on is dropped, and the server probed as for any long-lived
    // wire it dropped itself: only servers we can dial back (their listen port is known).
    const dialable = new Set(unfinished.map((p) => normalizeIp(p.ip)))
    this.seeder.dropSilent(infoHash, (ip) => dialable.has(ip))
    for (const p of unfinished) {
      const dial = (): boolean => this.seeder.dial(infoHash, p.ip, p.port, p.peerId)
      const probe = this.probes.get(`${infoHash} ${normalizeIp(p.ip)}`)
      if (!probe) {
        this.dials.attempt(infoHash, p.ip, p.port, dial)
      } else if (now >= probe.next) {
        dial()
        probe.next = now + (now - probe.since < PROBE_FAST_MS ? 0 : PROBE_SLOW_EVERY_MS)
      }
    }
  }

  /**
   * With an external tracker no server announces to us, so no announce tells us its listen port
   * or that it finished: ask the tracker who is in the swarm, now and then, so dialUnfinished can
   * dial them and read their bitfields (a finished server shows a full one and hangs up).
   */
  private listExternalSwarm(infoHash: string): void {
    const external = this.external
    if (!external) return
    const last = this.externalListing.get(infoHash) ?? 0
    if (Date.now() - last < EXTERNAL_LISTING_EVERY_MS) return
    this.externalListing.set(infoHash, Infinity)
    void external
      .peers(infoHash)
      .then((peers) => {
        for (const p of peers) this.fleet.model.listed(infoHash, p.ip, p.port)
      })
      .catch(() => undefined)
      .finally(() => {
        if (this.seeder.isSeeding(infoHash)) this.externalListing.set(infoHash, Date.now())
        else this.externalListing.delete(infoHash)
      })
  }

  /** After a restart, servers already in the swarm announce again; dial the ones we already know. */
  private dialKnownPeers(infoHash: string): void {
    for (const p of this.tracker.peers(infoHash)) {
      if (p.peerId !== this.seeder.peerId && !p.complete) this.seeder.dial(infoHash, p.ip, p.port)
    }
    // After a restart the tracker knows nobody yet; the fleet's history does.
    for (const p of this.fleet.model.knownPeers(infoHash)) this.seeder.dial(infoHash, p.ip, p.port, p.peerId)
  }

  private async reseed(record: ReleaseRecord): Promise<void> {
    this.checking.add(record.infoHash)
    try {
      const outcome = await checkRelease(record)
      if (!outcome.ok) {
        this.problems.set(record.infoHash, toErrorInfo(outcome.error))
        this.log(`error: ${outcome.error.message}`)
        return
      }
      let current = record
      if (outcome.rehashed) {
        current = await this.store.update(record.infoHash, { source: { ...record.source, files: outcome.files } })
        this.log(`re-verified ${record.title}: content unchanged`)
      }
      if (this.closing || this.store.get(record.infoHash)?.state !== 'seeding') return
      await this.seedRecord(current)
      this.problems.delete(record.infoHash)
    } catch (err) {
      this.problems.set(record.infoHash, toErrorInfo(err))
    } finally {
      this.checking.delete(record.infoHash)
    }
  }

  // --- release commands -------------------------------------------------------------------

  private async pause(infoHash: string): Promise<ReleaseSummary> {
    const record = this.store.require(infoHash)
    if (record.state === 'retired') throw new SwarmdropError('INVALID_ARGUMENT', `"${record.title}" is retired; publish it again to seed it.`)
    await this.seeder.remove(record.infoHash)
    return this.summary(await this.store.update(record.infoHash, { state: 'paused' }))
  }

  private async resume(infoHash: string): Promise<ReleaseSummary> {
    const record = this.store.require(infoHash)
    if (record.state === 'retired') throw new SwarmdropError('INVALID_ARGUMENT', `"${record.title}" is retired; publish it again to seed it.`)
    const updated = record.state === 'seeding' ? record : await this.store.update(record.infoHash, { state: 'seeding' })
    if (!this.seeder.isSeeding(record.infoHash)) await this.reseed(updated)
    return this.summary(this.store.require(infoHash))
  }

  private async retire(infoHash: string): Promise<ReleaseSummary> {
    const record = this.store.require(infoHash)
    if (record.state === 'retired') return this.summary(record)
    const updated = await this.store.update(record.infoHash, { state: 'retired' })
    await this.seeder.remove(record.infoHash)
    this.problems.delete(record.infoHash)
    this.completions.delete(record.infoHash)
    this.externalListing.delete(record.infoHash)
    this.publishedCache.delete(record.infoHash)
    this.fleet.forgetRelease(record.infoHash)
    this.syncFleetReleases()
    this.lan.releasesChanged()
    await this.external?.sync().catch((err: unknown) => this.log(`error: ${toErrorInfo(err).message}`))
    this.log(`retired ${record.title} (${record.infoHash})`)
    return this.summary(updated)
  }

  private async updateSettings(patch: Partial<Settings>): Promise<SettingsUpdateResult> {
    const valid = validateSettings(patch)
    const before = this.settings()
    await this.settingsStore.update(valid)
    // An explicit change wins over this run's command-line override for the same key.
    const overrides = { ...this.overrides }
    for (const key of Object.keys(valid) as (keyof Settings)[]) delete overrides[key]
    this.overrides = overrides
    const after = this.settings()
    const restartRequired: (keyof Settings)[] = []
    for (const key of Object.keys(valid) as (keyof Settings)[]) {
      if (before[key] === after[key]) continue
      if (!LIVE_SETTINGS.includes(key)) restartRequired.push(key)
    }
    if (before.announceIntervalSeconds !== after.announceIntervalSeconds) this.tracker.setInterval(after.announceIntervalSeconds)
    this.applyUploadLimit()
    this.seeder.connectionsPerAddress = after.peerConnectionsPerAddress
    if (valid.watchFolders !== undefined) this.watch.setFolders(after.watchFolders)
    if (before.feedKey !== after.feedKey) {
      this.torrentCache.clear()
      this.lan.releasesChanged()
    }
    return { settings: after, restartRequired }
  }

  // --- derived views ----------------------------------------------------------------------

  /** What the external tracker's whitelist holds: what our own tracker accepts (isPublished). */
  private whitelisted(): string[] {
    const out = new Set(this.starting)
    for (const r of this.store.all()) if (r.state !== 'retired') out.add(r.infoHash)
    return [...out]
  }

  private isPublished(infoHash: string): boolean {
    if (this.starting.has(infoHash)) return true
    const r = this.store.get(infoHash)
    return r !== undefined && r.state !== 'retired'
  }

  private stateOf(record: ReleaseRecord): ReleaseState {
    if (record.state === 'retired') return 'retired'
    if (this.problems.has(record.infoHash)) return 'error'
    if (record.state === 'paused') return 'paused'
    if (this.checking.has(record.infoHash)) return 'hashing'
    return this.seeder.isSeeding(record.infoHash) ? 'seeding' : 'error'
  }

  private summary(record: ReleaseRecord): ReleaseSummary {
    const state = this.stateOf(record)
    return {
      infoHash: record.infoHash,
      name: record.title,
      channel: record.channel,
      comment: record.comment,
      private: record.private,
      state,
      error: state === 'error' ? (this.problems.get(record.infoHash) ?? { code: 'INTERNAL', message: `"${record.title}" is not seeding.` }) : null,
      totalSize: record.totalSize,
      pieceLength: record.pieceLength,
      pieceCount: record.pieceCount,
      fileCount: record.source.files.length,
      createdAt: record.createdAt,
      torrentUrl: this.lan.urls.torrent(record.infoHash),
      magnet: magnetUri(record.infoHash, record.name, this.endpoints().announceUrls),
      webSeedUrl: record.webSeed ? this.lan.urls.webSeed(record.infoHash) : null,
    }
  }

  /**
   * What the LAN server lists and serves: every release that is seeding right now, newest first.
   * A paused, errored or retired release is in neither the feed nor the web seed. Each entry (with
   * its file list) is built once per record, so a request costs the number of releases, not files.
   */
  private publishedReleases(): PublishedRelease[] {
    const out: PublishedRelease[] = []
    for (const r of this.store.all()) {
      if (this.stateOf(r) !== 'seeding') continue
      let cached = this.publishedCache.get(r.infoHash)
      if (!cached || cached.record !== r) {
        cached = { record: r, release: this.toPublished(r) }
        this.publishedCache.set(r.infoHash, cached)
      }
      out.push(cached.release)
    }
    return out.reverse()
  }

  /** The upload limit in force now: the schedule's alternative limit in its hours, else the normal one. */
  private limitNow(): LimitInForce {
    return limitInForce(this.settings(), new Date((this.options.now ?? Date.now)()))
  }

  private appliedLimit: number | null = null
  private webSeedSample = { at: Date.now(), bytes: 0 }

  /**
   * One limit for BitTorrent and the web seed together: the web seed takes what it needs of it (it
   * reads the limit on every chunk), and BitTorrent gets the rest, re-set every second from what
   * the web seed sent in the last one (never below a tenth, so neither side starves).
   */
  private applyUploadLimit(): void {
    const { limit } = this.limitNow()
    const now = Date.now()
    const bytes = this.lan.webSeedBytes
    const seconds = Math.max(0.001, (now - this.webSeedSample.at) / 1000)
    const webSeedRate = (bytes - this.webSeedSample.bytes) / seconds
    this.webSeedSample = { at: now, bytes }
    const forBitTorrent = limit > 0 ? Math.max(Math.round(limit / 10), Math.round(limit - webSeedRate)) : 0
    if (forBitTorrent === this.appliedLimit) return
    this.appliedLimit = forBitTorrent
    this.seeder.setUploadLimit(forBitTorrent)
  }

  /** The settings' retention rules, now: after each publish and once an hour. */
  private async applyRetention(): Promise<void> {
    const rules = this.settings().retention
    if (rules.length === 0) return
    const retired = await this.retireAll(retentionPlan(this.store.all(), rules, Date.now()))
    for (const r of retired) this.log(`retention: retired ${r.name} (its files stay where they are)`)
  }

  private async retireAll(infoHashes: string[]): Promise<ReleaseSummary[]> {
    const out: ReleaseSummary[] = []
    for (const infoHash of infoHashes) out.push(await this.retire(infoHash))
    return out
  }

  /** The default channel, then every other one that has a release not retired, by name. */
  private channelNames(): string[] {
    const names = new Set(this.store.all().filter((r) => r.state !== 'retired').map((r) => r.channel))
    names.delete(DEFAULT_CHANNEL)
    return [DEFAULT_CHANNEL, ...[...names].sort()]
  }

  private toPublished(r: ReleaseRecord): PublishedRelease {
    return {
      infoHash: r.infoHash,
      title: r.title,
      channel: r.channel,
      publishedAt: new Date(r.publishedAt),
      name: r.name,
      isDirectory: r.source.isDirectory,
      files: r.source.files.map((f) => ({ path: f.path, absPath: absPathOf(r, f), length: f.length, mtimeMs: f.mtimeMs, ino: f.ino })),
      totalSize: r.totalSize,
      torrent: () => this.torrentOf(r),
      magnet: magnetUri(r.infoHash, r.name, this.endpoints().announceUrls),
    }
  }

  /** The releases the fleet view has columns for: every one not retired. */
  private syncFleetReleases(): void {
    this.fleet.setReleases(
      this.store
        .all()
        .filter((r) => r.state !== 'retired')
        .map((r) => ({ infoHash: r.infoHash, totalSize: r.totalSize, publishedAt: Date.parse(r.publishedAt) })),
    )
  }

  private rollouts(): RolloutSummary[] {
    const out: RolloutSummary[] = []
    for (const r of this.store.all()) {
      if (r.state === 'retired') continue
      const summary = this.fleet.model.summary(r.infoHash, this.seeder.stats(r.infoHash)?.uploaded ?? 0)
      if (summary) out.push(summary)
    }
    return out
  }

  /** Once a second: wires into the fleet, then what changed to every UI. */
  private fleetTick(): void {
    this.syncFleetReleases()
    const now = Date.now()
    for (const [key, probe] of this.probes) if (now - probe.since >= PROBE_FOR_MS) this.probes.delete(key)
    for (const r of this.store.all()) {
      if (!this.seeder.isSeeding(r.infoHash)) continue
      this.fleet.onWires(r.infoHash, this.seeder.wireSignals(r.infoHash))
      this.listExternalSwarm(r.infoHash)
      this.dialUnfinished(r.infoHash, now)
    }
    const { changed, completed, stalled } = this.fleet.tick(() => this.rollouts())
    if (changed) this.emit('fleet.changed', changed)
    for (const s of completed) {
      const record = this.store.get(s.infoHash)
      if (!record) continue
      const tookMs = s.lastCompletionMs ?? 0
      this.log(`${record.title} reached all ${s.expected} expected server(s) in ${Math.round(tookMs / 1000)} s`)
      this.emit('release.rolloutComplete', { infoHash: s.infoHash, name: record.title, servers: s.expected, tookMs })
    }
    for (const s of stalled) {
      const record = this.store.get(s.infoHash)
      if (!record) continue
      this.log(`${s.name} stalled on ${record.title} at ${Math.floor(s.percent * 100)}% (no progress for ${Math.round(s.stalledForMs / 1000)} s)`)
      this.hooks.fire(stalledEvent(record.title, s))
    }
  }

  /** A served file is not what was published: stop the release before anything wrong goes out. */
  private sourceChanged(infoHash: string, err: ErrorInfo): void {
    const record = this.store.get(infoHash)
    if (!record || this.problems.has(infoHash)) return
    this.problems.set(infoHash, err)
    this.log(`error: ${record.title} stopped seeding: ${err.message}`)
    void this.seeder.remove(infoHash)
    this.lan.releasesChanged()
  }

  /** The .torrent as served now: the fixed info bytes inside the current announce URLs. */
  private torrentOf(record: ReleaseRecord): Buffer {
    const announce = this.endpoints().announceUrls
    const webSeed = record.webSeed ? this.lan.urls.webSeed(record.infoHash) : null
    const key = `${announce.join(' ')} ${webSeed ?? ''} ${record.comment ?? ''}`
    const cached = this.torrentCache.get(record.infoHash)
    if (cached && cached.key === key) return cached.torrent
    const torrent = encodeTorrent(infoBytes(record), {
      announce: announce.map((url) => [url]),
      urlList: webSeed ? [webSeed] : undefined,
      comment: record.comment,
      createdBy: `${PRODUCT.name} ${PRODUCT.version}`,
      creationDate: record.creationDate,
    })
    this.torrentCache.set(record.infoHash, { key, torrent })
    return torrent
  }

  private onAnnounce(ev: AnnounceEvent): void {
    if (ev.peerId === this.seeder.peerId) return
    const record = this.store.get(ev.infoHash)
    if (!record || record.state === 'retired') return
    this.fleet.onAnnounce(ev)
    let memory = this.completions.get(ev.infoHash)
    if (!memory) this.completions.set(ev.infoHash, (memory = { downloading: new BoundedSet(MAX_PEERS_REMEMBERED), completed: new BoundedSet(MAX_PEERS_REMEMBERED) }))
    const key = `${ev.ip}:${ev.port}`
    if (ev.left > 0) memory.downloading.add(key)
    // aria2 with --seed-time=0 never sends "completed": it goes straight to "stopped" with left=0.
    // A server we saw downloading that now reports nothing left has completed all the same.
    const finished = ev.event === 'completed' || (ev.left === 0 && memory.downloading.has(key))
    if (finished) {
      if (!memory.completed.has(key)) {
        memory.completed.add(key)
        memory.downloading.delete(key)
        this.log(`${ev.ip} completed ${record.title}`)
        this.emit('release.completedByServer', { infoHash: ev.infoHash, name: record.title, ip: ev.ip, hostname: null })
      }
      return
    }
    // Dial each server that still needs pieces over TCP now: no wait for its uTP attempt, and
    // Transmission (which never dials loopback peers) gets connected too.
    if (ev.event !== 'stopped' && ev.left !== 0 && this.seeder.isSeeding(ev.infoHash)) this.dials.attempt(ev.infoHash, ev.ip, ev.port, () => this.seeder.dial(ev.infoHash, ev.ip, ev.port, ev.peerId))
  }

  private emit<E extends EventName>(event: E, payload: Events[E]): void {
    this.events.emit(event, payload)
  }

  private log(line: string): void {
    this.options.log?.(line)
  }
}

function somePaths(paths: string[]): string[] {
  if (!Array.isArray(paths) || paths.length === 0) throw new SwarmdropError('INVALID_ARGUMENT', 'Nothing to publish: give a file or a folder, or several.')
  return paths
}

/** Several paths without a name: the release is called after the first, "app-and-2-more". */
function defaultReleaseName(paths: string[]): string {
  const first = path.basename(paths[0] ?? 'release')
  return paths.length > 1 ? `${first}-and-${paths.length - 1}-more` : first
}

/** A set that forgets its oldest entries beyond `max` (insertion order is Set iteration order). */
class BoundedSet {
  private readonly items = new Set<string>()
  constructor(private readonly max: number) {}

  has(key: string): boolean {
    return this.items.has(key)
  }

  add(key: string): void {
    if (this.items.has(key)) return
    this.items.add(key)
    if (this.items.size > this.max) this.items.delete(this.items.values().next().value as string)
  }

  delete(key: string): void {
    this.items.delete(key)
  }
}

/**
 * An address the user set as an IP literal is also where the LAN server listens (asked for
 * 127.0.0.1, nothing else on the LAN may reach it); a host name or the automatic LAN address
 * listens on every interface, since the name may resolve to any of them.
 */
function bindHostFor(configured: string | null): string {
  if (configured === null) return '0.0.0.0'
  const literal = configured.replace(/^\[(.*)\]$/, '$1')
  return isIP(literal) ? literal : '0.0.0.0'
}
