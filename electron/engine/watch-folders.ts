/**
 * Watch folders: every top-level entry (a file or a folder) put into a watched folder becomes a
 * release in that folder's channel, once it has stopped changing.
 *
 * Polling, not fs.watch: a change notification says that something was written, never that the
 * writer has finished, and fs.watch is silent on network shares and some bind mounts. An entry is
 * published only after its total size, file count and newest mtime (its fingerprint) stayed the
 * same for the settle time, measured on an injected clock so the unit tests can move it by hand.
 *
 * What was published is remembered in `<data dir>/watch.json` (folder + name, the info-hash and
 * the fingerprint that was published), so a restart publishes nothing twice. An entry that changes
 * afterwards becomes a new release and the previous one is retired; an entry removed from the
 * folder is retired (its files are never touched). A missing folder retires nothing: it may be an
 * unmounted drive.
 */
import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs'
import { readdir, readFile, rename, stat } from 'node:fs/promises'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import path from 'node:path'
import {
  DEFAULT_CHANNEL,
  type CoreApi,
  type PublishRequest,
  type ReleaseSummary,
  type WatchFolder,
  type WatchFolderStatus,
} from '../../shared/contract.js'
import { SwarmdropError, toErrorInfo, type ErrorInfo } from '../../shared/errors.js'
import { CHANNEL_PATTERN } from '../../shared/request-validation.js'
import { writeFileAtomic } from './atomic-write.js'

export const DEFAULT_SETTLE_MS = 10_000
export const DEFAULT_POLL_MS = 2_000
/** More than anyone watches; it bounds the work of every poll. */
const MAX_WATCH_FOLDERS = 64
const STATE_VERSION = 1
/** Stat calls between yields to the event loop while fingerprinting a big folder (as source-scanner does). */
const ENTRIES_PER_YIELD = 2000

/** What tells "still being written" from "done": it must stay the same for the settle time. */
export interface Fingerprint {
  size: number
  count: number
  newestMtimeMs: number
}

/** What the watcher asks of the engine; `coreActions` implements it over the CoreApi. */
export interface WatchActions {
  /** Publishes one entry and resolves with its release's info-hash (or rejects with why not). */
  publish(entry: { path: string; channel: string }, signal: AbortSignal): Promise<{ infoHash: string }>
  retire(infoHash: string): Promise<void>
  /**
   * The same content was published again under new mtimes (touched, or copied over itself): the
   * release must re-check its files, or its next piece read would stop it as "source changed".
   */
  recheck(infoHash: string): Promise<void>
}

export interface WatchFoldersOptions {
  /** `<data dir>/watch.json`. */
  stateFile: string
  folders: readonly WatchFolder[]
  actions: WatchActions
  settleMs?: number
  pollMs?: number
  /** The clock settle times are measured on; tests move it by hand. */
  now?: () => number
  log?: (line: string) => void
}

/** One published entry, as stored in watch.json. */
interface Remembered {
  dir: string
  name: string
  channel: string
  infoHash: string
  fingerprint: Fingerprint
  publishedAt: string
}

interface Seen {
  fingerprint: Fingerprint
  /** Clock time the fingerprint was first seen as it is now. */
  stableSince: number
  /** Why it cannot be read right now (it is never published while this is set). */
  unreadable: string | null
  /** Publishing exactly this fingerprint failed in a way that waiting cannot fix: retried only once it changes. */
  failure: { fingerprint: Fingerprint; message: string } | null
}

interface FolderRuntime {
  folder: WatchFolder
  /** The folder itself is missing or unreadable. */
  problem: string | null
  /** Entries present at the last poll (ignored names left out), by name. */
  seen: Map<string, Seen>
  /** Published entries no longer in the folder, and the clock time they were first missed. */
  missingSince: Map<string, number>
}

/** Errors that mean "it was still changing": wait for it to settle again rather than give up on it. */
const RETRY_CODES: ReadonlySet<string> = new Set(['FILE_CHANGED', 'PATH_NOT_FOUND'])

/** Hidden entries and the names browsers and copy tools give files they are still writing. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || /\.(part|tmp|crdownload)$/i.test(name)
}

export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.count === b.count && a.newestMtimeMs === b.newestMtimeMs
}

/**
 * Total size, file count and newest mtime of a file or a folder tree (directories' own mtimes
 * count too, so a rename inside it is a change). A top-level link is followed, like publishing
 * does; links inside are stat'ed but never descended, so a loop cannot trap a poll. Something
 * that vanishes mid-walk is skipped: the next poll sees a different fingerprint anyway.
 */
export async function fingerprintOf(entry: string): Promise<Fingerprint> {
  const st = await stat(entry)
  if (st.isFile()) return { size: st.size, count: 1, newestMtimeMs: st.mtimeMs }
  if (!st.isDirectory()) throw new SwarmdropError('NOT_A_FILE', `${entry} is not a regular file or folder.`)
  const fp: Fingerprint = { size: 0, count: 0, newestMtimeMs: st.mtimeMs }
  const budget = { left: ENTRIES_PER_YIELD }
  await walk(entry, fp, budget)
  return fp
}

async function walk(dir: string, fp: Fingerprint, budget: { left: number }): Promise<void> {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (err) {
    if (isGone(err)) return
    throw err
  }
  for (const name of names) {
    if (--budget.left <= 0) {
      budget.left = ENTRIES_PER_YIELD
      await yieldToLoop()
    }
    const abs = path.join(dir, name)
    let st: Stats
    try {
      st = lstatSync(abs)
      if (st.isSymbolicLink()) {
        st = statSync(abs)
        if (st.isDirectory()) {
          fp.newestMtimeMs = Math.max(fp.newestMtimeMs, st.mtimeMs)
          continue
        }
      }
    } catch (err) {
      if (isGone(err)) continue
      throw err
    }
    fp.newestMtimeMs = Math.max(fp.newestMtimeMs, st.mtimeMs)
    if (st.isDirectory()) await walk(abs, fp, budget)
    else if (st.isFile()) {
      fp.size += st.size
      fp.count++
    }
  }
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/**
 * The `watchFolders` setting, checked and normalised (absolute paths, resolved). `invalid` makes
 * the error the settings store throws, so every setting's message has the same shape.
 */
export function checkWatchFolders(value: unknown, invalid: (message: string) => Error): WatchFolder[] {
  if (!Array.isArray(value)) throw invalid('watchFolders must be a list of { dir, channel }')
  if (value.length > MAX_WATCH_FOLDERS) throw invalid(`watchFolders holds ${value.length} folders; at most ${MAX_WATCH_FOLDERS} can be watched`)
  const out = value.map((v: unknown, i: number): WatchFolder => {
    const w = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null
    if (!w) throw invalid(`watchFolders[${i}] must be { dir, channel }`)
    if (typeof w.dir !== 'string' || !path.isAbsolute(w.dir)) throw invalid(`watchFolders[${i}].dir must be an absolute path, got ${JSON.stringify(w.dir)}`)
    const channel = w.channel ?? DEFAULT_CHANNEL
    if (typeof channel !== 'string' || !CHANNEL_PATTERN.test(channel)) {
      throw invalid(`watchFolders[${i}].channel must be a channel name (lowercase letters, digits, ".", "-", "_"), got ${JSON.stringify(channel)}`)
    }
    return { dir: path.resolve(w.dir), channel }
  })
  for (const a of out) {
    for (const b of out) {
      if (a === b) continue
      if (a.dir === b.dir) throw invalid(`${a.dir} is watched twice`)
      // The inner folder would itself be an entry of the outer one, published as a whole.
      if (b.dir.startsWith(a.dir.endsWith(path.sep) ? a.dir : a.dir + path.sep)) throw invalid(`${b.dir} is inside ${a.dir}, which is watched too`)
    }
  }
  return out
}

/**
 * `--watch DIR[=CHANNEL]`, repeatable: the text after the last "=" is the channel (channel names
 * have no "=" and no "/"), else the default channel. Relative folders are taken from the cwd.
 */
export function parseWatchFlags(values: readonly unknown[]): WatchFolder[] {
  const usage = (message: string): SwarmdropError => new SwarmdropError('INVALID_ARGUMENT', message)
  const folders = values.map((v): WatchFolder => {
    if (typeof v !== 'string' || v === '') throw usage('--watch needs a folder: --watch DIR or --watch DIR=CHANNEL')
    const eq = v.lastIndexOf('=')
    const dir = eq > 0 ? v.slice(0, eq) : v
    const channel = eq > 0 ? v.slice(eq + 1) : DEFAULT_CHANNEL
    if (!CHANNEL_PATTERN.test(channel)) throw usage(`--watch ${v}: "${channel}" is not a channel name (1 to 64 lowercase letters, digits, ".", "-" or "_")`)
    return { dir: path.resolve(dir), channel }
  })
  return checkWatchFolders(folders, (message) => usage(`--watch: ${message}`))
}

export class WatchFolders {
  private readonly stateFile: string
  private readonly actions: WatchActions
  private readonly settleMs: number
  private readonly pollMs: number
  private readonly now: () => number
  private readonly log: (line: string) => void
  private readonly runtimes = new Map<string, FolderRuntime>()
  /** By `keyOf(dir, name)`. */
  private readonly remembered = new Map<string, Remembered>()
  private readonly abort = new AbortController()
  private publishing: { dir: string; name: string } | null = null
  private inflight: Promise<void> | null = null
  private polling: Promise<void> | null = null
  private loading: Promise<void> | null = null
  private saving: Promise<void> = Promise.resolve()
  private timer: NodeJS.Timeout | null = null
  private started = false
  private stopped = false

  constructor(options: WatchFoldersOptions) {
    this.stateFile = options.stateFile
    this.actions = options.actions
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS
    this.now = options.now ?? Date.now
    this.log = options.log ?? (() => undefined)
    this.setFolders(options.folders)
  }

  /** Replaces the folders watched (a settings change); what is known about the ones kept stays. */
  setFolders(folders: readonly WatchFolder[]): void {
    const keep = new Map<string, FolderRuntime>()
    for (const folder of folders) {
      const existing = this.runtimes.get(folder.dir)
      keep.set(folder.dir, existing ? { ...existing, folder } : { folder, problem: null, seen: new Map(), missingSince: new Map() })
    }
    this.runtimes.clear()
    for (const [dir, rt] of keep) this.runtimes.set(dir, rt)
  }

  /** Polls every `pollMs` until stop(). */
  start(): void {
    if (this.started || this.stopped) return
    this.started = true
    const loop = async (): Promise<void> => {
      try {
        await this.tick()
      } catch (err) {
        this.log(`watch: error: ${toErrorInfo(err).message}`)
      }
      if (this.stopped) return
      this.timer = setTimeout(() => void loop(), this.pollMs)
      this.timer.unref()
    }
    void loop()
  }

  /** Stops polling and waits for what is under way; a publish still hashing is the engine's to cancel. */
  async stop(): Promise<void> {
    this.stopped = true
    this.abort.abort()
    if (this.timer) clearTimeout(this.timer)
    await this.polling?.catch(() => undefined)
    await this.inflight
    await this.saving
  }

  /**
   * One poll: scan every folder, retire what has been gone for the settle time, and start
   * publishing the entry that settled first (one at a time: hashing takes every core anyway).
   * The publish runs on after this returns; `idle()` waits for it.
   */
  tick(): Promise<void> {
    this.polling ??= this.poll().finally(() => {
      this.polling = null
    })
    return this.polling
  }

  /** Resolves once the publish under way (if any) has finished. */
  async idle(): Promise<void> {
    await this.inflight
  }

  status(): WatchFolderStatus[] {
    const now = this.now()
    return [...this.runtimes.values()].map((rt) => this.statusOf(rt, now))
  }

  // --- polling ----------------------------------------------------------------------------

  private async poll(): Promise<void> {
    this.loading ??= this.load()
    await this.loading
    for (const rt of [...this.runtimes.values()]) {
      if (this.stopped) return
      await this.scan(rt)
    }
    await this.retireMissing()
    this.publishNext()
  }

  private async scan(rt: FolderRuntime): Promise<void> {
    const { dir } = rt.folder
    let names: string[]
    try {
      if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' })
      names = (await readdir(dir)).filter((n) => !isIgnoredName(n))
    } catch (err) {
      const problem = folderProblem(dir, err)
      if (problem !== rt.problem) this.log(`watch: error: ${problem}`)
      rt.problem = problem
      // Whatever was missed before the folder went away starts its wait again when it is back.
      rt.missingSince.clear()
      return
    }
    if (rt.problem !== null) this.log(`watch: ${dir} is back; watching it again`)
    rt.problem = null
    const now = this.now()
    const present = new Set<string>()
    for (const name of names) {
      let fingerprint: Fingerprint | null = null
      let unreadable: string | null = null
      try {
        fingerprint = await fingerprintOf(path.join(dir, name))
      } catch (err) {
        // Renamed or removed between the listing and now: absent, like any other removed entry.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
        unreadable = err instanceof SwarmdropError ? err.message : `${path.join(dir, name)} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`
      }
      // Stable since this entry was seen, not since the poll began: fingerprinting a large tree
      // takes a while, and a write landing during it must not count that time as settled.
      const seenAt = this.now()
      present.add(name)
      const seen = rt.seen.get(name)
      if (fingerprint === null) {
        rt.seen.set(name, { fingerprint: seen?.fingerprint ?? { size: 0, count: 0, newestMtimeMs: 0 }, stableSince: seenAt, unreadable, failure: seen?.failure ?? null })
      } else if (!seen || seen.unreadable !== null || !sameFingerprint(seen.fingerprint, fingerprint)) {
        rt.seen.set(name, { fingerprint, stableSince: seenAt, unreadable: null, failure: seen?.failure ?? null })
      }
    }
    for (const name of [...rt.seen.keys()]) if (!present.has(name)) rt.seen.delete(name)
    for (const r of this.rememberedIn(dir)) {
      if (present.has(r.name)) rt.missingSince.delete(r.name)
      else if (!rt.missingSince.has(r.name)) rt.missingSince.set(r.name, now)
    }
  }

  /** Ready: readable, not empty, unchanged for the settle time, and not already published (or failed) as it is now. */
  private isReady(dir: string, name: string, seen: Seen, now: number): boolean {
    return !this.isDone(dir, name, seen) && seen.unreadable === null && seen.fingerprint.size > 0 && now - seen.stableSince >= this.settleMs
  }

  /** Published, or refused, exactly as it is now: nothing left to do until it changes. */
  private isDone(dir: string, name: string, seen: Seen): boolean {
    const r = this.remembered.get(keyOf(dir, name))
    if (r && sameFingerprint(r.fingerprint, seen.fingerprint)) return true
    return seen.failure !== null && sameFingerprint(seen.failure.fingerprint, seen.fingerprint)
  }

  private publishNext(): void {
    if (this.inflight || this.stopped) return
    const now = this.now()
    let next: { rt: FolderRuntime; name: string; seen: Seen } | null = null
    for (const rt of this.runtimes.values()) {
      if (rt.problem !== null) continue
      for (const [name, seen] of rt.seen) {
        if (!this.isReady(rt.folder.dir, name, seen, now)) continue
        if (!next || seen.stableSince < next.seen.stableSince) next = { rt, name, seen }
      }
    }
    if (!next) return
    const { rt, name, seen } = next
    this.inflight = this.publish(rt, name, seen.fingerprint).finally(() => {
      this.inflight = null
    })
  }

  private async publish(rt: FolderRuntime, name: string, fingerprint: Fingerprint): Promise<void> {
    const { dir, channel } = rt.folder
    const key = keyOf(dir, name)
    this.publishing = { dir, name }
    try {
      this.log(`watch: publishing "${name}" from ${dir} to channel ${channel}`)
      const { infoHash } = await this.actions.publish({ path: path.join(dir, name), channel }, this.abort.signal)
      const previous = this.remembered.get(key)
      // The fingerprint that settled, not the current one: if it changed while hashing, the next
      // poll sees the difference and publishes it again.
      this.remembered.set(key, { dir, name, channel, infoHash, fingerprint, publishedAt: new Date(this.now()).toISOString() })
      await this.save()
      this.log(`watch: published "${name}" (${infoHash})`)
      if (previous && previous.infoHash !== infoHash) {
        await this.retireUnlessShared(previous.infoHash)
        this.log(`watch: "${name}" changed; retired its previous release (${previous.infoHash})`)
      } else if (previous) {
        await this.actions.recheck(infoHash)
      }
    } catch (err) {
      if (this.stopped) return
      const error = toErrorInfo(err)
      const seen = rt.seen.get(name)
      if (RETRY_CODES.has(error.code)) {
        if (seen) seen.stableSince = this.now()
        this.log(`watch: "${name}" changed while it was being published; waiting for it to settle again`)
      } else {
        if (seen) seen.failure = { fingerprint, message: error.message }
        this.log(`watch: error: "${name}" was not published: ${error.message}`)
      }
    } finally {
      this.publishing = null
    }
  }

  private async retireMissing(): Promise<void> {
    const now = this.now()
    for (const rt of this.runtimes.values()) {
      if (rt.problem !== null) continue
      for (const [name, since] of [...rt.missingSince]) {
        if (this.stopped) return
        if (now - since < this.settleMs) continue
        const key = keyOf(rt.folder.dir, name)
        const r = this.remembered.get(key)
        rt.missingSince.delete(name)
        if (!r) continue
        this.remembered.delete(key)
        try {
          await this.retireUnlessShared(r.infoHash)
          await this.save()
          this.log(`watch: "${name}" was removed from ${rt.folder.dir}; retired its release (${r.infoHash})`)
        } catch (err) {
          // Tried again at the next poll.
          this.remembered.set(key, r)
          this.log(`watch: error: could not retire "${name}": ${toErrorInfo(err).message}`)
        }
      }
    }
  }

  /** Two entries with the same name and content share one info-hash: retire it only when neither uses it. */
  private async retireUnlessShared(infoHash: string): Promise<void> {
    for (const r of this.remembered.values()) if (r.infoHash === infoHash) return
    await this.actions.retire(infoHash)
  }

  private rememberedIn(dir: string): Remembered[] {
    return [...this.remembered.values()].filter((r) => r.dir === dir)
  }

  // --- status -----------------------------------------------------------------------------

  private statusOf(rt: FolderRuntime, now: number): WatchFolderStatus {
    const { dir, channel } = rt.folder
    const base = { dir, channel, settleMs: this.settleMs }
    const publishing = this.publishing?.dir === dir ? this.publishing.name : null
    const waiting = [...rt.seen].filter(([name, seen]) => name !== publishing && !this.isDone(dir, name, seen))
    const pending = waiting.length
    if (rt.problem !== null) return { ...base, state: 'error', entry: null, stableMs: null, pending, message: rt.problem }
    if (publishing !== null) {
      return { ...base, state: 'publishing', entry: publishing, stableMs: null, pending, message: `publishing "${publishing}"${more(pending)}` }
    }
    const unreadable = waiting.find(([, seen]) => seen.unreadable !== null)
    if (unreadable) return { ...base, state: 'error', entry: unreadable[0], stableMs: null, pending, message: unreadable[1].unreadable ?? '' }
    // The entry closest to publishing is the one a person waits for.
    const first = waiting.sort((a, b) => a[1].stableSince - b[1].stableSince)[0]
    if (first) {
      const [name, seen] = first
      const stableMs = Math.max(0, now - seen.stableSince)
      const line =
        seen.fingerprint.size === 0
          ? `waiting for "${name}" to settle (it is empty so far)`
          : stableMs >= this.settleMs
            ? `"${name}" has settled; publishing it next`
            : `waiting for "${name}" to settle (unchanged for ${seconds(stableMs)} of ${seconds(this.settleMs)})`
      return { ...base, state: 'settling', entry: name, stableMs, pending, message: `${line}${more(pending - 1)}` }
    }
    const leaving = [...rt.missingSince].sort((a, b) => a[1] - b[1])[0]
    if (leaving) {
      const [name, since] = leaving
      const left = Math.max(0, this.settleMs - (now - since))
      return { ...base, state: 'settling', entry: name, stableMs: null, pending, message: `"${name}" was removed; its release is retired in ${seconds(left)} unless it comes back` }
    }
    const failed = [...rt.seen].find(([, seen]) => seen.failure !== null && sameFingerprint(seen.failure.fingerprint, seen.fingerprint))
    if (failed) return { ...base, state: 'error', entry: failed[0], stableMs: null, pending, message: `"${failed[0]}" was not published: ${failed[1].failure?.message ?? ''}` }
    const last = this.rememberedIn(dir)
      .filter((r) => rt.seen.has(r.name))
      .sort((a, b) => (a.publishedAt < b.publishedAt ? 1 : a.publishedAt > b.publishedAt ? -1 : 0))[0]
    if (last) return { ...base, state: 'published', entry: last.name, stableMs: null, pending, message: `published "${last.name}"` }
    return { ...base, state: 'watching', entry: null, stableMs: null, pending, message: 'watching for new files and folders' }
  }

  // --- watch.json -------------------------------------------------------------------------

  private async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.stateFile, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log(`watch: error: cannot read ${this.stateFile}: ${(err as Error).message}`)
      return
    }
    let entries: unknown[]
    try {
      const parsed = JSON.parse(text) as { version?: unknown; entries?: unknown }
      if (parsed.version !== STATE_VERSION || !Array.isArray(parsed.entries)) throw new Error(`not a version ${STATE_VERSION} watch state`)
      entries = parsed.entries
    } catch (err) {
      // Kept for a person to look at; without it, entries already published are found again
      // and publish to the same info-hashes, which the engine does not duplicate.
      const keptAt = `${this.stateFile}.damaged-${Date.now()}`
      await rename(this.stateFile, keptAt).catch(() => undefined)
      this.log(`watch: error: ${this.stateFile} is damaged (${(err as Error).message}); moved to ${keptAt}`)
      return
    }
    for (const e of entries) {
      const r = asRemembered(e)
      if (r) this.remembered.set(keyOf(r.dir, r.name), r)
    }
  }

  /** Writes are chained, so the last one written holds the latest state. */
  private save(): Promise<void> {
    const write = async (): Promise<void> => {
      const entries = [...this.remembered.values()].sort((a, b) => (keyOf(a.dir, a.name) < keyOf(b.dir, b.name) ? -1 : 1))
      await writeFileAtomic(this.stateFile, `${JSON.stringify({ version: STATE_VERSION, entries }, null, 2)}\n`)
    }
    const next = this.saving.then(write, write)
    this.saving = next.catch(() => undefined)
    return next
  }
}

function keyOf(dir: string, name: string): string {
  return `${dir}\u0000${name}`
}

function asRemembered(v: unknown): Remembered | null {
  if (typeof v !== 'object' || v === null) return null
  const r = v as Record<string, unknown>
  const fp = r.fingerprint as Record<string, unknown> | null | undefined
  const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x)
  if (typeof r.dir !== 'string' || typeof r.name !== 'string' || typeof r.channel !== 'string' || typeof r.infoHash !== 'string' || typeof r.publishedAt !== 'string') return null
  if (typeof fp !== 'object' || fp === null || !num(fp.size) || !num(fp.count) || !num(fp.newestMtimeMs)) return null
  return { dir: r.dir, name: r.name, channel: r.channel, infoHash: r.infoHash, publishedAt: r.publishedAt, fingerprint: { size: fp.size, count: fp.count, newestMtimeMs: fp.newestMtimeMs } }
}

function folderProblem(dir: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return `The watch folder ${dir} does not exist: create it, or remove it from the watch folders.`
  if (code === 'ENOTDIR') return `The watch folder ${dir} is not a folder.`
  if (code === 'EACCES' || code === 'EPERM') return `The watch folder ${dir} cannot be read (permission denied).`
  return `The watch folder ${dir} cannot be read (${code ?? (err as Error).message}).`
}

/** "4 s", "1.5 s": whole seconds once they are many. */
function seconds(ms: number): string {
  const s = ms / 1000
  return `${s >= 10 || Number.isInteger(s) ? Math.floor(s) : s.toFixed(1)} s`
}

function more(n: number): string {
  return n > 0 ? ` (${n} more waiting)` : ''
}

/**
 * The watcher's actions over the engine's own CoreApi, so a watched entry goes through exactly
 * the path a dropped one does (checks, hashing, seeding before the feed lists it).
 */
export function coreActions(core: CoreApi): WatchActions {
  return {
    publish: (entry, signal) => publishAndWait(core, { paths: [entry.path], channel: entry.channel }, signal),
    async retire(infoHash) {
      try {
        await core.handle('release.retire', { infoHash })
      } catch (err) {
        // Already gone from the library: nothing left to retire.
        if (toErrorInfo(err).code !== 'UNKNOWN_RELEASE') throw err
      }
    },
    async recheck(infoHash) {
      await core.handle('release.pause', { infoHash })
      await core.handle('release.resume', { infoHash })
    },
  }
}

type Outcome = { release: ReleaseSummary } | { error: ErrorInfo }

async function publishAndWait(core: CoreApi, request: PublishRequest, signal: AbortSignal): Promise<{ infoHash: string }> {
  if (signal.aborted) throw new SwarmdropError('CANCELLED', 'Watching stopped.')
  // Events of a fast job may arrive before publish.start answers with its id: keep them.
  const early = new Map<string, Outcome>()
  let jobId: string | null = null
  let settle: (o: Outcome) => void = () => undefined
  const outcome = new Promise<Outcome>((resolve) => {
    settle = resolve
  })
  const heard = (id: string, o: Outcome): void => {
    if (jobId === null) early.set(id, o)
    else if (id === jobId) settle(o)
  }
  const offDone = core.on('publish.done', (e) => heard(e.jobId, { release: e.release }))
  const offError = core.on('publish.error', (e) => heard(e.jobId, { error: e.error }))
  const onAbort = (): void => settle({ error: { code: 'CANCELLED', message: 'Watching stopped.' } })
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    jobId = (await core.handle('publish.start', request)).jobId
    const already = early.get(jobId)
    if (already) settle(already)
    const o = await outcome
    if ('error' in o) throw new SwarmdropError(o.error.code, o.error.message)
    return { infoHash: o.release.infoHash }
  } finally {
    offDone()
    offError()
    signal.removeEventListener('abort', onAbort)
  }
}
