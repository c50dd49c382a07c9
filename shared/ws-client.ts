/**
 * A SwarmdropApi over the admin WebSocket. Runs in the browser (global WebSocket) and in Node
 * (pass the `ws` package's class), so the dashboard and the CLI share one client.
 */
import type { CommandName, CommandRequest, CommandResult, EventName, Events, SwarmdropApi } from './contract.js'
import { clientProtocols, CLOSE_PROTOCOL_MISMATCH, parseServerMessage, PROTOCOL_VERSION, WS_PATH, type ClientMessage } from './ws-protocol.js'

/** The part of the WebSocket API both the browser and the `ws` package implement. */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  // Method-style signatures are checked bivariantly, so the browser's WebSocket (whose handlers
  // take Event subtypes) and the ws package's both fit without a cast.
  onopen: { bivarianceHack(ev: unknown): void }['bivarianceHack'] | null
  onclose: { bivarianceHack(ev: { code: number; reason: string }): void }['bivarianceHack'] | null
  onerror: { bivarianceHack(ev: unknown): void }['bivarianceHack'] | null
  onmessage: { bivarianceHack(ev: { data: unknown }): void }['bivarianceHack'] | null
}
export type WebSocketConstructor = new (url: string, protocols?: string[]) => WebSocketLike

export interface WsApi extends SwarmdropApi {
  close(): void
  /** Called once when the connection drops (not after close()). */
  onDisconnect(listener: (reason: string) => void): void
}

/** Without the server's hello by then, the other end is not a Swarmdrop of this protocol. */
const HELLO_TIMEOUT_MS = 10_000

export function wsUrlFor(httpBase: string): string {
  const u = new URL(WS_PATH, httpBase)
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:'
  return u.toString()
}

/** `url` is the admin server's base (http://127.0.0.1:PORT) or a ws:// URL to /ws. */
export function connectWs(url: string, token: string, WebSocketCtor: WebSocketConstructor): Promise<WsApi> {
  const target = url.startsWith('ws') ? url : wsUrlFor(url)
  return new Promise((resolve, reject) => {
    const socket = new WebSocketCtor(target, clientProtocols(token))
    let nextId = 1
    let opened = false
    let closedByUs = false
    const pending = new Map<number, (result: CommandResult<CommandName>) => void>()
    const listeners = new Map<EventName, Set<(payload: never) => void>>()
    const disconnectListeners: ((reason: string) => void)[] = []

    // "Opened" means greeted: the server's hello names a protocol this client speaks.
    const helloTimer = setTimeout(() => {
      if (opened) return
      reject(new Error(`The server at ${url} accepted the connection but never greeted like a Swarmdrop admin server`))
      socket.close(1000, 'no hello')
    }, HELLO_TIMEOUT_MS)
    socket.onerror = () => {
      if (!opened) reject(new Error(`Cannot connect to the Swarmdrop admin server at ${url}`))
    }
    socket.onclose = (ev) => {
      clearTimeout(helloTimer)
      const reason =
        ev.code === CLOSE_PROTOCOL_MISMATCH
          ? `refused: ${ev.reason}`
          : ev.code === 1008
            ? `refused: ${ev.reason || 'bad token'}`
            : `connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`
      for (const settle of pending.values()) settle({ ok: false, error: { code: 'NOT_RUNNING', message: `Lost the connection to Swarmdrop: ${reason}` } })
      pending.clear()
      if (!opened) reject(new Error(`The Swarmdrop admin server ${reason}`))
      else if (!closedByUs) for (const l of disconnectListeners) l(reason)
    }
    socket.onmessage = (ev) => {
      const parsed = parseServerMessage(String(ev.data))
      if (!parsed.ok) {
        // A result we cannot read still settles its call, rather than leaving it waiting forever.
        if (parsed.id !== null) pending.get(parsed.id)?.({ ok: false, error: { code: 'INTERNAL', message: `Swarmdrop sent ${parsed.reason}.` } })
        return
      }
      const msg = parsed.message
      if (msg.type === 'hello') {
        if (opened) return
        clearTimeout(helloTimer)
        if (msg.protocolVersion !== PROTOCOL_VERSION) {
          reject(new Error(`${msg.app} speaks admin protocol ${msg.protocolVersion}, this client ${PROTOCOL_VERSION}: use the same Swarmdrop version for both`))
          socket.close(1000, 'protocol mismatch')
          return
        }
        opened = true
        resolve(api)
      } else if (msg.type === 'result') {
        pending.get(msg.id)?.(msg.result)
        pending.delete(msg.id)
      } else if (msg.type === 'event') {
        const event: EventName = msg.event
        for (const l of listeners.get(event) ?? []) (l as (p: unknown) => void)(msg.payload)
      }
    }

    const api: WsApi = {
      call<K extends CommandName>(command: K, request: CommandRequest<K>): Promise<CommandResult<K>> {
        return new Promise((settle) => {
          const id = nextId++
          pending.set(id, settle as (r: CommandResult<CommandName>) => void)
          const message = { type: 'call', id, command, request } as ClientMessage
          socket.send(JSON.stringify(message))
        })
      },
      on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
        let set = listeners.get(event)
        if (!set) listeners.set(event, (set = new Set()))
        set.add(listener as (payload: never) => void)
        return () => set.delete(listener as (payload: never) => void)
      },
      close() {
        closedByUs = true
        socket.close(1000, 'bye')
      },
      onDisconnect(listener) {
        disconnectListeners.push(listener)
      },
    }
  })
}
