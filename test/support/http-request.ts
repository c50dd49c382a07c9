/**
 * A raw HTTP request over loopback: the path is sent byte for byte (no URL normalisation), so
 * tests can send `..`, `%2e%2e` and NUL exactly as an attacker would.
 */
import http from 'node:http'

export interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

export function rawRequest(port: number, rawPath: string, options: { method?: string; headers?: Record<string, string>; host?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: options.host ?? '127.0.0.1', port, path: rawPath, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`request ${rawPath} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

/** Percent-encodes raw bytes the way BitTorrent clients encode info_hash and peer_id. */
export function binaryQueryValue(bytes: Buffer): string {
  return [...bytes].map((b) => '%' + b.toString(16).padStart(2, '0')).join('')
}
