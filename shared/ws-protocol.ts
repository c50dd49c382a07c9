/**
 * The WebSocket framing of the contract: one JSON message per frame. The token travels in the
 * connection URL's query (`/ws?token=...`) because browsers cannot set headers on a WebSocket.
 */
import type { CommandName, CommandRequest, CommandResult, EventName, Events } from './contract.js'

export type ClientMessage = { [K in CommandName]: { type: 'call'; id: number; command: K; request: CommandRequest<K> } }[CommandName]

export type ServerMessage =
  | { type: 'result'; id: number; result: CommandResult<CommandName> }
  | { [E in EventName]: { type: 'event'; event: E; payload: Events[E] } }[EventName]

export const WS_PATH = '/ws'
export const UPLOAD_PATH = '/upload'
