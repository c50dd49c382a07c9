/**
 * Run-time checks for every command request, whatever transport carried it (IPC's structured
 * clone, the WebSocket's JSON, a CLI of another version). The types in contract.ts hold only at
 * compile time; this is what makes them true at run time. A bad request is an INVALID_ARGUMENT
 * error naming the field, never a crash deeper in the core. Setting values are checked by the
 * settings store, which owns their rules; here only their names and JSON types.
 */
import { COMMAND_NAMES, type CommandName, type CommandRequest, type Settings } from './contract.js'
import { SwarmdropError } from './errors.js'

export const INFO_HASH_PATTERN = /^[0-9a-f]{40}$/
/** Channel names go into feed URLs (/feeds/<name>.xml): lowercase letters, digits, ".", "-", "_". */
export const CHANNEL_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/

type Check = (value: unknown, field: string) => void

const invalid = (message: string): SwarmdropError => new SwarmdropError('INVALID_ARGUMENT', message)

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'string') return `the text "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`
}

const text: Check = (v, field) => {
  if (typeof v !== 'string') throw invalid(`"${field}" must be text, got ${describe(v)}.`)
}
const nonEmptyText: Check = (v, field) => {
  text(v, field)
  if (v === '') throw invalid(`"${field}" must not be empty.`)
}
const bool: Check = (v, field) => {
  if (typeof v !== 'boolean') throw invalid(`"${field}" must be true or false, got ${describe(v)}.`)
}
const wholeNumber: Check = (v, field) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(`"${field}" must be a whole number, got ${describe(v)}.`)
}
const nullableText: Check = (v, field) => {
  if (v !== null) text(v, field)
}
const infoHash: Check = (v, field) => {
  if (typeof v !== 'string' || !INFO_HASH_PATTERN.test(v)) throw invalid(`"${field}" must be a release's info-hash (40 lowercase hex digits), got ${describe(v)}.`)
}
const channel: Check = (v, field) => {
  if (typeof v !== 'string' || !CHANNEL_PATTERN.test(v)) {
    throw invalid(`"${field}" must be a channel name: 1 to 64 lowercase letters, digits, ".", "-" or "_", starting with a letter or digit; got ${describe(v)}.`)
  }
}
const paths: Check = (v, field) => {
  if (!Array.isArray(v) || v.length === 0) throw invalid(`"${field}" must be a list of one or more paths, got ${describe(v)}.`)
  v.forEach((p, i) => nonEmptyText(p, `${field}[${i}]`))
}

/** A list (possibly empty) whose every entry passes `each`. */
function list(each: Check): Check {
  return (v, field) => {
    if (!Array.isArray(v)) throw invalid(`"${field}" must be a list, got ${describe(v)}.`)
    v.forEach((item, i) => each(item, `${field}[${i}]`))
  }
}

function retentionRule(v: unknown, field: string): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`"${field}" must be a rule { channel, keepLast, olderThanDays }, got ${describe(v)}.`)
  const r = v as Record<string, unknown>
  channel(r.channel, `${field}.channel`)
  for (const k of ['keepLast', 'olderThanDays'] as const) if (r[k] !== null) wholeNumber(r[k], `${field}.${k}`)
}

function watchFolder(v: unknown, field: string): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`"${field}" must be a watch folder { dir, channel }, got ${describe(v)}.`)
  const w = v as Record<string, unknown>
  for (const k of Object.keys(w)) if (k !== 'dir' && k !== 'channel') throw invalid(`"${field}" has no field "${k}".`)
  nonEmptyText(w.dir, `${field}.dir`)
  channel(w.channel, `${field}.channel`)
}

/** `{ command, webhookUrl, timeoutSeconds }`: JSON types here; the settings store checks the values (URL scheme, range). */
function hookSettings(v: unknown, field: string): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`"${field}" must be { command, webhookUrl, timeoutSeconds }, got ${describe(v)}.`)
  const h = v as Record<string, unknown>
  for (const k of Object.keys(h)) if (k !== 'command' && k !== 'webhookUrl' && k !== 'timeoutSeconds') throw invalid(`"${field}" has no field "${k}".`)
  if (h.command !== undefined) nullableText(h.command, `${field}.command`)
  if (h.webhookUrl !== undefined) nullableText(h.webhookUrl, `${field}.webhookUrl`)
  if (h.timeoutSeconds !== undefined) wholeNumber(h.timeoutSeconds, `${field}.timeoutSeconds`)
}

/** Fields of each request: required ones, then optional ones. undefined counts as absent. */
interface Shape {
  required?: Record<string, Check>
  optional?: Record<string, Check>
}

const EMPTY: Shape = {}
const RELEASE: Shape = { required: { infoHash } }

const SETTINGS_FIELDS: Record<keyof Settings, Check> = {
  address: nullableText,
  httpPort: wholeNumber,
  peerPort: wholeNumber,
  feedKey: nullableText,
  announceIntervalSeconds: wholeNumber,
  uploadLimit: wholeNumber,
  utp: bool,
  peerConnectionsPerAddress: wholeNumber,
  hooks: hookSettings,
  retention: list(retentionRule),
  uploadSchedule: (v, field) => {
    if (v === null) return
    if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`"${field}" must be { altLimit, hours } or null, got ${describe(v)}.`)
    const schedule = v as Record<string, unknown>
    wholeNumber(schedule.altLimit, `${field}.altLimit`)
    list(bool)(schedule.hours, `${field}.hours`)
  },
  watchFolders: list(watchFolder),
  externalTracker: (v, field) => {
    if (v === null) return
    if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`"${field}" must be { announceUrl, whitelistFile, reloadPid } or null, got ${describe(v)}.`)
    const e = v as Record<string, unknown>
    for (const k of Object.keys(e)) if (k !== 'announceUrl' && k !== 'whitelistFile' && k !== 'reloadPid') throw invalid(`"${field}" has no field "${k}".`)
    nonEmptyText(e.announceUrl, `${field}.announceUrl`)
    if (e.whitelistFile !== undefined) nullableText(e.whitelistFile, `${field}.whitelistFile`)
    if (e.reloadPid !== undefined && e.reloadPid !== null) wholeNumber(e.reloadPid, `${field}.reloadPid`)
  },
}

const SHAPES: { [K in CommandName]: Shape } = {
  'snapshot.get': EMPTY,
  'publish.preview': { required: { paths } },
  'publish.start': {
    required: { paths },
    optional: { name: nonEmptyText, channel, comment: text, private: bool, webSeed: bool, pieceLength: wholeNumber },
  },
  'publish.cancel': { required: { jobId: nonEmptyText } },
  'release.pause': RELEASE,
  'release.resume': RELEASE,
  'release.retire': RELEASE,
  'releases.pauseAll': EMPTY,
  'releases.resumeAll': EMPTY,
  'settings.update': { optional: SETTINGS_FIELDS },
  'settings.generateFeedKey': EMPTY,
  'fleet.get': EMPTY,
  'fleet.server': { required: { ip: nonEmptyText } },
  'fleet.roster.set': { required: { servers: list(nonEmptyText) } },
  'fleet.rename': { required: { ip: nonEmptyText, name: nullableText } },
  'releases.retireOld': { optional: { channel, keepLast: wholeNumber, olderThanDays: wholeNumber } },
}

export function isCommandName(value: unknown): value is CommandName {
  return typeof value === 'string' && (COMMAND_NAMES as readonly string[]).includes(value)
}

/** The request, checked field by field; throws INVALID_ARGUMENT naming the first bad field. */
export function validateRequest<K extends CommandName>(command: K, request: unknown): CommandRequest<K> {
  if (!isCommandName(command)) throw invalid(`Unknown command "${String(command)}".`)
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw invalid(`"${command}" expects an object as its request, got ${describe(request)}.`)
  }
  const shape = SHAPES[command]
  const fields = request as Record<string, unknown>
  for (const [name, check] of Object.entries(shape.required ?? {})) {
    if (fields[name] === undefined) throw invalid(`"${command}" needs "${name}".`)
    check(fields[name], name)
  }
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || shape.required?.[name]) continue
    const check = shape.optional?.[name]
    if (!check) throw invalid(`"${command}" has no field "${name}".`)
    check(value, name)
  }
  return request as CommandRequest<K>
}
