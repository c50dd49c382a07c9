/** transmission-daemon headless (settings from /work/shared/recipes/transmission), driven by transmission-remote. */
import { spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { supervise } from './child-process.js'
import { runProcess } from './run-cli.js'
import { toolPath } from './tools.js'

export interface Transmission {
  remote(...args: string[]): Promise<string>
  /** "Percent Done" of every torrent, e.g. ["100%"]. */
  percentDone(): Promise<string[]>
  stop(): Promise<void>
}

/**
 * settings.json for a headless test daemon: RPC on loopback without auth, no DHT/LPD/PeX/uTP, no
 * limits. `loopbackOnly`: peers on 127.0.0.1 too; a namespace LAN host listens on its own IP.
 */
export function transmissionSettings(o: { downloadDir: string; rpcPort: number; peerPort: number; loopbackOnly: boolean }): Record<string, unknown> {
  return {
    'rpc-enabled': true,
    'rpc-bind-address': '127.0.0.1',
    'rpc-port': o.rpcPort,
    'rpc-authentication-required': false,
    'rpc-whitelist-enabled': false,
    'rpc-host-whitelist-enabled': false,
    ...(o.loopbackOnly ? { 'bind-address-ipv4': '127.0.0.1', 'bind-address-ipv6': '::1' } : {}),
    'peer-port': o.peerPort,
    'peer-port-random-on-start': false,
    'port-forwarding-enabled': false,
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'utp-enabled': false,
    'blocklist-enabled': false,
    'download-dir': o.downloadDir,
    'incomplete-dir-enabled': false,
    'watch-dir-enabled': false,
    'ratio-limit-enabled': false,
    'speed-limit-down-enabled': false,
    'speed-limit-up-enabled': false,
    'message-level': 2,
  }
}

export async function startTransmission(o: { configDir: string; downloadDir: string; rpcPort: number; peerPort: number }): Promise<Transmission> {
  await mkdir(o.configDir, { recursive: true })
  await mkdir(o.downloadDir, { recursive: true })
  const settings = transmissionSettings({ ...o, loopbackOnly: true })
  await writeFile(path.join(o.configDir, 'settings.json'), JSON.stringify(settings, null, 2))
  const child = spawn(toolPath('transmission-daemon'), ['-f', '-g', o.configDir, '--logfile', path.join(o.configDir, 'daemon.log')], { stdio: 'ignore' })
  const remoteBin = toolPath('transmission-remote')
  const remote = async (...args: string[]): Promise<string> => {
    const r = await runProcess(remoteBin, [`127.0.0.1:${o.rpcPort}`, ...args])
    if (r.code !== 0) throw new Error(`transmission-remote ${args.join(' ')}: ${r.stderr || r.stdout}`)
    return r.stdout
  }
  const proc = supervise(child)
  const stop = async (): Promise<void> => {
    await proc.stop()
  }
  const deadline = Date.now() + 15_000
  for (;;) {
    try {
      await remote('-si')
      break
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop()
        throw new Error(`transmission-daemon did not start on RPC port ${o.rpcPort}: ${(err as Error).message}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  return {
    remote,
    percentDone: async () => [...(await remote('-t', 'all', '-i')).matchAll(/Percent Done:\s*(\S+)/g)].map((m) => m[1] ?? ''),
    stop,
  }
}
