/**
 * The peers of one release as the tracker holds them: counts, a random sample for each reply, and
 * forgetting peers that went quiet. Every operation an announce needs is O(1) or O(numwant),
 * whatever the swarm's size; bittorrent-tracker's own swarm listed every peer's key on each
 * announce (Object.keys over its LRU), which made a reply cost O(swarm) and capped a 5,000-peer
 * swarm at about 2,000 announces/s.
 *
 * Layout: a Map keyed by address in least-recently-announced order (a re-announce moves a peer to
 * the end), so the oldest peer, the one to expire or evict, is always first; plus a dense array
 * of the same peers for sampling, where each peer knows its slot so removal is a swap with the last.
 * Each peer keeps its compact form (BEP 23 / BEP 7 bytes), built once when it joins.
 */
import { isIPv4, isIPv6 } from 'node:net'
import { hostPort } from './ip-address.js'

export interface SwarmPeer {
  /** "ip:port" or "[ip]:port": one peer per address, as BitTorrent trackers key them. */
  readonly addr: string
  readonly ip: string
  readonly port: number
  /** 40 hex characters. */
  peerId: string
  /** Bytes left as last reported; -1 when never reported. */
  left: number
  complete: boolean
  /** 6 bytes (IPv4) or 18 (IPv6); null for an address with no compact form. */
  readonly compact: Buffer | null
  readonly v6: boolean
  seenAt: number
  slot: number
}

export interface SwarmAnnounce {
  ip: string
  port: number
  peerId: string
  left: number
  event: 'started' | 'completed' | 'stopped' | 'update'
}

export interface SwarmLimits {
  /** Beyond this the longest-silent peer is dropped to make room. */
  maxPeers: number
  /** A peer not heard from for this long is gone. */
  ttlMs: number
}

export class Swarm {
  complete = 0
  incomplete = 0
  private readonly byAddr = new Map<string, SwarmPeer>()
  private readonly list: SwarmPeer[] = []

  constructor(
    readonly infoHash: string,
    private readonly limits: SwarmLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.byAddr.size
  }

  /** Applies one announce; returns the peer's record, or null once it has stopped. */
  announce(a: SwarmAnnounce): SwarmPeer | null {
    const at = this.now()
    this.expire(at)
    const addr = hostPort(a.ip, a.port)
    const known = this.byAddr.get(addr)
    if (a.event === 'stopped') {
      if (known) this.remove(known)
      return null
    }
    const complete = a.left === 0 || a.event === 'completed'
    if (known) {
      if (known.complete !== complete) {
        this.count(known.complete, -1)
        this.count(complete, +1)
        known.complete = complete
      }
      known.left = a.left
      known.peerId = a.peerId
      known.seenAt = at
      // Most recently heard from goes last: the Map's first entry is always the next to expire.
      this.byAddr.delete(addr)
      this.byAddr.set(addr, known)
      return known
    }
    if (this.byAddr.size >= this.limits.maxPeers) {
      const oldest = this.byAddr.values().next().value
      if (oldest) this.remove(oldest)
    }
    const v6 = a.ip.includes(':')
    const peer: SwarmPeer = { addr, ip: a.ip, port: a.port, peerId: a.peerId, left: a.left, complete, compact: compactAddress(a.ip, a.port), v6, seenAt: at, slot: this.list.length }
    this.byAddr.set(addr, peer)
    this.list.push(peer)
    this.count(complete, +1)
    return peer
  }

  /** Up to `numwant` distinct random peers, never one with `exceptPeerId`: O(numwant). */
  sample(numwant: number, exceptPeerId: string): SwarmPeer[] {
    const out: SwarmPeer[] = []
    const list = this.list
    const n = list.length
    // A partial Fisher-Yates shuffle in place: the array's order carries no meaning.
    for (let i = 0; i < n && out.length < numwant; i++) {
      const j = i + Math.floor(Math.random() * (n - i))
      const picked = list[j] as SwarmPeer
      if (j !== i) {
        const moved = list[i] as SwarmPeer
        list[i] = picked
        list[j] = moved
        picked.slot = i
        moved.slot = j
      }
      if (picked.peerId !== exceptPeerId) out.push(picked)
    }
    return out
  }

  /** Every live peer, oldest announce first. */
  peers(): SwarmPeer[] {
    this.expire(this.now())
    return [...this.byAddr.values()]
  }

  private expire(at: number): void {
    const before = at - this.limits.ttlMs
    for (const peer of this.byAddr.values()) {
      if (peer.seenAt >= before) return
      this.remove(peer)
    }
  }

  private remove(peer: SwarmPeer): void {
    this.byAddr.delete(peer.addr)
    const last = this.list.pop() as SwarmPeer
    if (last !== peer) {
      this.list[peer.slot] = last
      last.slot = peer.slot
    }
    this.count(peer.complete, -1)
  }

  private count(complete: boolean, delta: number): void {
    if (complete) this.complete += delta
    else this.incomplete += delta
  }
}

/** BEP 23 (IPv4, 6 bytes) or BEP 7 (IPv6, 18 bytes) form of an address; null if it has none. */
export function compactAddress(ip: string, port: number): Buffer | null {
  if (isIPv4(ip)) {
    const out = Buffer.allocUnsafe(6)
    const parts = ip.split('.')
    for (let i = 0; i < 4; i++) out[i] = Number(parts[i])
    out.writeUInt16BE(port, 4)
    return out
  }
  const bytes = ipv6Bytes(ip)
  if (!bytes) return null
  const out = Buffer.allocUnsafe(18)
  bytes.copy(out, 0)
  out.writeUInt16BE(port, 16)
  return out
}

function ipv6Bytes(ip: string): Buffer | null {
  // A scope (fe80::1%eth0) means nothing to another host.
  if (!isIPv6(ip) || ip.includes('%')) return null
  let text = ip
  const groups: number[] = []
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups.
  const lastColon = text.lastIndexOf(':')
  const tail = text.slice(lastColon + 1)
  let tailGroups: number[] = []
  if (tail.includes('.')) {
    const p = tail.split('.').map(Number)
    tailGroups = [((p[0] ?? 0) << 8) | (p[1] ?? 0), ((p[2] ?? 0) << 8) | (p[3] ?? 0)]
    text = text.slice(0, lastColon + 1) + '0'
  }
  const [head = '', rest] = text.split('::')
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)))
  const left = parse(head)
  const right = rest === undefined ? [] : parse(rest)
  if (tailGroups.length) (rest === undefined ? left : right).pop()
  const given = [...left, ...right, ...tailGroups].length
  groups.push(...left, ...new Array<number>(rest === undefined ? 0 : 8 - given).fill(0), ...right, ...tailGroups)
  if (groups.length !== 8) return null
  const out = Buffer.allocUnsafe(16)
  groups.forEach((g, i) => out.writeUInt16BE(g, 2 * i))
  return out
}
