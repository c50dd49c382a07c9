/**
 * An external tracker (opentracker) for fleets beyond what the built-in tracker holds. Swarmdrop
 * stays the one source of truth for what is published: every .torrent carries the external
 * announce URL (the engine asks `announceUrls()`), and this module keeps opentracker's whitelist
 * (`-w FILE` / `access.whitelist`: one hex info-hash per line) equal to the published releases.
 *
 * opentracker re-reads its whitelist only on SIGHUP, so after each change the configured pid is
 * signalled. Before the seeder's first announce of a release, `allow()` waits until the tracker
 * really accepts it: opentracker answers a refused announce with a failure, and webtorrent would
 * then not announce again for the tracker's interval (about 30 minutes), leaving the servers with
 * nobody to download from. The probe is the seeder's own announce (its peer id and port, nothing
 * left), so the tracker learns nothing that is not true a moment later.
 *
 * The whitelist is written atomically (temp file, rename) in its own folder: opentracker, chrooted
 * there as `nobody`, never reads half a list. Writes are serialised and always write the newest set.
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { networkInterfaces } from 'node:os'
import path from 'node:path'
import type { ExternalTracker } from '../../shared/contract.js'
import { SwarmdropError } from '../../shared/errors.js'
import { writeFileAtomic } from './atomic-write.js'
import { bdecode, type DecodedDict } from './bencode.js'

/** How long `allow()` waits for the tracker to accept a new info-hash before seeding anyway. */
const ACCEPT_WAIT_MS = 10_000
const PROBE_EVERY_MS = 100
const PROBE_TIMEOUT_MS = 2_000
/** Peers asked for per listing (opentracker's most per reply is 200). */
const PEERS_WANTED = 200
/** The whitelist's one line when nothing is published (see sync()). */
export const NOTHING_PUBLISHED = '0'.repeat(40)

/** The setting's rules; `invalid` makes the error (the settings store's INVALID_ARGUMENT). */
export function validateExternalTracker(value: unknown, invalid: (message: string) => Error): ExternalTracker | null {
  if (value === null) return null
  const e = (typeof value === 'object' && !Array.isArray(value) ? value : {}) as Record<string, unknown>
  const url = typeof e.announceUrl === 'string' ? e.announceUrl.trim() : ''
  let parsed: URL | null = null
  try {
    parsed = new URL(url)
  } catch {
    parsed = null
  }
  if (!parsed || !['http:', 'https:', 'udp:'].includes(parsed.protocol) || parsed.hostname === '') {
    throw invalid(`externalTracker.announceUrl "${url}" is not a tracker URL: give http://HOST:PORT/announce (opentracker's default port is 6969), https://… or udp://HOST:PORT`)
  }
  if (parsed.protocol === 'udp:' && parsed.port === '') throw invalid(`externalTracker.announceUrl "${url}" needs a port (udp://HOST:PORT)`)
  const file = e.whitelistFile ?? null
  if (file !== null && (typeof file !== 'string' || !path.isAbsolute(file) || file.endsWith('/'))) {
    throw invalid(`externalTracker.whitelistFile must be an absolute file path (the file opentracker's -w or access.whitelist names), or null, got ${JSON.stringify(file)}`)
  }
  const pid = e.reloadPid ?? null
  if (pid !== null && (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid < 2)) {
    throw invalid(`externalTracker.reloadPid must be the tracker's process id (it is sent SIGHUP to re-read the whitelist), or null, got ${String(pid)}`)
  }
  if (pid !== null && file === null) throw invalid('externalTracker.reloadPid needs a whitelistFile: it is signalled to re-read that file')
  return { announceUrl: parsed.href, whitelistFile: file, reloadPid: pid }
}

export interface ExternalTrackerOptions {
  config: ExternalTracker
  /** Who the seeder is on the tracker: its peer id (40 hex) and listen port. */
  seeder: () => { peerId: string; port: number }
  /** The info-hashes the whitelist must hold: every release not retired, and those being published. */
  published: () => Iterable<string>
  log: (line: string) => void
}

export class ExternalTrackerLink {
  private readonly config: ExternalTracker
  /** What the whitelist file holds now (null before the first write). */
  private written: Set<string> | null = null
  private writing: Promise<void> = Promise.resolve()

  constructor(private readonly options: ExternalTrackerOptions) {
    this.config = options.config
  }

  announceUrls(): string[] {
    return [this.config.announceUrl]
  }

  /**
   * The whitelist holds exactly the published info-hashes once this resolves (and the tracker was
   * signalled). A file that cannot be written is WRITE_FAILED naming it.
   */
  async sync(): Promise<void> {
    const file = this.config.whitelistFile
    if (file === null) return
    const run = this.writing.then(async () => {
      const want = new Set(this.options.published())
      if (this.written && sameSet(this.written, want)) return
      // opentracker keeps its old list when the new one is empty (checked with Debian's build), so
      // "nothing published" is written as the all-zero info-hash, which no real release has.
      const text = want.size > 0 ? [...want].sort().map((h) => `${h}\n`).join('') : `${NOTHING_PUBLISHED}\n`
      try {
        await writeFileAtomic(file, text)
      } catch (err) {
        throw new SwarmdropError('WRITE_FAILED', `Cannot write the external tracker's whitelist ${file}: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}. Give --tracker-whitelist a file in a folder Swarmdrop can write and opentracker can read.`, { cause: err })
      }
      this.written = want
      this.reload()
    })
    // One failed write must not block the next one.
    this.writing = run.catch(() => undefined)
    await run
  }

  /**
   * Before the seeder announces `infoHash`: the whitelist holds it, and the tracker accepts it
   * (waited for up to ACCEPT_WAIT_MS; false, and a log line, when it never did).
   */
  async allow(infoHash: string): Promise<boolean> {
    await this.sync()
    const url = new URL(this.config.announceUrl)
    // Only HTTP(S) is probed; a UDP tracker is trusted to have re-read its list.
    if (url.protocol === 'udp:') return true
    const deadline = Date.now() + ACCEPT_WAIT_MS
    let last = ''
    for (;;) {
      const outcome = await this.probe(infoHash).catch((err: unknown) => ({ accepted: false, reason: (err as Error).message }))
      if (outcome.accepted) return true
      last = outcome.reason
      if (Date.now() >= deadline) break
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS))
    }
    const cure = this.config.whitelistFile === null ? 'add it to the tracker\'s whitelist' : this.config.reloadPid === null ? `make the tracker re-read ${this.config.whitelistFile} (kill -HUP its pid, or set --tracker-reload-pid)` : 'check that the tracker reads the whitelist this instance writes'
    this.options.log(`error: the external tracker ${this.config.announceUrl} does not accept ${infoHash} yet (${last}); servers cannot find the seeder until it does: ${cure}`)
    return false
  }

  /**
   * The servers the tracker lists for a release (IPv4 ip and listen port), asked as the seeder
   * (which also keeps it registered); the seeder itself is left out. opentracker hands out up to
   * PEERS_WANTED at random per ask, so repeated asks cover a larger fleet.
   */
  async peers(infoHash: string): Promise<{ ip: string; port: number }[]> {
    const url = new URL(this.config.announceUrl)
    if (url.protocol === 'udp:') return []
    const { port } = this.options.seeder()
    const body = await this.announce(infoHash, `numwant=${PEERS_WANTED}`)
    const compact = compactPeers(body)
    const local = localAddresses()
    return compact.filter((p) => !(p.port === port && local.has(p.ip)))
  }

  private reload(): void {
    const pid = this.config.reloadPid
    if (pid === null) return
    try {
      process.kill(pid, 'SIGHUP')
    } catch (err) {
      this.options.log(`error: cannot signal the external tracker (pid ${pid}) to re-read its whitelist: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  }

  /** One announce as the seeder: accepted, or the tracker's failure reason. */
  private async probe(infoHash: string): Promise<{ accepted: boolean; reason: string }> {
    try {
      await this.announce(infoHash, 'numwant=0&event=started')
      return { accepted: true, reason: '' }
    } catch (err) {
      return { accepted: false, reason: (err as Error).message }
    }
  }

  /** An HTTP announce as the seeder (nothing left); the reply, or an error with the tracker's failure reason. */
  private announce(infoHash: string, extra: string): Promise<DecodedDict> {
    const { peerId, port } = this.options.seeder()
    const url = new URL(this.config.announceUrl)
    const pct = (hex: string): string => hex.replace(/../g, '%$&')
    const query = `info_hash=${pct(infoHash)}&peer_id=${pct(peerId)}&port=${port}&uploaded=0&downloaded=0&left=0&compact=1&${extra}`
    url.search = url.search ? `${url.search}&${query}` : `?${query}`
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const req = request(url, { timeout: PROBE_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          let reply: DecodedDict
          try {
            const decoded = bdecode(Buffer.concat(chunks)).value
            if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded) || Buffer.isBuffer(decoded)) throw new Error('not a dictionary')
            reply = decoded as DecodedDict
          } catch {
            reject(new Error(`HTTP ${res.statusCode ?? '?'}, not a tracker reply`))
            return
          }
          const failure = reply['failure reason']
          if (failure !== undefined) reject(new Error(Buffer.isBuffer(failure) ? failure.toString() : String(failure)))
          else resolve(reply)
        })
        res.on('error', reject)
      })
      req.on('timeout', () => req.destroy(new Error('no answer')))
      req.on('error', reject)
      req.end()
    })
  }
}

/** BEP 23 compact IPv4 peers of a reply (six bytes each); a non-compact list is ignored. */
function compactPeers(reply: DecodedDict): { ip: string; port: number }[] {
  const peers = reply.peers
  if (!Buffer.isBuffer(peers)) return []
  const out: { ip: string; port: number }[] = []
  for (let i = 0; i + 6 <= peers.length; i += 6) out.push({ ip: `${peers[i]}.${peers[i + 1]}.${peers[i + 2]}.${peers[i + 3]}`, port: peers.readUInt16BE(i + 4) })
  return out
}

/** This machine's IPv4 addresses: the tracker lists the seeder itself among the peers. */
function localAddresses(): Set<string> {
  const out = new Set<string>()
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4') out.add(a.address)
  return out
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false
  for (const x of a) if (!b.has(x)) return false
  return true
}
