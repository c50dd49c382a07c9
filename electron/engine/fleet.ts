/**
 * The fleet: which server has which release, read from what the servers' own BitTorrent clients
 * already do (no agent on them). Five signals, each keyed by the server's IP (IPv4-mapped
 * addresses normalised, so one server's wires, announces and HTTP requests meet):
 *   feed polls (RSS readers) · .torrent fetches (picked up) · tracker announces (left, event,
 *   peer id; covers servers that only download from each other) · the seeder's wires (exact live
 *   progress and bytes we sent) · web-seed requests (bytes over HTTP).
 * Completion comes from the wire (a full bitfield) as well as from announces: rTorrent 0.9.8
 * never announces "completed".
 *
 * Pure bookkeeping with an injected clock: the engine feeds it and persists `toJSON()`. Every
 * change bumps a version, so a UI gets only the rows that changed (5,000 servers × 20 releases
 * is too much to resend each second).
 */
import type { FleetCell, FleetRow, ProgressState, RolloutSummary, TimelineEntry } from '../../shared/contract.js'
import { normalizeIp } from './ip-address.js'
import { peerClient } from './peer-client.js'

/** No progress for this long while downloading: stalled. */
export const STALL_AFTER_MS = 5 * 60_000
/** A poll after this much silence goes into the timeline again. */
const POLL_SILENCE_MS = 3600_000
/** Events kept per server for its timeline. */
const TIMELINE_LIMIT = 200
/** Servers not seen for this long, and not on the roster, are forgotten. */
const FORGET_AFTER_MS = 90 * 24 * 3600_000
/** A fleet bigger than this is not a LAN fleet; the oldest unlisted servers make room. */
const MAX_SERVERS = 50_000

/** The cell a UI sees, plus what the bookkeeping needs and never sends. */
interface Progress extends FleetCell {
  lastProgressAt: number | null
  /** The announcing client's port; a "stopped" from it before completion means gone. */
  port: number | null
  /** Its peer id from the last announce (not kept across restarts): tells its wire from others on one host. */
  peerId?: string
}

interface Server {
  ip: string
  name: string | null
  hostname: string | null
  expected: boolean
  clients: Set<string>
  firstSeen: number | null
  lastSeen: number | null
  lastFeedPoll: number | null
  lastAnnounce: number | null
  progress: Map<string, Progress>
  timeline: TimelineEntry[]
  version: number
}

export interface ReleaseInfo {
  infoHash: string
  totalSize: number
  publishedAt: number
}

/** What is persisted: enough to keep completions, first/last seen and the roster across restarts. */
export interface FleetState {
  version: 1
  servers: {
    ip: string
    name: string | null
    expected: boolean
    clients: string[]
    firstSeen: number | null
    lastSeen: number | null
    lastFeedPoll: number | null
    /** Kept so a server that announced before a restart is not taken for a firewalled one after it. */
    lastAnnounce?: number | null
    /** Where its client listened for each release, so a restarted publisher can reconnect at once. */
    ports?: { infoHash: string; port: number }[]
    completions: { infoHash: string; completedAt: number }[]
  }[]
}

export interface AnnounceSignal {
  infoHash: string
  ip: string
  port: number
  peerId: string
  event: 'started' | 'completed' | 'stopped' | 'update'
  left: number
  downloaded: number
}

/** A download that has just turned stalled. */
export interface StallSignal {
  ip: string
  /** As in the fleet view: the user's name, else the reverse-DNS name, else the IP. */
  name: string
  infoHash: string
  percent: number
  /** How long since its last progress. */
  stalledForMs: number
}

export interface WireSignal {
  ip: string
  peerId: string | null
  /** 0..1 from the peer's bitfield. */
  progress: number
  /** Bytes per second the peer downloads from us. */
  rate: number
  /** Bytes we sent to it over this wire. */
  uploaded: number
  /** Tells this connection from any other, the same server's included, while the seeder runs. */
  wire: number
  /** The wire's last signal: it has just closed. */
  closed?: boolean
  /** On that last signal: how long the wire was up. */
  livedMs?: number
  /** We are choking it: it may not fetch from us (only before it says interested). */
  choked?: boolean
}

export class FleetModel {
  private readonly servers = new Map<string, Server>()
  private readonly releases = new Map<string, ReleaseInfo>()
  private version = 0
  /** Bytes sent over wires so far this run, per server and release (wires come and go). */
  private readonly wireBytes = new Map<string, number>()
  /** Bytes the web seed sent so far this run, per release: they count towards its copies uploaded. */
  private readonly webSeedBytes = new Map<string, number>()

  /** `stallAfterMs` is injectable so tests (and the engine's option) need not wait five minutes. */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly stallAfterMs: number = STALL_AFTER_MS,
  ) {}

  get currentVersion(): number {
    return this.version
  }

  // --- what the engine tells us -------------------------------------------------------------

  setReleases(releases: ReleaseInfo[]): void {
    const before = [...this.releases.keys()].join(' ')
    this.releases.clear()
    for (const r of releases) this.releases.set(r.infoHash, r)
    for (const key of this.wireBytes.keys()) if (!this.releases.has(key.slice(0, key.indexOf(' ')))) this.wireBytes.delete(key)
    // Every row gains or loses a column: all of them are news to a UI.
    if ([...this.releases.keys()].join(' ') !== before) for (const s of this.servers.values()) this.changed(s)
  }

  feedPolled(ip: string, userAgent: string | null): void {
    const s = this.server(ip)
    const at = this.now()
    // Polls come every minute: the timeline notes the first, and the first after a silence.
    if (s.lastFeedPoll === null || at - s.lastFeedPoll > POLL_SILENCE_MS) this.note(s, { at, kind: 'polled', infoHash: null, percent: null })
    s.lastFeedPoll = at
    this.seen(s, at, userAgent ? clientOfUserAgent(userAgent) : null)
    this.changed(s)
  }

  torrentFetched(ip: string, infoHash: string, userAgent: string | null): void {
    const s = this.server(ip)
    const at = this.now()
    this.seen(s, at, userAgent ? clientOfUserAgent(userAgent) : null)
    const p = this.cell(s, infoHash)
    if (p.state === 'not-seen' || p.state === 'polled') {
      p.state = 'picked-up'
      this.note(s, { at, kind: 'fetched', infoHash, percent: null })
    }
    this.changed(s)
  }

  /**
   * An external tracker lists this server in a release's swarm, at this listen port. It never
   * announces to us, so this port is how the engine dials it to read its bitfield (knownPeers).
   */
  listed(infoHash: string, ip: string, port: number): void {
    if (!this.releases.has(infoHash)) return
    const known = this.servers.has(normalizeIp(ip))
    const s = this.server(ip)
    this.cell(s, infoHash).port = port
    if (!known) this.changed(s)
  }

  announced(a: AnnounceSignal): void {
    const release = this.releases.get(a.infoHash)
    if (!release) return
    const s = this.server(a.ip)
    const at = this.now()
    s.lastAnnounce = at
    const { client, version } = peerClient(a.peerId)
    this.seen(s, at, client === 'unknown' ? null : `${client}${version ? ` ${version}` : ''}`)
    const p = this.cell(s, a.infoHash)
    p.port = a.port
    p.peerId = a.peerId
    const percent = release.totalSize > 0 ? Math.max(0, Math.min(1, (release.totalSize - a.left) / release.totalSize)) : 0
    if (a.event === 'completed' || (a.left === 0 && p.state !== 'complete')) {
      this.complete(s, a.infoHash, p, at)
    } else if (a.event === 'stopped') {
      if (p.state !== 'complete') {
        p.state = 'gone'
        p.rate = 0
        this.note(s, { at, kind: 'stopped', infoHash: a.infoHash, percent: p.percent })
      }
    } else if (p.state !== 'complete') {
      this.progressTo(s, a.infoHash, p, percent, at)
    }
    // What it took from others: all it downloaded, less what we sent it (never below the
    // estimate made when it completed).
    p.fromOthers = Math.max(p.state === 'complete' ? p.fromOthers : 0, a.downloaded - p.fromPublisher)
    this.changed(s)
  }

  /** The seeder's wires for one release, sampled about once a second. */
  wires(infoHash: string, wires: WireSignal[]): void {
    if (!this.releases.has(infoHash)) return
    const at = this.now()
    const byIp = new Map<string, WireSignal[]>()
    for (const w of wires) {
      const ip = normalizeIp(w.ip)
      byIp.set(ip, [...(byIp.get(ip) ?? []), w])
    }
    for (const [ip, list] of byIp) {
      const s = this.server(ip)
      const first = list[0] as WireSignal
      const { client, version } = peerClient(first.peerId)
      this.seen(s, at, client === 'unknown' ? null : `${client}${version ? ` ${version}` : ''}`)
      const p = this.cell(s, infoHash)
      const progress = Math.max(...list.map((w) => w.progress))
      const rate = list.reduce((sum, w) => sum + w.rate, 0)
      // Each wire's counter only grows, so its growth since the last sample is what it carried;
      // a server with two wires, or one that reconnects, is then never counted twice.
      for (const w of list) {
        const key = `${infoHash} ${w.wire}`
        const before = this.wireBytes.get(key) ?? 0
        if (w.uploaded > before) p.fromPublisher += w.uploaded - before
        if (w.closed) this.wireBytes.delete(key)
        else this.wireBytes.set(key, Math.max(before, w.uploaded))
      }
      const rateChanged = p.rate !== rate
      p.rate = rate
      if (p.state === 'complete') {
        if (rateChanged) this.changed(s)
        continue
      }
      if (progress >= 1) this.complete(s, infoHash, p, at)
      else this.progressTo(s, infoHash, p, progress, at)
      this.changed(s)
    }
  }

  webSeedServed(ip: string, infoHash: string, bytes: number): void {
    if (!this.releases.has(infoHash) || bytes <= 0) return
    this.webSeedBytes.set(infoHash, (this.webSeedBytes.get(infoHash) ?? 0) + bytes)
    const s = this.server(ip)
    const at = this.now()
    this.seen(s, at, null)
    const p = this.cell(s, infoHash)
    p.fromPublisher += bytes
    if (p.state === 'not-seen' || p.state === 'polled' || p.state === 'picked-up') {
      p.state = 'downloading'
      p.startedAt ??= at
      p.lastProgressAt = at
      this.note(s, { at, kind: 'started', infoHash, percent: p.percent })
    }
    this.changed(s)
  }

  /**
   * Marks downloads with no progress for `stallAfterMs` as stalled; call every few seconds.
   * Returns the cells that turned stalled in this call (the engine's stall hook).
   */
  tick(): StallSignal[] {
    const at = this.now()
    const stalled: StallSignal[] = []
    for (const s of this.servers.values()) {
      for (const [infoHash, p] of s.progress) {
        if (p.state === 'downloading' && p.lastProgressAt !== null && at - p.lastProgressAt > this.stallAfterMs) {
          p.state = 'stalled'
          p.rate = 0
          this.note(s, { at, kind: 'stalled', infoHash, percent: p.percent })
          this.changed(s)
          stalled.push({ ip: s.ip, name: s.name ?? s.hostname ?? s.ip, infoHash, percent: p.percent, stalledForMs: at - p.lastProgressAt })
        }
      }
    }
    return stalled
  }

  // --- the roster -------------------------------------------------------------------------

  /** The expected servers, by IP (host names are resolved by the caller); replaces the roster. */
  setRoster(entries: { ip: string; name: string | null }[]): void {
    const wanted = new Map(entries.map((e) => [normalizeIp(e.ip), e.name]))
    for (const s of this.servers.values()) {
      if (s.expected && !wanted.has(s.ip)) {
        s.expected = false
        this.changed(s)
      }
    }
    for (const [ip, name] of wanted) {
      const s = this.server(ip)
      s.expected = true
      if (name) s.name = name
      this.changed(s)
    }
  }

  rename(ip: string, name: string | null): void {
    const s = this.servers.get(normalizeIp(ip))
    if (!s) return
    s.name = name
    this.changed(s)
  }

  setHostname(ip: string, hostname: string | null): void {
    const s = this.servers.get(normalizeIp(ip))
    if (!s || s.hostname === hostname) return
    s.hostname = hostname
    this.changed(s)
  }

  /** Forgets a retired release everywhere. */
  forgetRelease(infoHash: string): void {
    for (const s of this.servers.values()) if (s.progress.delete(infoHash)) this.changed(s)
  }

  // --- views -----------------------------------------------------------------------------

  rows(): FleetRow[] {
    return [...this.servers.values()].map((s) => this.row(s))
  }

  /** Rows changed after `version`: what a UI needs to stay current. */
  changedSince(version: number): FleetRow[] {
    const out: FleetRow[] = []
    for (const s of this.servers.values()) if (s.version > version) out.push(this.row(s))
    return out
  }

  row(s: Server): FleetRow {
    const cells: Record<string, FleetCell> = {}
    for (const infoHash of this.releases.keys()) {
      const p = s.progress.get(infoHash)
      const state: ProgressState = p?.state ?? (s.lastFeedPoll !== null ? 'polled' : 'not-seen')
      cells[infoHash] = {
        state,
        percent: p?.percent ?? 0,
        rate: p?.rate ?? 0,
        fromPublisher: p?.fromPublisher ?? 0,
        fromOthers: p?.fromOthers ?? 0,
        startedAt: p?.startedAt ?? null,
        completedAt: p?.completedAt ?? null,
      }
    }
    return {
      ip: s.ip,
      name: s.name ?? s.hostname ?? s.ip,
      hostname: s.hostname,
      expected: s.expected,
      clients: [...s.clients],
      firstSeen: s.firstSeen,
      lastSeen: s.lastSeen,
      lastFeedPoll: s.lastFeedPoll,
      // Polls the feed (so it is alive and subscribed) yet never announces: the tracker or peer
      // port is blocked between it and us.
      firewallHint: s.lastFeedPoll !== null && s.lastAnnounce === null && [...s.progress.values()].every((p) => p.fromPublisher === 0 && p.state !== 'complete'),
      cells,
      version: s.version,
    }
  }

  /**
   * The servers known to listen for this release (from their announces, kept across restarts):
   * a restarted publisher dials them, so their progress is seen without waiting for their next
   * announce, which some clients put off for many minutes after a failed one.
   */
  knownPeers(infoHash: string, unfinishedOnly = false): { ip: string; port: number; peerId?: string }[] {
    const out: { ip: string; port: number; peerId?: string }[] = []
    for (const s of this.servers.values()) {
      const p = s.progress.get(infoHash)
      if (!p?.port) continue
      if (unfinishedOnly && (p.state === 'complete' || p.state === 'gone')) continue
      out.push(p.peerId ? { ip: s.ip, port: p.port, peerId: p.peerId } : { ip: s.ip, port: p.port })
    }
    return out
  }

  timeline(ip: string): TimelineEntry[] {
    return [...(this.servers.get(normalizeIp(ip))?.timeline ?? [])]
  }

  /**
   * `uploadedBytes` is what BitTorrent sent; the web seed's bytes for the release (counted here,
   * since this session's start, like the seeder's) are added, since they too left the publisher.
   */
  summary(infoHash: string, uploadedBytes: number): RolloutSummary | null {
    const release = this.releases.get(infoHash)
    if (!release) return null
    const times: number[] = []
    let expected = 0
    let expectedComplete = 0
    let complete = 0
    for (const s of this.servers.values()) {
      const p = s.progress.get(infoHash)
      if (s.expected) expected++
      if (p?.state === 'complete') {
        complete++
        if (s.expected) expectedComplete++
        if (p.completedAt !== null) times.push(p.completedAt - release.publishedAt)
      }
    }
    times.sort((a, b) => a - b)
    return {
      infoHash,
      complete,
      expected,
      expectedComplete,
      firstCompletionMs: times[0] ?? null,
      medianCompletionMs: times.length ? (times[Math.floor((times.length - 1) / 2)] as number) : null,
      lastCompletionMs: times.length ? (times[times.length - 1] as number) : null,
      uploadedCopies: release.totalSize > 0 ? (uploadedBytes + (this.webSeedBytes.get(infoHash) ?? 0)) / release.totalSize : 0,
    }
  }

  // --- persistence -------------------------------------------------------------------------

  toJSON(): FleetState {
    const at = this.now()
    const kept = [...this.servers.values()]
      .filter((s) => s.expected || (s.lastSeen !== null && at - s.lastSeen < FORGET_AFTER_MS))
      .sort((a, b) => Number(b.expected) - Number(a.expected) || (b.lastSeen ?? 0) - (a.lastSeen ?? 0))
      .slice(0, MAX_SERVERS)
    return {
      version: 1,
      servers: kept.map((s) => ({
        ip: s.ip,
        name: s.name,
        expected: s.expected,
        clients: [...s.clients],
        firstSeen: s.firstSeen,
        lastSeen: s.lastSeen,
        lastFeedPoll: s.lastFeedPoll,
        lastAnnounce: s.lastAnnounce,
        ports: [...s.progress.entries()].filter(([, p]) => p.port !== null).map(([infoHash, p]) => ({ infoHash, port: p.port as number })),
        completions: [...s.progress.entries()].filter(([, p]) => p.state === 'complete' && p.completedAt !== null).map(([infoHash, p]) => ({ infoHash, completedAt: p.completedAt as number })),
      })),
    }
  }

  restore(state: FleetState): void {
    for (const saved of state.servers) {
      const s = this.server(saved.ip)
      s.name = saved.name
      s.expected = saved.expected
      for (const c of saved.clients) s.clients.add(c)
      s.firstSeen = saved.firstSeen
      s.lastSeen = saved.lastSeen
      s.lastFeedPoll = saved.lastFeedPoll
      s.lastAnnounce = saved.lastAnnounce ?? null
      for (const known of saved.ports ?? []) this.cell(s, known.infoHash).port = known.port
      for (const c of saved.completions) {
        const p = this.cell(s, c.infoHash)
        p.state = 'complete'
        p.percent = 1
        p.completedAt = c.completedAt
      }
      this.changed(s)
    }
  }

  // --- internals -------------------------------------------------------------------------

  private server(rawIp: string): Server {
    const ip = normalizeIp(rawIp)
    let s = this.servers.get(ip)
    if (!s) {
      s = { ip, name: null, hostname: null, expected: false, clients: new Set(), firstSeen: null, lastSeen: null, lastFeedPoll: null, lastAnnounce: null, progress: new Map(), timeline: [], version: 0 }
      this.servers.set(ip, s)
    }
    return s
  }

  private cell(s: Server, infoHash: string): Progress {
    let p = s.progress.get(infoHash)
    if (!p) {
      p = { state: 'not-seen', percent: 0, rate: 0, fromPublisher: 0, fromOthers: 0, startedAt: null, completedAt: null, lastProgressAt: null, port: null }
      s.progress.set(infoHash, p)
    }
    return p
  }

  private seen(s: Server, at: number, client: string | null): void {
    s.firstSeen ??= at
    s.lastSeen = at
    if (client) s.clients.add(client)
  }

  private progressTo(s: Server, infoHash: string, p: Progress, percent: number, at: number): void {
    const wasActive = p.state === 'downloading'
    if (!wasActive) {
      p.state = 'downloading'
      p.startedAt ??= at
      this.note(s, { at, kind: 'started', infoHash, percent })
    }
    if (percent > p.percent || !wasActive) p.lastProgressAt = at
    // One timeline entry per tenth, so a long download draws its curve without flooding.
    if (Math.floor(percent * 10) > Math.floor(p.percent * 10)) this.note(s, { at, kind: 'progress', infoHash, percent })
    p.percent = Math.max(p.percent, percent)
  }

  private complete(s: Server, infoHash: string, p: Progress, at: number): void {
    if (p.state === 'complete') return
    p.state = 'complete'
    // A server seen downloading holds the whole release now: what we did not send it came from
    // other servers, even when its announces stopped early (rTorrent announces only "started", and
    // sends no HAVEs to a peer it takes for a seed) and its last figure covers a part.
    const size = this.releases.get(infoHash)?.totalSize ?? 0
    if (p.startedAt !== null && p.percent < 1) p.fromOthers = Math.max(p.fromOthers, size - p.fromPublisher)
    p.percent = 1
    p.completedAt = at
    p.lastProgressAt = at
    this.note(s, { at, kind: 'completed', infoHash, percent: 1 })
  }

  private note(s: Server, entry: TimelineEntry): void {
    s.timeline.push(entry)
    if (s.timeline.length > TIMELINE_LIMIT) s.timeline.splice(0, s.timeline.length - TIMELINE_LIMIT)
  }

  private changed(s: Server): void {
    s.version = ++this.version
  }
}

/** "qBittorrent/4.5.2", "Transmission/3.00", "aria2/1.36.0", "rtorrent/0.9.8/0.13.8" → name and version. */
export function clientOfUserAgent(userAgent: string): string | null {
  const m = /^([A-Za-z][\w.-]*)\/(\d[\w.]*)/.exec(userAgent.trim())
  if (!m) return null
  const name = m[1] as string
  // qBittorrent fetches feeds with a browser's user agent: that names no BitTorrent client.
  if (/^(mozilla|opera)$/i.test(name)) return null
  const known: Record<string, string> = { qbittorrent: 'qBittorrent', transmission: 'Transmission', aria2: 'aria2', rtorrent: 'rTorrent', deluge: 'Deluge', utorrent: 'µTorrent', libtorrent: 'libtorrent' }
  return `${known[name.toLowerCase()] ?? name} ${m[2]}`
}
