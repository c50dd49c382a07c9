/**
 * Retention: per channel, keep the last N releases and/or retire the ones older than D days.
 * Retiring takes a release out of the feed and stops seeding it; its files are never deleted.
 * A pure plan over the library, so the rule is tested without an engine.
 */
import type { RetentionRule } from '../../shared/contract.js'

export interface RetainedRelease {
  infoHash: string
  channel: string
  publishedAt: string
  state: 'seeding' | 'paused' | 'retired'
}

const DAY_MS = 24 * 3600_000

/** The info-hashes the rules retire now, oldest first. */
export function retentionPlan(releases: readonly RetainedRelease[], rules: readonly RetentionRule[], now: number): string[] {
  const out: string[] = []
  for (const rule of rules) {
    const live = releases
      .filter((r) => r.state !== 'retired' && r.channel === rule.channel)
      .sort((a, b) => (a.publishedAt < b.publishedAt ? 1 : a.publishedAt > b.publishedAt ? -1 : 0))
    live.forEach((r, newestFirst) => {
      const beyondLast = rule.keepLast !== null && newestFirst >= rule.keepLast
      const tooOld = rule.olderThanDays !== null && now - Date.parse(r.publishedAt) > rule.olderThanDays * DAY_MS
      if (beyondLast || tooOld) out.push(r.infoHash)
    })
  }
  return out.reverse()
}
