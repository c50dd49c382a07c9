/** The retention plan: per channel, keep the newest N and/or retire what is older than D days. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { retentionPlan, type RetainedRelease } from '../../electron/engine/retention.js'

const NOW = Date.parse('2026-11-30T12:00:00Z')
const daysAgo = (d: number): string => new Date(NOW - d * 24 * 3600_000).toISOString()
const r = (infoHash: string, channel: string, age: number, state: RetainedRelease['state'] = 'seeding'): RetainedRelease => ({ infoHash, channel, publishedAt: daysAgo(age), state })

test('keep the last N per channel, and/or retire older than D days; other channels and retired ones untouched', () => {
  const library = [r('s1', 'default', 40), r('s2', 'default', 20), r('s3', 'default', 10), r('s4', 'default', 1), r('b1', 'beta', 90), r('b2', 'beta', 2, 'paused'), r('old', 'default', 400, 'retired')]
  assert.deepEqual(retentionPlan(library, [{ channel: 'default', keepLast: 2, olderThanDays: null }], NOW), ['s1', 's2'])
  assert.deepEqual(retentionPlan(library, [{ channel: 'default', keepLast: null, olderThanDays: 15 }], NOW), ['s1', 's2'])
  assert.deepEqual(retentionPlan(library, [{ channel: 'default', keepLast: 3, olderThanDays: 30 }], NOW), ['s1'])
  assert.deepEqual(retentionPlan(library, [{ channel: 'beta', keepLast: 1, olderThanDays: null }], NOW), ['b1'], 'a paused release counts as kept')
  assert.deepEqual(retentionPlan(library, [], NOW), [])
})
