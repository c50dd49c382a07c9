/**
 * The WebSocket framing of the contract: one JSON message per frame.
 *
 * Browsers cannot set headers on a WebSocket, but they can offer subprotocols, which travel in
 * the Sec-WebSocket-Protocol header: the client offers `swarmdrop.v<N>` (the protocol it speaks)
 * and `bearer.<token>`. So the token is never in a URL, where it would land in logs and history.
 *
 * Versioned like Transmission's `rpc-version`: the server greets with its own version (`hello`)
 * and closes with CLOSE_PROTOCOL_MISMATCH and a readable reason when the client's differs, so a
 * CLI of one release driving an app of another says so instead of failing on some field. Bump
 * PROTOCOL_VERSION whenever a command, event or field changes meaning.
 */
import { EVENT_NAMES, type CommandName, type CommandRequest, type CommandResult, type EventName, type Events } from './contract.js'
import { isErrorInfo, toErrorInfo } from './errors.js'
import { isCommandName, validateRequest } from './request-validation.js'

export const PROTOCOL_VERSION = 5
const VERSION_PROTOCOL_PREFIX = 'swarmdrop.v'
const TOKEN_PROTOCOL_PREFIX = 'bearer.'
/** Application close code (4000-4999) for a client that speaks another protocol version. */
export const CLOSE_PROTOCOL_MISMATCH = 4001

export type ClientMessage = { [K in CommandName]: { type: 'call'; id: number; command: K; request: CommandRequest<K> } }[CommandName]

export type ServerMessage =
  | { type: 'hello'; protocolVersion: number; app: string }
  | { type: 'result'; id: number; result: CommandResult<CommandName> }
  | { [E in EventName]: { type: 'event'; event: E; payload: Events[E] } }[EventName]

export const WS_PATH = '/ws'
export const UPLOAD_PATH = '/upload'

/** Why a frame was refused: the message for the peer, and whether the id could be read. */
export type Parsed<T> = { ok: true; message: T } | { ok: false; id: number | null; reason: string }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/** A client frame: the envelope `{ type: 'call', id, command, request }` and the request's fields. */
export function parseClientMessage(text: string): Parsed<ClientMessage> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, id: null, reason: 'a message must be JSON' }
  }
  if (!isObject(value)) return { ok: false, id: null, reason: 'a message must be a JSON object' }
  const id = isId(value.id) ? value.id : null
  if (id === null) return { ok: false, id: null, reason: '"id" must be a whole number' }
  if (value.type !== 'call') return { ok: false, id, reason: `"type" must be "call", got ${JSON.stringify(value.type) ?? 'nothing'}` }
  if (!isCommandName(value.command)) return { ok: false, id, reason: `Unknown command ${JSON.stringify(value.command) ?? '(none)'}` }
  try {
    const request = validateRequest(value.command, value.request ?? {})
    return { ok: true, message: { type: 'call', id, command: value.command, request } as ClientMessage }
  } catch (err) {
    return { ok: false, id, reason: toErrorInfo(err).message }
  }
}

/** A server frame's envelope; payloads come from the core of the same protocol version. */
export function parseServerMessage(text: string): Parsed<ServerMessage> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, id: null, reason: 'a message from the server was not JSON' }
  }
  if (!isObject(value)) return { ok: false, id: null, reason: 'a message from the server was not an object' }
  if (value.type === 'hello') {
    if (typeof value.protocolVersion !== 'number' || typeof value.app !== 'string') return { ok: false, id: null, reason: 'a malformed hello from the server' }
    return { ok: true, message: { type: 'hello', protocolVersion: value.protocolVersion, app: value.app } }
  }
  if (value.type === 'result') {
    const result = value.result
    if (!isId(value.id) || !isObject(result)) return { ok: false, id: null, reason: 'a malformed result from the server' }
    if (result.ok === true && 'value' in result) return { ok: true, message: value as ServerMessage }
    if (result.ok === false && isErrorInfo(result.error)) return { ok: true, message: value as ServerMessage }
    return { ok: false, id: value.id, reason: 'a malformed result from the server' }
  }
  if (value.type === 'event' && (EVENT_NAMES as readonly unknown[]).includes(value.event) && 'payload' in value) return { ok: true, message: value as ServerMessage }
  return { ok: false, id: null, reason: `an unknown message type ${JSON.stringify(value.type) ?? '(none)'} from the server` }
}

export function protocolMismatchReason(serverVersion: number, app: string, clientVersion: string | null): string {
  // A WebSocket close reason holds at most 123 bytes.
  return clientVersion === null
    ? `${app} needs admin protocol ${serverVersion}; the client sent none. Use the same Swarmdrop version.`.slice(0, 123)
    : `${app} speaks admin protocol ${serverVersion}, the client ${clientVersion}. Use the same Swarmdrop version.`.slice(0, 123)
}

/** The subprotocols a client offers: the protocol it speaks, and its token. */
export function clientProtocols(token: string): string[] {
  return [`${VERSION_PROTOCOL_PREFIX}${PROTOCOL_VERSION}`, `${TOKEN_PROTOCOL_PREFIX}${token}`]
}

/** What a client offered in Sec-WebSocket-Protocol: its version (as offered) and its token. */
export function offeredProtocols(header: string | undefined): { versionProtocol: string | null; version: string | null; token: string | null } {
  const offered = (header ?? '').split(',').map((p) => p.trim())
  const versionProtocol = offered.find((p) => p.startsWith(VERSION_PROTOCOL_PREFIX)) ?? null
  const token = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX))?.slice(TOKEN_PROTOCOL_PREFIX.length) ?? null
  return { versionProtocol, version: versionProtocol?.slice(VERSION_PROTOCOL_PREFIX.length) ?? null, token }
}
