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
 *
 * What a reply needs of a peer lives in flat typed arrays indexed by slot: its compact form
 * (BEP 23 / BEP 7 bytes, built once when it joins) and a tag of its peer id. A 50-peer reply used
 * to read 50 peer objects and 50 Buffers scattered over the heap, and those cache misses were
 * most of a reply's cost on a 5,000-peer swarm; now sampling and copying read two small arrays.
 * A Buffer per peer also cost more memory than its 6 bytes.
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

/** Bytes per slot in the compact table: room for the longer, IPv6, form. */
const COMPACT_STRIDE = 18
const INITIAL_SLOTS = 64

export class Swarm {
  complete = 0
  incomplete = 0
  private readonly byAddr = new Map<string, SwarmPeer>()
  private readonly list: SwarmPeer[] = []
  /** Per slot: the compact address (COMPACT_STRIDE bytes) and its length, 0 for none, 6 or 18. */
  private compact = new Uint8Array(INITIAL_SLOTS * COMPACT_STRIDE)
  private compactLength = new Uint8Array(INITIAL_SLOTS)
  /** Per slot: peerIdTag(peer id), so excluding the asker needs no peer object but on a match. */
  private idTags = new Int32Array(INITIAL_SLOTS)
  /** Per slot: the sample that last picked it (sampling without replacement in O(numwant)). */
  private marks = new Uint32Array(INITIAL_SLOTS)
  private sampleRound = 0
  private readonly picked: number[] = []

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
      if (known.peerId !== a.peerId) {
        known.peerId = a.peerId
        this.idTags[known.slot] = peerIdTag(a.peerId)
      }
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
    const slot = this.list.length
    if (slot === this.compactLength.length) this.grow()
    const peer: SwarmPeer = { addr, ip: a.ip, port: a.port, peerId: a.peerId, left: a.left, complete, seenAt: at, slot }
    this.byAddr.set(addr, peer)
    this.list.push(peer)
    this.compactLength[slot] = writeCompactAddress(a.ip, a.port, this.compact, slot * COMPACT_STRIDE)
    this.idTags[slot] = peerIdTag(a.peerId)
    this.count(complete, +1)
    return peer
  }

  /**
   * Up to `numwant` distinct random peers' slots, in random order, never one with `exceptPeerId`:
   * O(numwant) whatever the swarm's size (Floyd's sampling, then a shuffle of the few picked).
   * The array is reused by the next call: read it before sampling again.
   */
  sampleSlots(numwant: number, exceptPeerId: string): readonly number[] {
    const out = this.picked
    out.length = 0
    const n = this.list.length
    // One more than wanted, so that dropping the asker (if drawn) still leaves numwant.
    const k = Math.min(n, numwant + 1)
    if (k <= 0 || numwant <= 0) return out
    if (++this.sampleRound === 0xffffffff) {
      this.marks.fill(0)
      this.sampleRound = 1
    }
    const round = this.sampleRound
    const marks = this.marks
    for (let j = n - k; j < n; j++) {
      const t = Math.floor(Math.random() * (j + 1))
      const slot = marks[t] === round ? j : t
      marks[slot] = round
      out.push(slot)
    }
    // Floyd's picks are a uniform set but not in a uniform order (late slots come last).
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      const t = out[i] as number
      out[i] = out[j] as number
      out[j] = t
    }
    const tag = peerIdTag(exceptPeerId)
    let kept = 0
    for (let i = 0; i < out.length && kept < numwant; i++) {
      const slot = out[i] as number
      if (this.idTags[slot] === tag && (this.list[slot] as SwarmPeer).peerId === exceptPeerId) continue
      out[kept++] = slot
    }
    out.length = kept
    return out
  }

  /** Up to `numwant` distinct random peers, never one with `exceptPeerId`: O(numwant). */
  sample(numwant: number, exceptPeerId: string): SwarmPeer[] {
    return this.sampleSlots(numwant, exceptPeerId).map((slot) => this.list[slot] as SwarmPeer)
  }

  /** Length of a slot's compact address: 6 (IPv4), 18 (IPv6) or 0 (none, e.g. a scoped address). */
  compactLengthAt(slot: number): number {
    return this.compactLength[slot] ?? 0
  }

  /** Copies a slot's compact address into `to` at `at`; returns the offset after it. */
  copyCompact(slot: number, to: Uint8Array, at: number): number {
    const length = this.compactLength[slot] ?? 0
    const from = slot * COMPACT_STRIDE
    // Byte by byte: a 6-byte Buffer#copy is a C++ call, and a reply makes 50 of them.
    for (let i = 0; i < length; i++) to[at + i] = this.compact[from + i] as number
    return at + length
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
      const to = peer.slot
      const from = last.slot
      this.list[to] = last
      last.slot = to
      this.compact.copyWithin(to * COMPACT_STRIDE, from * COMPACT_STRIDE, (from + 1) * COMPACT_STRIDE)
      this.compactLength[to] = this.compactLength[from] as number
      this.idTags[to] = this.idTags[from] as number
    }
    this.count(peer.complete, -1)
  }

  private grow(): void {
    const slots = this.compactLength.length * 2
    const grown = <T extends Uint8Array | Int32Array | Uint32Array>(old: T, make: (n: number) => T, stride = 1): T => {
      const next = make(slots * stride)
      next.set(old)
      return next
    }
    this.compact = grown(this.compact, (n) => new Uint8Array(n), COMPACT_STRIDE)
    this.compactLength = grown(this.compactLength, (n) => new Uint8Array(n))
    this.idTags = grown(this.idTags, (n) => new Int32Array(n))
    this.marks = grown(this.marks, (n) => new Uint32Array(n))
  }

  private count(complete: boolean, delta: number): void {
    if (complete) this.complete += delta
    else this.incomplete += delta
  }
}

/**
 * A peer id's last 4 bytes as an int: the random part of every client's id (the first 8 bytes
 * name the client and are shared across a fleet). Equal tags are confirmed on the string.
 */
function peerIdTag(peerIdHex: string): number {
  return parseInt(peerIdHex.slice(-8), 16) | 0
}

/** Writes the compact form of an address at `at`; returns its length, 0 if it has none. */
function writeCompactAddress(ip: string, port: number, to: Uint8Array, at: number): number {
  const bytes = compactAddress(ip, port)
  if (!bytes) return 0
  to.set(bytes, at)
  return bytes.length
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
