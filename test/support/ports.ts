/** Free ports for real clients: other engineers run tests on this machine at the same time. */
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'

/** A port free on TCP and UDP at 127.0.0.1 right now (the OS picks it; the UDP check covers trackers and uTP). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer()
      srv.once('error', reject)
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address()
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0))
      })
    })
    const udpFree = await new Promise<boolean>((resolve) => {
      const sock = createSocket('udp4')
      sock.once('error', () => resolve(false))
      sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)))
    })
    if (udpFree && port > 0) return port
  }
  throw new Error('no free TCP+UDP port found on 127.0.0.1')
}

/** Several distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const out = new Set<number>()
  while (out.size < count) out.add(await freePort())
  return [...out]
}
