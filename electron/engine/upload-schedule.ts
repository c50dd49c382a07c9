/**
 * The weekly upload schedule: a 7 × 24 grid of hours (Monday 00:00 first, local time), like
 * Resilio's grid and qBittorrent's "alternative rate limits": in the hours marked, the
 * alternative limit applies instead of the normal one. Full speed at night, 20 MB/s during
 * working hours, say. Pure: the engine asks it once a minute with its (movable) clock.
 */
import type { Settings, UploadSchedule } from '../../shared/contract.js'

export const HOURS_PER_WEEK = 7 * 24

/** The hour of the week in local time: 0 = Monday 00:00–00:59, 167 = Sunday 23:00–23:59. */
export function hourOfWeek(at: Date): number {
  const mondayFirst = (at.getDay() + 6) % 7
  return mondayFirst * 24 + at.getHours()
}

export interface LimitInForce {
  /** Bytes per second, 0 = unlimited. */
  limit: number
  /** Which one applies now. */
  source: 'normal' | 'schedule'
}

export function limitInForce(settings: Pick<Settings, 'uploadLimit' | 'uploadSchedule'>, at: Date): LimitInForce {
  const schedule: UploadSchedule | null = settings.uploadSchedule
  if (schedule && schedule.hours[hourOfWeek(at)] === true) return { limit: schedule.altLimit, source: 'schedule' }
  return { limit: settings.uploadLimit, source: 'normal' }
}
