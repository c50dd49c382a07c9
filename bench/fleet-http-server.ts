/**
 * A plain HTTP file server, the fleet benchmark's reference: what copying a release to every
 * server over HTTP from the publisher costs. Runs inside a namespace. GET /files/NAME streams a
 * file of DIR; GET /zero/BYTES streams that many zero bytes (for measuring a link's rate).
 * Usage: fleet-http-server.js HOST PORT DIR; prints "listening" once it accepts connections.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'

const [host, portArg, dir] = process.argv.slice(2)
if (!host || !portArg || !dir) {
  process.stderr.write('usage: fleet-http-server.js HOST PORT DIR\n')
  process.exit(2)
}
const ZEROS = Buffer.alloc(256 * 1024)

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x')
  const zero = /^\/zero\/(\d+)$/.exec(url.pathname)
  if (zero) {
    let left = Number(zero[1])
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(left) })
    const pump = (): void => {
      while (left > 0) {
        const chunk = ZEROS.subarray(0, Math.min(left, ZEROS.length))
        left -= chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      res.end()
    }
    return pump()
  }
  const file = /^\/files\/([^/]+)$/.exec(url.pathname)
  if (!file?.[1]) {
    res.writeHead(404).end()
    return
  }
  const full = path.join(dir, decodeURIComponent(file[1]))
  stat(full).then(
    (st) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(st.size) })
      createReadStream(full).pipe(res)
    },
    () => res.writeHead(404).end(),
  )
})
server.listen(Number(portArg), host, () => process.stdout.write('listening\n'))
