/**
 * Settings: defaults, validation and persistence (`<dataDir>/settings.json`). Ports are fixed,
 * recognisable numbers a sysadmin can put in a firewall rule, not random ones.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { FEED_KEY_MIN_LENGTH, type Settings } from '../../shared/contract.js'
import { CHANNEL_PATTERN } from '../../shared/request-validation.js'
import { HOURS_PER_WEEK } from './upload-schedule.js'
import { randomBytes } from 'node:crypto'
import { SwarmdropError } from '../../shared/errors.js'
import { writeFileAtomic } from './atomic-write.js'
import { DEFAULT_HOOKS, validateHookSettings } from './hooks.js'
import { validateExternalTracker } from './external-tracker.js'
import { checkWatchFolders } from './watch-folders.js'
import { DEFAULT_CONNECTIONS_PER_ADDRESS } from './connection-caps.js'

export const DEFAULT_SETTINGS: Readonly<Settings> = {
  address: null,
  /** Feed, .torrent files, web seed and HTTP announce on TCP; the UDP tracker on the same number. */
  httpPort: 7070,
  /** BitTorrent peers (TCP, and UDP when uTP is on). */
  peerPort: 6881,
  feedKey: null,
  announceIntervalSeconds: 30,
  uploadLimit: 0,
  // Measured (docs and issue 3): webtorrent's uTP is >10× slower than its TCP; the seeder dials
  // each announcing server over TCP instead.
  utp: false,
  // Room for a server fetching many releases at once, or a few servers behind one NAT address;
  // the LAN server allows as many connections per IP.
  peerConnectionsPerAddress: DEFAULT_CONNECTIONS_PER_ADDRESS,
  hooks: DEFAULT_HOOKS,
  retention: [],
  uploadSchedule: null,
  watchFolders: [],
  externalTracker: null,
}

/** Throws INVALID_ARGUMENT naming the setting and the allowed range. */
export function validateSettings(patch: Partial<Settings>): Partial<Settings> {
  const out: Partial<Settings> = {}
  for (const [key, value] of Object.entries(patch) as [keyof Settings, unknown][]) {
    if (value === undefined) continue
    switch (key) {
      case 'address':
        if (value !== null && (typeof value !== 'string' || !/^[A-Za-z0-9.:[\]-]+$/.test(value.trim()) || value.trim() === '')) {
          throw invalid(`address "${String(value)}" is not a host name or IP address`)
        }
        out.address = value === null ? null : (value as string).trim()
        break
      case 'httpPort':
      case 'peerPort':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
          throw invalid(`${key} must be a port number from 1 to 65535 (0 picks a free one), got ${String(value)}`)
        }
        out[key] = value
        break
      case 'feedKey':
        if (value !== null && (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(value))) {
          throw invalid('feedKey must be letters, digits, "-" or "_" (it goes into every URL), at most 128 of them, or null for no key')
        }
        // A short key is a password anyone on the LAN can guess by trying: refuse it.
        if (value !== null && value.length < FEED_KEY_MIN_LENGTH) {
          throw invalid(`feedKey must be at least ${FEED_KEY_MIN_LENGTH} characters (about 128 bits when random), got ${value.length}; generate one instead`)
        }
        out.feedKey = value as string | null
        break
      case 'announceIntervalSeconds':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 5 || value > 3600) {
          throw invalid(`announceIntervalSeconds must be a whole number of seconds from 5 to 3600, got ${String(value)}`)
        }
        out.announceIntervalSeconds = value
        break
      case 'peerConnectionsPerAddress':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
          throw invalid(`peerConnectionsPerAddress must be a whole number from 1 to 65535 (servers behind one NAT address share it), got ${String(value)}`)
        }
        out.peerConnectionsPerAddress = value
        break
      case 'uploadLimit':
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
          throw invalid(`uploadLimit must be bytes per second (0 = unlimited), got ${String(value)}`)
        }
        out.uploadLimit = Math.round(value)
        break
      case 'uploadSchedule': {
        if (value === null) {
          out.uploadSchedule = null
          break
        }
        const schedule = (typeof value === 'object' ? value : {}) as { altLimit?: unknown; hours?: unknown }
        if (typeof schedule.altLimit !== 'number' || !Number.isInteger(schedule.altLimit) || schedule.altLimit < 0) {
          throw invalid('uploadSchedule.altLimit must be bytes per second (0 = unlimited)')
        }
        if (!Array.isArray(schedule.hours) || schedule.hours.length !== HOURS_PER_WEEK || !schedule.hours.every((h) => typeof h === 'boolean')) {
          throw invalid(`uploadSchedule.hours must be ${HOURS_PER_WEEK} true/false values, Monday 00:00 first`)
        }
        out.uploadSchedule = { altLimit: schedule.altLimit, hours: [...(schedule.hours as boolean[])] }
        break
      }
      case 'retention': {
        if (!Array.isArray(value)) throw invalid('retention must be a list of { channel, keepLast, olderThanDays } rules')
        const rules = value.map((r: unknown, i: number) => {
          const rule = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>
          const count = (x: unknown, what: string): number | null => {
            if (x === null || x === undefined) return null
            if (typeof x !== 'number' || !Number.isInteger(x) || x < 1) throw invalid(`retention[${i}].${what} must be a whole number from 1 up, or null`)
            return x
          }
          if (typeof rule.channel !== 'string' || !CHANNEL_PATTERN.test(rule.channel)) throw invalid(`retention[${i}].channel must be a channel name`)
          const keepLast = count(rule.keepLast, 'keepLast')
          const olderThanDays = count(rule.olderThanDays, 'olderThanDays')
          if (keepLast === null && olderThanDays === null) throw invalid(`retention[${i}] sets neither keepLast nor olderThanDays`)
          return { channel: rule.channel, keepLast, olderThanDays }
        })
        if (new Set(rules.map((r) => r.channel)).size !== rules.length) throw invalid('retention has two rules for the same channel')
        out.retention = rules
        break
      }
      case 'watchFolders':
        out.watchFolders = checkWatchFolders(value, invalid)
        break
      case 'hooks':
        // hooks.ts owns the rules (URL schemes, timeout range); the object is replaced as a whole.
        out.hooks = validateHookSettings(value)
        break
      case 'externalTracker':
        // external-tracker.ts owns the rules (URL schemes, an absolute whitelist path).
        out.externalTracker = validateExternalTracker(value, invalid)
        break
      case 'utp':
        if (typeof value !== 'boolean') throw invalid(`utp must be true or false, got ${String(value)}`)
        out.utp = value
        break
      default:
        throw invalid(`unknown setting "${String(key)}"`)
    }
  }
  return out
}

/** 24 random bytes as base64url: 32 URL-safe characters, 192 bits. */
export function generateFeedKey(): string {
  return randomBytes(24).toString('base64url')
}

function invalid(message: string): SwarmdropError {
  return new SwarmdropError('INVALID_ARGUMENT', `Invalid setting: ${message}.`)
}

export class SettingsStore {
  private constructor(
    private readonly file: string,
    private saved: Settings,
  ) {}

  static async open(dataDir: string): Promise<SettingsStore> {
    const file = path.join(dataDir, 'settings.json')
    let stored: Partial<Settings> = {}
    try {
      stored = validateSettings(JSON.parse(await readFile(file, 'utf8')) as Partial<Settings>)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        const reason = err instanceof SwarmdropError ? err.message : (err as Error).message
        throw new SwarmdropError('INVALID_ARGUMENT', `The settings file ${file} is damaged (${reason}). Fix or delete it to return to the defaults.`, { cause: err })
      }
    }
    return new SettingsStore(file, { ...DEFAULT_SETTINGS, ...stored })
  }

  get settings(): Settings {
    return { ...this.saved }
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    this.saved = { ...this.saved, ...validateSettings(patch) }
    await writeFileAtomic(this.file, `${JSON.stringify(this.saved, null, 2)}\n`)
    return this.settings
  }
}
