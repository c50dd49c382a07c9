/**
 * rTorrent 0.9.8 headless (recipe: /work/shared/recipes/rtorrent): `system.daemon.set = true` so it
 * needs no terminal, its own session dir, DHT and PeX off, and XML-RPC over SCGI on a unix socket
 * in that dir. A unix socket is a file, so the test reaches an rTorrent running inside a network
 * namespace without entering it. Torrents are added with `load.start` of a URL: rTorrent fetches
 * the .torrent itself, as a server's rTorrent does.
 */
import { spawn } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createConnection } from 'node:net'
import path from 'node:path'
import { supervise, type Supervised } from './child-process.js'
import { toolPath } from './tools.js'

export type XmlRpcValue = string | number | boolean | XmlRpcValue[] | { [key: string]: XmlRpcValue }

export interface RtDownload {
  hash: string
  name: string
  complete: boolean
  bytesDone: number
  size: number
}

export interface RtorrentOptions {
  /** Holds rtorrent.rc, the session, the log and the RPC socket. */
  dir: string
  downloadDir: string
  peerPort: number
  /** Run inside this network namespace (a test LAN host). */
  netns?: string
  /** More rtorrent.rc lines, after the defaults (a bench trying a setting, say). */
  extraRc?: string[]
}

export interface Rtorrent extends Supervised {
  /** One XML-RPC call; a fault is thrown with its message. */
  call(method: string, ...params: (string | number)[]): Promise<XmlRpcValue>
  /** `load.start "" URL`: fetch the .torrent and start it. */
  load(url: string): Promise<void>
  downloads(): Promise<RtDownload[]>
  /** rTorrent's own log (info level). */
  log(): Promise<string>
}

export async function startRtorrent(o: RtorrentOptions): Promise<Rtorrent> {
  const session = path.join(o.dir, 'session')
  await mkdir(session, { recursive: true })
  await mkdir(o.downloadDir, { recursive: true })
  const socket = path.join(o.dir, 'rpc.sock')
  const logFile = path.join(o.dir, 'rtorrent.log')
  const rc = [
    `directory.default.set = ${o.downloadDir}`,
    `session.path.set = ${session}`,
    `network.port_range.set = ${o.peerPort}-${o.peerPort}`,
    'network.port_random.set = no',
    'dht.mode.set = disable',
    'protocol.pex.set = no',
    'trackers.use_udp.set = yes',
    'protocol.encryption.set = allow_incoming,try_outgoing,enable_retry',
    `network.scgi.open_local = ${socket}`,
    'system.daemon.set = true',
    `log.open_file = main, ${logFile}`,
    'log.add_output = info, main',
    ...(o.extraRc ?? []),
    '',
  ].join('\n')
  const rcFile = path.join(o.dir, 'rtorrent.rc')
  await writeFile(rcFile, rc)
  const args = ['-n', '-o', `import=${rcFile}`]
  const [cmd, argv] = o.netns ? [toolPath('ip'), ['netns', 'exec', o.netns, toolPath('rtorrent'), ...args]] : [toolPath('rtorrent'), args]
  const proc = supervise(spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] }), 3000)
  const call = (method: string, ...params: (string | number)[]): Promise<XmlRpcValue> => scgiCall(socket, method, params)
  const log = (): Promise<string> => readFile(logFile, 'utf8').catch(() => '')

  const deadline = Date.now() + 15_000
  for (;;) {
    try {
      await call('system.client_version')
      break
    } catch (err) {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null || Date.now() > deadline) {
        await proc.stop()
        throw new Error(`rtorrent did not answer on ${socket}: ${(err as Error).message}\n${proc.output()}\n${await log()}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  // In daemon mode rTorrent 0.9.8 ignores SIGTERM; ask it to shut down (stopped announces go
  // out), then SIGINT, and only then the supervisor's SIGTERM/SIGKILL.
  const stop = async (): Promise<number | null> => {
    const running = (): boolean => proc.child.exitCode === null && proc.child.signalCode === null
    const exitedWithin = (ms: number): Promise<boolean> =>
      Promise.race([proc.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())])
    if (running()) await call('system.shutdown.normal').catch(() => proc.child.kill('SIGINT'))
    if (running() && !(await exitedWithin(5000))) proc.child.kill('SIGINT')
    return proc.stop()
  }
  return {
    ...proc,
    stop,
    call,
    log,
    async load(url) {
      await call('load.start', '', url)
    },
    async downloads() {
      const rows = await call('d.multicall2', '', 'main', 'd.hash=', 'd.name=', 'd.complete=', 'd.bytes_done=', 'd.size_bytes=')
      if (!Array.isArray(rows)) throw new Error(`d.multicall2 answered ${JSON.stringify(rows)}`)
      return rows.map((row) => {
        const [hash, name, complete, bytesDone, size] = row as [string, string, number, number, number]
        return { hash: hash.toLowerCase(), name, complete: complete === 1, bytesDone, size }
      })
    },
  }
}

// --- XML-RPC over SCGI ---------------------------------------------------------------------------

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' }
    if (named[e] !== undefined) return named[e]
    return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10))
  })
}

function encodeCall(method: string, params: (string | number)[]): string {
  const values = params.map((p) => `<param><value>${typeof p === 'number' ? `<i8>${p}</i8>` : `<string>${escapeXml(p)}</string>`}</value></param>`)
  return `<?xml version="1.0"?><methodCall><methodName>${escapeXml(method)}</methodName><params>${values.join('')}</params></methodCall>`
}

function scgiCall(socket: string, method: string, params: (string | number)[]): Promise<XmlRpcValue> {
  const body = Buffer.from(encodeCall(method, params))
  const headers = Buffer.from(`CONTENT_LENGTH\0${body.length}\0SCGI\x001\0REQUEST_METHOD\0POST\0REQUEST_URI\0/RPC2\0`)
  const request = Buffer.concat([Buffer.from(`${headers.length}:`), headers, Buffer.from(','), body])
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const conn = createConnection(socket)
    conn.setTimeout(10_000, () => conn.destroy(new Error(`rtorrent ${method}: no answer in 10 s`)))
    conn.on('error', reject)
    conn.on('data', (d: Buffer) => chunks.push(d))
    conn.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const at = text.indexOf('\r\n\r\n')
      try {
        resolve(decodeResponse(method, at >= 0 ? text.slice(at + 4) : text))
      } catch (err) {
        reject(err)
      }
    })
    conn.end(request)
  })
}

interface Token {
  tag: string | null
  closing: boolean
  selfClosing: boolean
  text: string
}

function tokenize(xml: string): Token[] {
  const out: Token[] = []
  for (const m of xml.matchAll(/<(\/?)([A-Za-z0-9_.:-]+)[^>]*?(\/?)>|<\?[^>]*\?>|([^<]+)/g)) {
    if (m[4] !== undefined) out.push({ tag: null, closing: false, selfClosing: false, text: m[4] })
    else if (m[2] !== undefined) out.push({ tag: m[2], closing: m[1] === '/', selfClosing: m[3] === '/', text: '' })
  }
  return out
}

function decodeResponse(method: string, xml: string): XmlRpcValue {
  const tokens = tokenize(xml)
  let i = 0
  const skipSpace = (): void => {
    while (i < tokens.length && tokens[i]?.tag === null && tokens[i]?.text.trim() === '') i++
  }
  const expectOpen = (tag: string): void => {
    skipSpace()
    const t = tokens[i]
    if (!t || t.tag !== tag || t.closing) throw new Error(`rtorrent ${method}: expected <${tag}> in ${xml.slice(0, 500)}`)
    i++
  }
  const expectClose = (tag: string): void => {
    skipSpace()
    const t = tokens[i]
    if (!t || t.tag !== tag || !t.closing) throw new Error(`rtorrent ${method}: expected </${tag}> in ${xml.slice(0, 500)}`)
    i++
  }
  const textUntilClose = (tag: string): string => {
    let s = ''
    while (i < tokens.length && tokens[i]?.tag === null) s += tokens[i++]?.text ?? ''
    expectClose(tag)
    return unescapeXml(s)
  }
  const value = (): XmlRpcValue => {
    expectOpen('value')
    const first = tokens[i]
    if (first?.tag === null) {
      // <value>text</value> is a string, unless the text is only space before a typed element.
      const next = tokens[i + 1]
      if (first.text.trim() !== '' || !next || next.tag === 'value') return textUntilClose('value')
      i++
    } else if (first?.tag === 'value' && first.closing) {
      i++
      return ''
    }
    const t = tokens[i++]
    if (!t || !t.tag) throw new Error(`rtorrent ${method}: bad value in ${xml.slice(0, 500)}`)
    let v: XmlRpcValue
    if (t.selfClosing) v = t.tag === 'array' ? [] : t.tag === 'struct' ? {} : ''
    else if (t.tag === 'string') v = textUntilClose('string')
    else if (t.tag === 'i4' || t.tag === 'i8' || t.tag === 'int' || t.tag === 'double') v = Number(textUntilClose(t.tag))
    else if (t.tag === 'boolean') v = textUntilClose('boolean').trim() === '1'
    else if (t.tag === 'array') {
      expectOpen('data')
      const items: XmlRpcValue[] = []
      for (;;) {
        skipSpace()
        if (tokens[i]?.tag === 'data' && tokens[i]?.closing) break
        items.push(value())
      }
      expectClose('data')
      expectClose('array')
      v = items
    } else if (t.tag === 'struct') {
      const obj: { [key: string]: XmlRpcValue } = {}
      for (;;) {
        skipSpace()
        if (tokens[i]?.tag === 'struct' && tokens[i]?.closing) break
        expectOpen('member')
        expectOpen('name')
        const name = textUntilClose('name')
        obj[name] = value()
        expectClose('member')
      }
      expectClose('struct')
      v = obj
    } else throw new Error(`rtorrent ${method}: unknown XML-RPC type <${t.tag}>`)
    expectClose('value')
    return v
  }
  expectOpen('methodResponse')
  skipSpace()
  if (tokens[i]?.tag === 'fault') {
    i++
    const fault = value()
    const f = typeof fault === 'object' && !Array.isArray(fault) ? fault : {}
    throw new Error(`rtorrent ${method}: fault ${String(f.faultCode)}: ${String(f.faultString)}`)
  }
  expectOpen('params')
  expectOpen('param')
  return value()
}
