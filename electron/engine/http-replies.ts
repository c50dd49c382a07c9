/** The LAN server's plain replies. A 404 says nothing about why: not which part was wrong. */
import type { ServerResponse } from 'node:http'

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(text))
  res.end(res.req.method === 'HEAD' ? undefined : text)
}

export function notFound(res: ServerResponse): void {
  sendText(res, 404, 'Not found\n')
}

export function methodNotAllowed(res: ServerResponse): void {
  res.setHeader('Allow', 'GET, HEAD')
  sendText(res, 405, 'Method not allowed\n')
}
