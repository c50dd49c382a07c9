/**
 * Hooks: what a deploy setup runs when a rollout reached every expected server, or when a
 * server's download stalled. Both come from the fleet model once per release (rollout) or per
 * server + release (stall); here each one runs a command and/or POSTs JSON to a webhook, as set in
 * the settings (`hooks`).
 *
 * Fire and forget: `fire` returns at once, at most MAX_RUNNING hooks run at a time (the rest wait
 * in a bounded queue), each is cut after `timeoutSeconds` (the command's whole process group is
 * killed, the request aborted), and its outcome is one log line. Nothing here can throw into the
 * engine or hold up seeding, however slow or broken the hook is.
 */
import { spawn } from 'node:child_process'
import type { Events, HookSettings } from '../../shared/contract.js'
import { SwarmdropError } from '../../shared/errors.js'
import type { StallSignal } from './fleet.js'
import { PRODUCT } from './product.js'

export const DEFAULT_HOOKS: Readonly<HookSettings> = { command: null, webhookUrl: null, timeoutSeconds: 10 }
/** A hook longer than an hour is a service, not a hook. */
const MAX_TIMEOUT_SECONDS = 3600
/** Hooks running at once; a rollout to many servers may stall several at the same second. */
const DEFAULT_MAX_RUNNING = 4
/** Beyond this many waiting hooks, new ones are dropped (and logged): a broken hook must not grow memory. */
const MAX_QUEUED = 200
/** The end of a failed command's output, quoted in its log line. */
const OUTPUT_KEPT = 2048

/** What a hook receives: the command on stdin, the webhook as its POST body. */
export type HookEvent =
  | {
      event: 'release.rolloutComplete'
      /** ISO time the event was raised. */
      at: string
      infoHash: string
      /** The release's name (its title in the feed). */
      release: string
      /** Expected servers that have it: all of them. */
      servers: number
      /** From publication to the last expected server's completion. */
      tookMs: number
    }
  | {
      event: 'release.stalled'
      at: string
      infoHash: string
      release: string
      server: { ip: string; name: string }
      /** 0..1, where it stopped. */
      percent: number
      /** How long it has made no progress. */
      stalledForMs: number
    }

export function rolloutCompleteEvent(e: Events['release.rolloutComplete'], at = new Date()): HookEvent {
  return { event: 'release.rolloutComplete', at: at.toISOString(), infoHash: e.infoHash, release: e.name, servers: e.servers, tookMs: e.tookMs }
}

export function stalledEvent(release: string, s: StallSignal, at = new Date()): HookEvent {
  return { event: 'release.stalled', at: at.toISOString(), infoHash: s.infoHash, release, server: { ip: s.ip, name: s.name }, percent: s.percent, stalledForMs: s.stalledForMs }
}

/**
 * The `hooks` setting, checked: a command is a non-empty line (it runs through the shell), a
 * webhook an http(s) URL, the timeout whole seconds from 1 to an hour. Fields left out take their
 * defaults, so `{ "webhookUrl": "..." }` alone is a valid setting.
 */
export function validateHookSettings(value: unknown): HookSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('hooks must be { command, webhookUrl, timeoutSeconds }')
  const fields = value as Record<string, unknown>
  for (const key of Object.keys(fields)) {
    if (key !== 'command' && key !== 'webhookUrl' && key !== 'timeoutSeconds') throw invalid(`hooks has no field "${key}" (it takes command, webhookUrl and timeoutSeconds)`)
  }
  const out: HookSettings = { ...DEFAULT_HOOKS }
  const { command, webhookUrl, timeoutSeconds } = fields
  if (command !== undefined && command !== null) {
    // A NUL cannot reach a shell; an empty command would "succeed" at doing nothing.
    if (typeof command !== 'string' || command.trim() === '' || command.includes('\0')) throw invalid('hooks.command must be a non-empty shell command line, or null for none')
    out.command = command.trim()
  }
  if (webhookUrl !== undefined && webhookUrl !== null) {
    if (typeof webhookUrl !== 'string') throw invalid('hooks.webhookUrl must be an http:// or https:// URL, or null for none')
    let url: URL
    try {
      url = new URL(webhookUrl.trim())
    } catch {
      throw invalid(`hooks.webhookUrl "${webhookUrl}" is not a URL; give an http:// or https:// one`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`hooks.webhookUrl must be an http:// or https:// URL, got ${url.protocol}`)
    out.webhookUrl = url.href
  }
  if (timeoutSeconds !== undefined) {
    if (typeof timeoutSeconds !== 'number' || !Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_TIMEOUT_SECONDS) {
      throw invalid(`hooks.timeoutSeconds must be a whole number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}, got ${String(timeoutSeconds)}`)
    }
    out.timeoutSeconds = timeoutSeconds
  }
  return out
}

function invalid(message: string): SwarmdropError {
  return new SwarmdropError('INVALID_ARGUMENT', `Invalid setting: ${message}.`)
}

export interface HookRunnerOptions {
  /** Read at each event, so a settings change applies to the next one without a restart. */
  settings: () => HookSettings
  log: (line: string) => void
  maxRunning?: number
}

type Job = () => Promise<void>

export class HookRunner {
  private readonly queue: Job[] = []
  private readonly active = new Set<Promise<void>>()
  /** Aborted by close(): running hooks are cut, queued ones dropped. */
  private readonly stopping = new AbortController()
  private readonly maxRunning: number

  constructor(private readonly options: HookRunnerOptions) {
    this.maxRunning = options.maxRunning ?? DEFAULT_MAX_RUNNING
  }

  /** Runs the configured command and webhook for this event, in the background. */
  fire(event: HookEvent): void {
    if (this.stopping.signal.aborted) return
    const { command, webhookUrl, timeoutSeconds } = this.options.settings()
    const body = JSON.stringify(event)
    const what = `${event.event} "${event.release}"${event.event === 'release.stalled' ? ` on ${event.server.name}` : ''}`
    if (command !== null) this.enqueue(what, () => this.runCommand(command, event, body, timeoutSeconds, what))
    if (webhookUrl !== null) this.enqueue(what, () => this.post(webhookUrl, body, timeoutSeconds, what))
  }

  /** Resolves once nothing runs or waits (tests). */
  async idle(): Promise<void> {
    while (this.active.size > 0 || this.queue.length > 0) await Promise.allSettled([...this.active])
  }

  /** Cuts running hooks and drops queued ones; resolves once the running ones have ended. */
  async close(): Promise<void> {
    const dropped = this.queue.length
    this.queue.length = 0
    this.stopping.abort()
    if (dropped > 0) this.options.log(`error: hook: ${dropped} queued hook(s) not run: Swarmdrop is stopping`)
    await Promise.allSettled([...this.active])
  }

  private enqueue(what: string, job: Job): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.options.log(`error: hook: dropped for ${what}: ${MAX_QUEUED} hooks are already waiting (is the hook hanging?)`)
      return
    }
    this.queue.push(job)
    this.pump()
  }

  private pump(): void {
    while (this.active.size < this.maxRunning && this.queue.length > 0) {
      const job = this.queue.shift() as Job
      // Jobs report their own outcome; this catch is the last guard, so nothing escapes into the engine.
      const run: Promise<void> = job()
        .catch((err: unknown) => this.options.log(`error: hook: ${(err as Error).message}`))
        .finally(() => {
          this.active.delete(run)
          this.pump()
        })
      this.active.add(run)
    }
  }

  /** Through the shell (so pipes and && work), in its own process group so a timeout kills all of it. */
  private runCommand(command: string, event: HookEvent, body: string, timeoutSeconds: number, what: string): Promise<void> {
    const log = this.options.log
    const started = Date.now()
    const posix = process.platform !== 'win32'
    return new Promise<void>((resolve) => {
      const child = spawn(command, {
        shell: true,
        detached: posix,
        windowsHide: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          ...process.env,
          SWARMDROP_EVENT: event.event,
          SWARMDROP_RELEASE: event.release,
          SWARMDROP_INFOHASH: event.infoHash,
          ...(event.event === 'release.stalled' ? { SWARMDROP_SERVER: event.server.ip } : {}),
        },
      })
      let output = ''
      const keep = (chunk: Buffer): void => void (output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEPT))
      child.stdout.on('data', keep)
      child.stderr.on('data', keep)
      // A command that never reads its stdin may exit before we finish writing: EPIPE is no failure.
      child.stdin.on('error', () => undefined)
      child.stdin.end(`${body}\n`)

      let cut: 'timeout' | 'stopping' | null = null
      const killGroup = (): void => {
        try {
          if (posix && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
          else child.kill('SIGKILL')
        } catch {
          // Already gone.
        }
      }
      const timer = setTimeout(() => {
        cut = 'timeout'
        killGroup()
      }, timeoutSeconds * 1000)
      const onStop = (): void => {
        cut ??= 'stopping'
        killGroup()
      }
      this.stopping.signal.addEventListener('abort', onStop, { once: true })

      let settled = false
      const finish = (line: string): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        this.stopping.signal.removeEventListener('abort', onStop)
        // Background children of the command may hold these pipes open; we are done reading.
        child.stdout.destroy()
        child.stderr.destroy()
        log(line)
        resolve()
      }
      const took = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`
      child.on('error', (err) => finish(`error: hook: command for ${what} could not start: ${err.message}`))
      child.on('exit', (code, signal) => {
        if (cut === 'timeout') return finish(`error: hook: command for ${what} timed out after ${timeoutSeconds} s and was killed`)
        if (cut === 'stopping') return finish(`error: hook: command for ${what} was killed: Swarmdrop is stopping`)
        if (code === 0) return finish(`hook: command for ${what} done in ${took()}`)
        finish(`error: hook: command for ${what} failed (${code !== null ? `exit ${code}` : `signal ${signal}`}) after ${took()}${lastLine(output)}`)
      })
    })
  }

  private async post(url: string, body: string, timeoutSeconds: number, what: string): Promise<void> {
    const log = this.options.log
    const started = Date.now()
    // Webhook URLs often carry their secret in the path or query (Slack, Teams): the log names the origin only.
    const shown = `webhook ${new URL(url).origin}`
    const timeout = AbortSignal.timeout(timeoutSeconds * 1000)
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': `${PRODUCT.name}/${PRODUCT.version}` },
        body,
        signal: AbortSignal.any([timeout, this.stopping.signal]),
        // A redirect would re-send (or turn into a GET) somewhere the setting never named.
        redirect: 'manual',
      })
      // The answer's body is not ours to read; cancelling frees the connection.
      await res.body?.cancel().catch(() => undefined)
      const took = `${((Date.now() - started) / 1000).toFixed(1)} s`
      if (res.status >= 200 && res.status < 300) log(`hook: ${shown} for ${what} answered ${res.status} in ${took}`)
      else log(`error: hook: ${shown} for ${what} answered HTTP ${res.status} after ${took}`)
    } catch (err) {
      if (timeout.aborted) log(`error: hook: ${shown} for ${what} timed out after ${timeoutSeconds} s and was aborted`)
      else if (this.stopping.signal.aborted) log(`error: hook: ${shown} for ${what} was aborted: Swarmdrop is stopping`)
      else log(`error: hook: ${shown} for ${what} failed: ${describeFetchError(err)}`)
    }
  }
}

/** ": <the last non-empty line of output>", short, for a one-line log entry; "" without output. */
function lastLine(output: string): string {
  const line = output.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).at(-1)
  return line ? `: ${line.length > 200 ? `${line.slice(0, 200)}…` : line}` : ''
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, a DNS failure) in `cause`. */
function describeFetchError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } }
  return e.cause ? `${e.message} (${e.cause.code ?? e.cause.message ?? 'unknown cause'})` : e.message
}
