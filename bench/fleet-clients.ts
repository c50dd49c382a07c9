/**
 * The servers' BitTorrent clients for the fleet benchmark, one per namespace, each taking a
 * release the way a real server would: qBittorrent by its RSS subscription to the feed,
 * Transmission, aria2 and rTorrent given the .torrent URL. Every client keeps seeding once done
 * (as servers do), and each records the moment it finished by itself (a completion hook writing a
 * timestamp), so the fleet view's timings can be checked against the clients' own.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { QBITTORRENT_EVERY_UPLOAD_SLOT, RTORRENT_SETUP_LINES } from '../shared/subscribe-setups.js'
import { startAria2, type Aria2Run } from '../test/support/aria2.js'
import type { Supervised } from '../test/support/child-process.js'
import { qbittorrentConf } from '../test/support/qbittorrent.js'
import { startRtorrent, type Rtorrent } from '../test/support/rtorrent.js'
import { toolPath } from '../test/support/tools.js'
import { transmissionSettings } from '../test/support/transmission.js'
import type { FleetLan } from './fleet-lan.js'

export type ClientKind = 'qbt' | 'tr' | 'aria2' | 'rt'

export const CLIENT_LABEL: Record<ClientKind, string> = {
  qbt: 'qBittorrent (RSS)',
  tr: 'Transmission',
  aria2: 'aria2',
  rt: 'rTorrent',
}

export interface FleetClient {
  kind: ClientKind
  host: string
  /** Where the release's files land. */
  downloadDir: string
  /** Hands a just-published release to the client, its own way. */
  take(torrentUrl: string): Promise<void>
  /** When the client itself finished the download (ms since the epoch), or null. */
  finishedAt(): Promise<number | null>
  stop(): Promise<void>
  /** The client's own view of its peers for a release (address, bytes from and to each), where it can tell. */
  peerSummary?(infoHash: string): Promise<string>
}

const QBT_API = 'http://127.0.0.1:8080/api/v2'
const PEER_PORT = 6890

/** A ';'-separated list of config lines from the environment, for trying a client setting. */
function envLines(name: string): string[] {
  return (process.env[name] ?? '').split(';').map((l) => l.trim()).filter(Boolean)
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** A shell script any client can run on completion: it stamps the time (ms) into `marker`. */
async function completionHook(dir: string): Promise<{ script: string; read: () => Promise<number | null> }> {
  const script = path.join(dir, 'on-complete.sh')
  const marker = path.join(dir, 'completed-at')
  await writeFile(script, `#!/bin/sh\n[ -f '${marker}' ] || date +%s%3N > '${marker}'\n`)
  await chmod(script, 0o755)
  return {
    script,
    read: async () => {
      const text = await readFile(marker, 'utf8').catch(() => '')
      const ms = Number(text.trim())
      return text.trim() && Number.isFinite(ms) ? ms : null
    },
  }
}

async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(200)
  }
}

export async function startClient(kind: ClientKind, net: FleetLan, host: string, dir: string, feedUrl: string): Promise<FleetClient> {
  await mkdir(dir, { recursive: true })
  const downloadDir = path.join(dir, 'download')
  await mkdir(downloadDir, { recursive: true })
  const hook = await completionHook(dir)
  const base = { kind, host, downloadDir, finishedAt: hook.read }
  switch (kind) {
    case 'qbt': {
      const confDir = path.join(dir, 'profile', 'qBittorrent', 'config')
      await mkdir(confDir, { recursive: true })
      // qBittorrent's "run external program on torrent finished".
      const autoRun = `\n[AutoRun]\nenabled=true\nprogram=${hook.script}\n`
      // TCP only, as Swarmdrop's qBittorrent setup sets it; SWARMDROP_FLEET_QBT_PROTOCOL=Both
      // measures qBittorrent's own default (TCP and uTP), whose uTP backs off between servers.
      const protocol = process.env.SWARMDROP_FLEET_QBT_PROTOCOL === 'Both' ? 'Both' : 'TCP'
      // Every upload slot, as Swarmdrop's setup sets it (SWARMDROP_FLEET_QBT_SETUP=0 leaves it at
      // qBittorrent's 4 per torrent); SWARMDROP_FLEET_QBT_CONF: more [BitTorrent] lines,
      // ';'-separated, to try a setting.
      const bitTorrent = [
        ...(process.env.SWARMDROP_FLEET_QBT_SETUP === '0' ? [] : QBITTORRENT_EVERY_UPLOAD_SLOT),
        ...envLines('SWARMDROP_FLEET_QBT_CONF'),
      ]
      await writeFile(path.join(confDir, 'qBittorrent.conf'), qbittorrentConf({ savePath: downloadDir, webUiPort: 8080, peerPort: PEER_PORT, sharedIp: false, protocol, bitTorrent }) + autoRun)
      const proc = net.start(host, toolPath('qbittorrent-nox'), [`--profile=${path.join(dir, 'profile')}`])
      /** A WebUI call: the form is POSTed, or sent as a query with `get`. */
      const curl = async (endpoint: string, form?: Record<string, string>, get = false): Promise<string> => {
        const data = Object.entries(form ?? {}).flatMap(([k, v]) => ['--data-urlencode', `${k}=${v}`])
        const r = await net.run(host, toolPath('curl'), ['-sS', '--fail', ...(get ? ['-G'] : []), ...data, `${QBT_API}/${endpoint}`])
        if (r.code !== 0) throw new Error(`qBittorrent ${endpoint} in ${host}: ${r.stderr}`)
        return r.stdout
      }
      try {
        await until(`qBittorrent's WebUI in ${host}`, 20_000, async () => (await curl('app/version')) !== '')
        await curl('rss/addFeed', { url: feedUrl, path: 'swarmdrop' })
        await curl('rss/setRule', { ruleName: 'swarmdrop', ruleDef: JSON.stringify({ enabled: true, mustContain: '', affectedFeeds: [feedUrl], savePath: downloadDir }) })
      } catch (err) {
        await proc.stop()
        throw new Error(`${(err as Error).message}\n${proc.output()}`)
      }
      return {
        ...base,
        // Its subscription picks the release up; a refresh stands for the poll that would find it.
        take: async () => void (await curl('rss/refreshItem', { itemPath: 'swarmdrop' })),
        stop: async () => void (await proc.stop()),
        // Each peer: address, libtorrent's flags (D: downloading from it, d: we want to but it chokes
        // us, U: uploading to it, u: it wants to but we choke it, I: it dialled us) and rates.
        peerSummary: async (infoHash) => {
          const peers = (JSON.parse(await curl('sync/torrentPeers', { hash: infoHash }, true)) as { peers?: Record<string, { ip: string; flags: string; dl_speed: number; up_speed: number; progress: number }> }).peers ?? {}
          const mib = (bytesPerSecond: number): string => (bytesPerSecond / 2 ** 20).toFixed(1)
          return Object.values(peers)
            .map((p) => `${p.ip} [${p.flags.replace(/\s+/g, '')}] ${Math.round(100 * p.progress)}% down ${mib(p.dl_speed)} up ${mib(p.up_speed)} MiB/s`)
            .join('; ')
        },
      }
    }
    case 'tr': {
      const configDir = path.join(dir, 'config')
      await mkdir(configDir, { recursive: true })
      const settings = {
        ...transmissionSettings({ downloadDir, rpcPort: 9091, peerPort: PEER_PORT, loopbackOnly: false }),
        'script-torrent-done-enabled': true,
        'script-torrent-done-filename': hook.script,
      }
      await writeFile(path.join(configDir, 'settings.json'), JSON.stringify(settings, null, 2))
      const proc: Supervised = net.start(host, toolPath('transmission-daemon'), ['-f', '-g', configDir, '--logfile', path.join(configDir, 'daemon.log')])
      const remote = async (...args: string[]): Promise<string> => {
        const r = await net.run(host, toolPath('transmission-remote'), ['127.0.0.1:9091', ...args])
        if (r.code !== 0) throw new Error(`transmission-remote ${args.join(' ')} in ${host}: ${r.stderr || r.stdout}`)
        return r.stdout
      }
      try {
        await until(`transmission-daemon's RPC in ${host}`, 20_000, async () => (await remote('-si')) !== '')
      } catch (err) {
        await proc.stop()
        throw err
      }
      return {
        ...base,
        take: async (url) => void (await remote('-a', url)),
        stop: async () => void (await proc.stop()),
        // Its own percent done and rate, then each peer: address, flags (D: downloading from it, d: we
        // want to but it chokes us, K: it unchokes us but we are not interested), and rates.
        peerSummary: async (infoHash) => {
          const info = await remote('-t', infoHash, '-i')
          const field = (name: string): string => info.match(new RegExp(`^\\s*${name}: (.*)$`, 'm'))?.[1]?.trim() ?? '?'
          const peers = (await remote('-t', infoHash, '-pi')).split('\n').slice(1).map((l) => l.trim().replace(/\s+/g, ' ')).filter(Boolean)
          return `${field('Percent Done')} at ${field('Download Speed')}; ${peers.join('; ')}`
        },
      }
    }
    case 'aria2': {
      let run: Aria2Run | null = null
      return {
        ...base,
        take: async (url) => {
          // SWARMDROP_FLEET_CLIENT_LOGS=DIR keeps each aria2's info log there (its choke rounds, say).
          const logs = process.env.SWARMDROP_FLEET_CLIENT_LOGS
          const logFile = logs ? path.join(logs, `${host}-aria2-${Date.now()}.log`) : undefined
          if (logs) await mkdir(logs, { recursive: true })
          run = startAria2({ torrent: url, dir: downloadDir, listenPort: PEER_PORT, seed: true, netns: net.nsOf(host), logFile, extra: [`--on-bt-download-complete=${hook.script}`] })
        },
        stop: async () => void (await run?.stop()),
      }
    }
    case 'rt': {
      // Swarmdrop's rTorrent setup line, as a server set up from the dashboard has it
      // (SWARMDROP_FLEET_RT_SETUP=0 leaves it out); SWARMDROP_FLEET_RT_RC: more rtorrent.rc lines,
      // ';'-separated, to try a setting.
      const extraRc = [
        ...(process.env.SWARMDROP_FLEET_RT_SETUP === '0' ? [] : RTORRENT_SETUP_LINES),
        ...envLines('SWARMDROP_FLEET_RT_RC'),
      ]
      const rt: Rtorrent = await startRtorrent({ dir: path.join(dir, 'rt'), downloadDir, peerPort: PEER_PORT, netns: net.nsOf(host), extraRc })
      try {
        await rt.call('method.set_key', '', 'event.download.finished', 'swarmdrop_bench', `execute.nothrow=${hook.script}`)
      } catch (err) {
        await rt.stop()
        throw err
      }
      return {
        ...base,
        take: (url) => rt.load(url),
        stop: async () => void (await rt.stop()),
        peerSummary: async (infoHash) => {
          const rows = await rt.call('p.multicall', infoHash.toUpperCase(), '', 'p.address=', 'p.client_version=', 'p.is_incoming=', 'p.down_total=', 'p.up_total=', 'p.completed_percent=', 'p.is_snubbed=')
          if (!Array.isArray(rows)) return JSON.stringify(rows)
          return rows
            .map((r) => {
              const [ip, client, incoming, down, up, pct, snubbed] = r as [string, string, number, number, number, number, number]
              return `${ip} ${client} ${incoming ? 'in' : 'out'} ${pct}% down ${(down / 2 ** 20).toFixed(1)} MiB up ${(up / 2 ** 20).toFixed(1)} MiB${snubbed ? ' snubbed' : ''}`
            })
            .join('; ')
        },
      }
    }
  }
}
