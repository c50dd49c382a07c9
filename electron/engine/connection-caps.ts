/**
 * A cap on open connections from one remote address, enforced before a server's own handler sees
 * the socket: the LAN server's HTTP parser, or webtorrent's peer pool, which takes every incoming
 * connection and keeps a wire for each. 4,000 wires opened from one address cost serve 158 MiB and
 * 13.7 s of CPU, and nothing in webtorrent bounds them; a legitimate server needs one wire per
 * release it fetches.
 *
 * Per address, not per subnet: servers on one IPv6 LAN share a /64. Servers behind one NAT
 * address share the cap, which is why the peer port's is a setting.
 */
import { normalizeIp } from './ip-address.js'

/** Per address, on the LAN server and (by default) on the peer port. */
export const DEFAULT_CONNECTIONS_PER_ADDRESS = 32

/** An incoming connection: a net.Socket, or a uTP connection (utp-native). */
export interface IncomingConnection {
  readonly remoteAddress?: string
  destroy(): void
  on(event: 'error', listener: (err: Error) => void): unknown
  once(event: 'close', listener: () => void): unknown
}

/** A listener that emits 'connection': a net.Server, an http.Server, or a utp-native server. */
export interface ConnectionSource {
  listeners(event: 'connection'): unknown[]
  removeAllListeners(event: 'connection'): unknown
  on(event: 'connection', listener: (connection: IncomingConnection) => void): unknown
}

export class ConnectionCap {
  private readonly open = new Map<string, number>()

  /**
   * `limit()` is read at each new connection, so a changed setting applies to the next one; what
   * is open already stays. `onRefused` hears each connection turned away, with its address and
   * the limit.
   */
  constructor(
    private readonly limit: () => number,
    private readonly onRefused: (ip: string, limit: number) => void = () => undefined,
  ) {}

  /** Puts the cap in front of `server`'s 'connection' handlers; several servers share one count. */
  gate(server: ConnectionSource): void {
    // Handlers added after this would bypass the gate; the servers here add theirs at creation.
    const handlers = server.listeners('connection') as ((connection: IncomingConnection) => void)[]
    server.removeAllListeners('connection')
    server.on('connection', (connection) => {
      if (this.admit(connection)) for (const handler of handlers) handler.call(server, connection)
    })
  }

  /** Open connections from `ip` now, in any form of the address. */
  openFrom(ip: string): number {
    return this.open.get(normalizeIp(ip)) ?? 0
  }

  private admit(connection: IncomingConnection): boolean {
    // Without an address the socket is already gone; the server's own handler drops it.
    if (connection.remoteAddress === undefined) return true
    const ip = normalizeIp(connection.remoteAddress)
    const count = (this.open.get(ip) ?? 0) + 1
    const max = this.limit()
    if (count > max) {
      connection.on('error', () => undefined)
      connection.destroy()
      this.onRefused(ip, max)
      return false
    }
    this.open.set(ip, count)
    connection.once('close', () => {
      const left = (this.open.get(ip) ?? 1) - 1
      if (left <= 0) this.open.delete(ip)
      else this.open.set(ip, left)
    })
    return true
  }
}
