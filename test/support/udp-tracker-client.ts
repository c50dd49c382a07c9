/**
 * A minimal BEP 15 UDP tracker client, written from the spec so the test does not trust the library
 * it tests. Like real clients it connects first and announces with the connection id it was given.
 */
import dgram from 'node:dgram'

/** BEP 15's magic constant: only ever valid as the connection id of a connect request. */
export const PROTOCOL_ID = Buffer.from('0000041727101980', 'hex')
export const UDP_EVENT = { none: 0, completed: 1, started: 2, stopped: 3 } as const

export interface UdpAnnounce {
  infoHash: Buffer
  peerId: Buffer
  downloaded: bigint
  left: bigint
  uploaded: bigint
  event: number
  port: number
  numWant?: number
  /** BEP 15's optional IP address field (dotted IPv4); 0, "use the sender's", when absent. */
  ip?: string
}

export type UdpReply =
  | { action: 'announce'; transactionId: number; interval: number; leechers: number; seeders: number; peers: { ip: string; port: number }[] }
  | { action: 'error'; transactionId: number; message: string }
  | { action: 'connect'; transactionId: number; connectionId: Buffer }
  | { action: 'scrape'; transactionId: number; files: { seeders: number; completed: number; leechers: number }[] }
  | { action: 'other'; transactionId: number; raw: Buffer }

export class UdpTrackerClient {
  private readonly socket = dgram.createSocket('udp4')
  /** `localAddress`: send from this address (e.g. 127.2.0.7), as a distinct server would. */
  constructor(
    private readonly port: number,
    private readonly host = '127.0.0.1',
    localAddress?: string,
  ) {
    // Sends issued before the bind completes are queued by dgram.
    if (localAddress) this.socket.bind(0, localAddress)
  }

  /** Sends one datagram and waits for the reply with the same transaction id. */
  exchange(packet: Buffer, timeoutMs = 3000): Promise<UdpReply> {
    const transactionId = packet.length >= 16 ? packet.readUInt32BE(12) : -1
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.off('message', onMessage)
        reject(new Error(`no UDP tracker reply within ${timeoutMs} ms`))
      }, timeoutMs)
      const onMessage = (msg: Buffer) => {
        if (msg.length < 8 || msg.readUInt32BE(4) !== transactionId) return
        clearTimeout(timer)
        this.socket.off('message', onMessage)
        resolve(parseReply(msg))
      }
      this.socket.on('message', onMessage)
      this.socket.send(packet, this.port, this.host)
    })
  }

  async connect(): Promise<Buffer> {
    const reply = await this.exchange(connectPacket(randomTransaction()))
    if (reply.action !== 'connect') throw new Error(`expected a connect reply, got ${JSON.stringify(reply)}`)
    return reply.connectionId
  }

  async announce(a: UdpAnnounce): Promise<UdpReply> {
    const connectionId = await this.connect()
    return this.exchange(announcePacket(connectionId, randomTransaction(), a))
  }

  async scrape(infoHashes: Buffer[]): Promise<UdpReply> {
    const connectionId = await this.connect()
    return this.exchange(scrapePacket(connectionId, randomTransaction(), infoHashes))
  }

  /** Fire and forget, for packets the tracker may rightly never answer. */
  send(packet: Buffer): void {
    this.socket.send(packet, this.port, this.host)
  }

  close(): void {
    this.socket.close()
  }
}

export function connectPacket(transactionId: number): Buffer {
  const b = Buffer.alloc(16)
  PROTOCOL_ID.copy(b, 0)
  b.writeUInt32BE(0, 8)
  b.writeUInt32BE(transactionId, 12)
  return b
}

export function announcePacket(connectionId: Buffer, transactionId: number, a: UdpAnnounce): Buffer {
  const b = Buffer.alloc(98)
  connectionId.copy(b, 0)
  b.writeUInt32BE(1, 8)
  b.writeUInt32BE(transactionId, 12)
  a.infoHash.copy(b, 16)
  a.peerId.copy(b, 36)
  b.writeBigUInt64BE(a.downloaded, 56)
  b.writeBigUInt64BE(a.left, 64)
  b.writeBigUInt64BE(a.uploaded, 72)
  b.writeUInt32BE(a.event, 80)
  b.writeUInt32BE(a.ip ? a.ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0) : 0, 84)
  b.writeUInt32BE(0x1234, 88) // key
  b.writeInt32BE(a.numWant ?? -1, 92)
  b.writeUInt16BE(a.port, 96)
  return b
}

export function scrapePacket(connectionId: Buffer, transactionId: number, infoHashes: Buffer[]): Buffer {
  const head = Buffer.alloc(16)
  connectionId.copy(head, 0)
  head.writeUInt32BE(2, 8)
  head.writeUInt32BE(transactionId, 12)
  return Buffer.concat([head, ...infoHashes])
}

export function randomTransaction(): number {
  return Math.floor(Math.random() * 0xffffffff) >>> 0
}

function parseReply(msg: Buffer): UdpReply {
  const action = msg.readUInt32BE(0)
  const transactionId = msg.readUInt32BE(4)
  if (action === 0 && msg.length >= 16) return { action: 'connect', transactionId, connectionId: msg.subarray(8, 16) }
  if (action === 2) {
    const files: { seeders: number; completed: number; leechers: number }[] = []
    for (let o = 8; o + 12 <= msg.length; o += 12) files.push({ seeders: msg.readUInt32BE(o), completed: msg.readUInt32BE(o + 4), leechers: msg.readUInt32BE(o + 8) })
    return { action: 'scrape', transactionId, files }
  }
  if (action === 3) return { action: 'error', transactionId, message: msg.subarray(8).toString('utf8') }
  if (action === 1 && msg.length >= 20) {
    const peers: { ip: string; port: number }[] = []
    for (let o = 20; o + 6 <= msg.length; o += 6) peers.push({ ip: [...msg.subarray(o, o + 4)].join('.'), port: msg.readUInt16BE(o + 4) })
    return { action: 'announce', transactionId, interval: msg.readUInt32BE(8), leechers: msg.readUInt32BE(12), seeders: msg.readUInt32BE(16), peers }
  }
  return { action: 'other', transactionId, raw: msg }
}
