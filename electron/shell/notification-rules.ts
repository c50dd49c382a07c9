/**
 * Which core events become native notifications, and their text. Pure (no electron import):
 * electron/notifications.ts shows what these rules return.
 */
import type { Events } from '../../shared/contract.js'
import { formatBytes, formatElapsed } from '../../shared/format.js'

export interface NotificationContent {
  title: string
  body: string
  /** Errors stay on screen until dismissed where the platform allows it. */
  urgent: boolean
}

export function publishDoneNotification(payload: Events['publish.done']): NotificationContent {
  const r = payload.release
  const files = r.fileCount === 1 ? '1 file' : `${r.fileCount} files`
  return {
    title: `Published ${r.name}`,
    body: `${files}, ${formatBytes(r.totalSize)}, now seeding. Servers pick it up on their next feed poll.`,
    urgent: false,
  }
}

/** A cancelled publish is the user's own doing: no notification for it. */
export function publishErrorNotification(payload: Events['publish.error']): NotificationContent | null {
  if (payload.error.code === 'CANCELLED') return null
  return { title: 'Publish failed', body: payload.error.message, urgent: true }
}

/** Every expected server has the release: the end of a rollout, with how long it took from publishing. */
export function rolloutCompleteNotification(payload: Events['release.rolloutComplete']): NotificationContent {
  const who = payload.servers === 1 ? 'its one expected server' : `all ${payload.servers} servers`
  return {
    title: `${payload.name} is on every server`,
    body: `${payload.name} reached ${who} in ${formatElapsed(payload.tookMs)}.`,
    urgent: false,
  }
}

export type ServerCompletion = Events['release.completedByServer']

/**
 * One notification per batch of servers finishing the same release: a fleet of 50 servers that
 * finishes within seconds should produce one "50 servers have X", not 50 pop-ups.
 */
export function serversCompletedNotification(completions: readonly ServerCompletion[]): NotificationContent | null {
  const first = completions[0]
  if (!first) return null
  const names = [...new Set(completions.map((c) => c.hostname ?? c.ip))]
  const who = names.length === 1 ? names[0] : names.length <= 3 ? names.join(', ') : `${names.length} servers`
  return {
    title: `${first.name} reached ${names.length === 1 ? 'a server' : `${names.length} servers`}`,
    body: `${who} ${names.length === 1 ? 'has' : 'have'} the complete release.`,
    urgent: false,
  }
}

/**
 * Groups completions per release over a short window and emits each group once. The clock is
 * injected so the rule is tested without waiting.
 */
export class CompletionBatcher {
  private readonly pending = new Map<string, { items: ServerCompletion[]; timer: ReturnType<typeof setTimeout> }>()

  constructor(
    private readonly emit: (content: NotificationContent) => void,
    private readonly windowMs = 3000,
    private readonly timers: { set: typeof setTimeout; clear: typeof clearTimeout } = { set: setTimeout, clear: clearTimeout },
  ) {}

  add(completion: ServerCompletion): void {
    const group = this.pending.get(completion.infoHash)
    if (group) {
      group.items.push(completion)
      return
    }
    const timer = this.timers.set(() => this.flush(completion.infoHash), this.windowMs)
    // A pending notification must never keep a quitting process alive.
    timer.unref?.()
    this.pending.set(completion.infoHash, { items: [completion], timer })
  }

  /** Drops whatever is pending (on quit: the app is going away, the pop-up would be orphaned). */
  dispose(): void {
    for (const { timer } of this.pending.values()) this.timers.clear(timer)
    this.pending.clear()
  }

  private flush(infoHash: string): void {
    const group = this.pending.get(infoHash)
    this.pending.delete(infoHash)
    const content = group ? serversCompletedNotification(group.items) : null
    if (content) this.emit(content)
  }
}
