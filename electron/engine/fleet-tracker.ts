/**
 * The engine's side of the fleet view: feeds the FleetModel from the LAN server's request log,
 * the tracker's announces and the seeder's wires, persists it (`<data dir>/fleet.json`,
 * atomically, at most every few seconds), resolves names, and tells the UIs what changed.
 */
import { readFile } from 'node:fs/promises'
import { lookup, lookupService } from 'node:dns/promises'
import { isIP } from 'node:net'
import path from 'node:path'
import type { FleetRow, RolloutSummary, TimelineEntry } from '../../shared/contract.js'
import { SwarmdropError } from '../../shared/errors.js'
import { writeFileAtomic } from './atomic-write.js'
import { FleetModel, type AnnounceSignal, type FleetState, type ReleaseInfo, type StallSignal, type WireSignal } from './fleet.js'
import type { LanRequestLog } from './lan-server.js'

/** Names for addresses and addresses for names. Injected, so tests never query a real resolver. */
export interface HostResolver {
  /** The host name of an IP, or null. */
  reverse(ip: string): Promise<string | null>
  /** An IP for a host name, or null. */
  lookup(host: string): Promise<string | null>
}

/** The system's resolver (hosts file, then DNS), each answer bounded in time. */
export const systemResolver: HostResolver = {
  reverse: (ip) => withTimeout(lookupService(ip, 0).then((r) => (r.hostname && r.hostname !== ip ? r.hostname : null))),
  lookup: (host) => withTimeout(lookup(host).then((r) => r.address)),
}

/** Knows no names: for tests and for networks where asking DNS is unwanted. */
export const noResolver: HostResolver = { reverse: async () => null, lookup: async () => null }

const SAVE_EVERY_MS = 5_000
/** More changed rows than this in one second: the UI is told to fetch the whole fleet instead. */
const MAX_ROWS_PER_EVENT = 2_000
/** Stalls already reported (server + release); far above any LAN fleet, so a churning swarm cannot grow it forever. */
const MAX_STALLS_REMEMBERED = 100_000

export interface FleetTrackerOptions {
  dataDir: string
  resolver: HostResolver
  log: (line: string) => void
  now?: () => number
  /** No progress for this long is a stall (default fleet.ts's STALL_AFTER_MS). */
  stallAfterMs?: number
}

export class FleetTracker {
  readonly model: FleetModel
  private readonly file: string
  private savedVersion = 0
  private sentVersion = 0
  private lastSave = 0
  private readonly resolving = new Set<string>()
  private readonly rolloutNotified = new Set<string>()
  /** "<ip> <infoHash>" of every stall reported, so a download that stalls, resumes and stalls again is reported once. */
  private readonly stallNotified = new Set<string>()
  /**
   * Set by load(): rollouts the saved history shows complete were reported by an earlier run, so
   * the first tick takes them as already reported (a restart must not re-run the hooks).
   */
  private restoredHistory = false

  constructor(private readonly options: FleetTrackerOptions) {
    this.model = new FleetModel(options.now, options.stallAfterMs)
    this.file = path.join(options.dataDir, 'fleet.json')
  }

  /** Loads the saved history; a damaged file is reported and set aside, never fatal. */
  async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch {
      return
    }
    try {
      const state = JSON.parse(text) as FleetState
      if (state.version !== 1 || !Array.isArray(state.servers)) throw new Error('not a Swarmdrop fleet file')
      this.model.restore(state)
      this.restoredHistory = true
      this.savedVersion = this.model.currentVersion
      this.sentVersion = this.model.currentVersion
    } catch (err) {
      this.options.log(`error: the fleet history ${this.file} is damaged (${(err as Error).message}); starting a new one`)
    }
  }

  setReleases(releases: ReleaseInfo[]): void {
    this.model.setReleases(releases)
  }

  onRequest(log: LanRequestLog): void {
    if (log.status >= 400 || !log.ip) return
    if (log.kind === 'feed') this.model.feedPolled(log.ip, log.userAgent)
    else if (log.kind === 'torrent' && log.infoHash) this.model.torrentFetched(log.ip, log.infoHash, log.userAgent)
    else if (log.kind === 'webseed' && log.infoHash) this.model.webSeedServed(log.ip, log.infoHash, log.bytes)
    else return
    this.resolveName(log.ip)
  }

  onAnnounce(a: AnnounceSignal): void {
    this.model.announced(a)
    this.resolveName(a.ip)
  }

  onWires(infoHash: string, wires: WireSignal[]): void {
    this.model.wires(infoHash, wires)
  }

  /**
   * Once a second: stalls, then what changed since the last call (null when nothing did), the
   * releases that have just reached every expected server, and the downloads that have just
   * stalled (each server + release once).
   */
  tick(summaries: () => RolloutSummary[]): { changed: { since: number; version: number; rows: FleetRow[] } | null; completed: RolloutSummary[]; stalled: StallSignal[] } {
    const stalled: StallSignal[] = []
    for (const s of this.model.tick()) {
      const key = `${s.ip} ${s.infoHash}`
      if (this.stallNotified.has(key)) continue
      this.stallNotified.add(key)
      // Insertion order is Set iteration order: forget the oldest beyond the bound.
      if (this.stallNotified.size > MAX_STALLS_REMEMBERED) this.stallNotified.delete(this.stallNotified.values().next().value as string)
      stalled.push(s)
    }
    let changed: { since: number; version: number; rows: FleetRow[] } | null = null
    const version = this.model.currentVersion
    if (version > this.sentVersion) {
      const rows = this.model.changedSince(this.sentVersion)
      changed = { since: this.sentVersion, version, rows: rows.length > MAX_ROWS_PER_EVENT ? [] : rows }
      this.sentVersion = version
    }
    const completed: RolloutSummary[] = []
    for (const s of summaries()) {
      if (s.expected > 0 && s.expectedComplete === s.expected && !this.rolloutNotified.has(s.infoHash)) {
        this.rolloutNotified.add(s.infoHash)
        if (!this.restoredHistory) completed.push(s)
      }
    }
    this.restoredHistory = false
    void this.saveSoon()
    return { changed, completed, stalled }
  }

  rows(): { version: number; rows: FleetRow[] } {
    return { version: this.model.currentVersion, rows: this.model.rows() }
  }

  server(ip: string): { row: FleetRow; timeline: TimelineEntry[] } {
    const row = this.model.rows().find((r) => r.ip === ip)
    if (!row) throw new SwarmdropError('INVALID_ARGUMENT', `No server ${ip} in the fleet yet: it appears once it polls the feed, fetches a .torrent or announces.`)
    return { row, timeline: this.model.timeline(ip) }
  }

  /** Entries are IPs or host names; names that do not resolve are returned, not guessed. */
  async setRoster(entries: string[]): Promise<{ expected: number; unresolved: string[] }> {
    const resolved: { ip: string; name: string | null }[] = []
    const unresolved: string[] = []
    for (const raw of entries.map((e) => e.trim()).filter((e) => e !== '')) {
      if (isIP(raw)) {
        resolved.push({ ip: raw, name: null })
        continue
      }
      const ip = await this.options.resolver.lookup(raw).catch(() => null)
      if (ip) resolved.push({ ip, name: raw })
      else unresolved.push(raw)
    }
    this.model.setRoster(resolved)
    await this.save()
    return { expected: resolved.length, unresolved }
  }

  rename(ip: string, name: string | null): FleetRow {
    this.model.rename(ip, name === null || name.trim() === '' ? null : name.trim())
    return this.server(ip).row
  }

  forgetRelease(infoHash: string): void {
    this.model.forgetRelease(infoHash)
    this.rolloutNotified.delete(infoHash)
    for (const key of this.stallNotified) if (key.endsWith(` ${infoHash}`)) this.stallNotified.delete(key)
  }

  async close(): Promise<void> {
    await this.save()
  }

  private resolveName(ip: string): void {
    if (this.resolving.has(ip)) return
    this.resolving.add(ip)
    void this.options.resolver
      .reverse(ip)
      .then((name) => this.model.setHostname(ip, name))
      .catch(() => undefined)
  }

  private async saveSoon(): Promise<void> {
    const now = Date.now()
    if (now - this.lastSave < SAVE_EVERY_MS) return
    await this.save()
  }

  private async save(): Promise<void> {
    const version = this.model.currentVersion
    if (version === this.savedVersion) return
    this.lastSave = Date.now()
    this.savedVersion = version
    await writeFileAtomic(this.file, JSON.stringify(this.model.toJSON())).catch((err: unknown) => {
      this.savedVersion = 0
      this.options.log(`error: ${(err as Error).message}`)
    })
  }
}

function withTimeout<T>(p: Promise<T>, ms = 2_000): Promise<T | null> {
  return Promise.race([p.catch(() => null), new Promise<null>((resolve) => setTimeout(() => resolve(null), ms).unref())])
}
