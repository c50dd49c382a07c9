/** The weekly schedule: the hour of the week in local time picks the alternative limit or the normal one. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HOURS_PER_WEEK, hourOfWeek, limitInForce } from '../../electron/engine/upload-schedule.js'
import { validateSettings } from '../../electron/engine/settings-store.js'
import { trayModel } from '../../electron/shell/tray-state.js'
import { makeSnapshot } from '../support/fake-api.js'

/** Working hours, Monday to Friday 09:00–17:59. */
const workingHours = Array.from({ length: HOURS_PER_WEEK }, (_, h) => Math.floor(h / 24) < 5 && h % 24 >= 9 && h % 24 < 18)
const MB = 1_000_000

test('the alternative limit in its hours, the normal one outside them (local time, Monday first)', () => {
  const settings = { uploadLimit: 0, uploadSchedule: { altLimit: 20 * MB, hours: workingHours } }
  const monday10 = new Date(2026, 10, 30, 10, 15) // Monday 30 November 2026
  const monday20 = new Date(2026, 10, 30, 20, 0)
  const saturday10 = new Date(2026, 11, 5, 10, 0)
  assert.equal(hourOfWeek(monday10), 10)
  assert.equal(hourOfWeek(new Date(2026, 11, 6, 23, 59)), 167, 'Sunday 23:59 is the last hour')
  assert.deepEqual(limitInForce(settings, monday10), { limit: 20 * MB, source: 'schedule' })
  assert.deepEqual(limitInForce(settings, monday20), { limit: 0, source: 'normal' })
  assert.deepEqual(limitInForce(settings, saturday10), { limit: 0, source: 'normal' })
  assert.deepEqual(limitInForce({ uploadLimit: 5 * MB, uploadSchedule: null }, monday10), { limit: 5 * MB, source: 'normal' })
})

test('a schedule must have 168 hours; the tray says which limit is in force', () => {
  assert.throws(() => validateSettings({ uploadSchedule: { altLimit: 1, hours: [true] } }), /uploadSchedule\.hours must be 168 true\/false values/)
  assert.deepEqual(validateSettings({ uploadSchedule: { altLimit: 20 * MB, hours: workingHours } }).uploadSchedule?.altLimit, 20 * MB)
  const tooltip = trayModel(makeSnapshot({ uploadLimitNow: { limit: 20 * 1024 * 1024, source: 'schedule' } })).tooltip
  assert.match(tooltip, /Upload 0 B\/s \(limit 20\.0 MiB\/s, by the schedule\)/)
})
