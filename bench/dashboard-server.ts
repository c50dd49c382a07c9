/** The built dashboard (dist/dashboard) over loopback HTTP, for the renderer benchmarks' Chromium. */
import { createServer, type Server } from 'node:http'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const DASHBOARD = fileURLToPath(new URL('../dashboard/', import.meta.url))
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' }

export function serveDashboard(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const rel = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/+/, '') || 'index.html'
    const file = path.join(DASHBOARD, path.normalize(rel))
    if (!file.startsWith(DASHBOARD)) return void res.writeHead(404).end()
    readFile(file).then(
      (body) => res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    )
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address()
      resolve({ server, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/` })
    }),
  )
}
