/**
 * qbittorrent-nox headless with its own profile (config from /work/shared/recipes/qbt): legal
 * notice accepted, WebUI on 127.0.0.1 without login, DHT/LSD/PeX/UPnP/GeoIP off, several peers
 * per IP allowed (everything is 127.0.0.1 here), RSS and the auto-downloader on.
 */
import { spawn } from 'node:child_process'
import { supervise } from './child-process.js'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { toolPath } from './tools.js'

export interface QbtTorrent {
  hash: string
  name: string
  progress: number
  state: string
  save_path: string
}

export interface Qbt {
  webUi: string
  post(endpoint: string, form: Record<string, string>): Promise<string>
  get<T>(endpoint: string): Promise<T>
  torrents(): Promise<QbtTorrent[]>
  /** libtorrent's flags for each of the torrent's peers, one per letter ("E": an RC4 wire); none if it is not known yet. */
  peerFlags(infoHash: string): Promise<string[]>
  stop(): Promise<void>
}

/**
 * qBittorrent.conf for a headless test client. `sharedIp`: several clients on one address
 * (loopback), so qBittorrent must allow more than one connection per IP; hosts of a namespace
 * LAN each have their own and keep qBittorrent's default.
 */
export function qbittorrentConf(o: { savePath: string; webUiPort: number; peerPort: number; protocol?: 'TCP' | 'Both'; sharedIp: boolean; bitTorrent?: string[] }): string {
  return `[LegalNotice]
Accepted=true

[BitTorrent]
Session\\Port=${o.peerPort}
Session\\DHTEnabled=false
Session\\LSDEnabled=false
Session\\PeXEnabled=false
Session\\DefaultSavePath=${o.savePath}
Session\\TempPathEnabled=false
Session\\AnnounceToAllTrackers=true
${o.sharedIp ? 'Session\\MultiConnectionsPerIp=true\n' : ''}Session\\QueueingSystemEnabled=false
${o.protocol ? `Session\\BTProtocol=${o.protocol}\n` : ''}${(o.bitTorrent ?? []).map((l) => `${l}\n`).join('')}
[Network]
PortForwardingEnabled=false

[Preferences]
WebUI\\Address=127.0.0.1
WebUI\\Port=${o.webUiPort}
WebUI\\LocalHostAuth=false
WebUI\\CSRFProtection=false
WebUI\\HostHeaderValidation=false
Connection\\ResolvePeerCountries=false

[RSS]
Session\\EnableProcessing=true
Session\\RefreshInterval=1
AutoDownloader\\EnableProcessing=true
`
}

export async function startQbittorrent(o: { profile: string; savePath: string; webUiPort: number; peerPort: number; protocol?: 'TCP' | 'Both'; bitTorrent?: string[] }): Promise<Qbt> {
  const confDir = path.join(o.profile, 'qBittorrent', 'config')
  await mkdir(confDir, { recursive: true })
  await mkdir(o.savePath, { recursive: true })
  const conf = qbittorrentConf({ ...o, protocol: o.protocol ?? 'Both', sharedIp: true })
  await writeFile(path.join(confDir, 'qBittorrent.conf'), conf)
  const proc = supervise(spawn(toolPath('qbittorrent-nox'), [`--profile=${o.profile}`], { stdio: ['ignore', 'pipe', 'pipe'] }))
  const { child } = proc
  const webUi = `http://127.0.0.1:${o.webUiPort}/api/v2`
  const stop = async (): Promise<void> => {
    await proc.stop()
  }
  const deadline = Date.now() + 20_000
  for (;;) {
    try {
      const r = await fetch(`${webUi}/app/version`)
      if (r.ok) break
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`qbittorrent-nox did not start its WebUI on port ${o.webUiPort}:\n${proc.output()}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  const post = async (endpoint: string, form: Record<string, string>): Promise<string> => {
    const r = await fetch(`${webUi}/${endpoint}`, { method: 'POST', body: new URLSearchParams(form) })
    const text = await r.text()
    if (!r.ok) throw new Error(`qBittorrent ${endpoint}: HTTP ${r.status} ${text}`)
    return text
  }
  const get = async <T>(endpoint: string): Promise<T> => {
    const r = await fetch(`${webUi}/${endpoint}`)
    if (!r.ok) throw new Error(`qBittorrent ${endpoint}: HTTP ${r.status}`)
    return (await r.json()) as T
  }
  const peerFlags = async (infoHash: string): Promise<string[]> => {
    type Peers = { peers?: Record<string, { flags: string }> }
    const peers = await get<Peers>(`sync/torrentPeers?hash=${infoHash}`).catch((): Peers => ({}))
    return Object.values(peers.peers ?? {}).flatMap((p) => p.flags.split(' ').filter(Boolean))
  }
  return { webUi, post, get, torrents: () => get<QbtTorrent[]>('torrents/info'), peerFlags, stop }
}
