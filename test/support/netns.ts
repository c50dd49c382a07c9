/**
 * A private test LAN made only of network namespaces this test creates: a hub namespace holding a
 * bridge, and one namespace per host on 10.77.0.0/24 with its own veth into the bridge. Traffic never leaves these namespaces. Each
 * host's link can be capped with tc (tbf) in both directions.
 */
import { spawnSync } from 'node:child_process'
import { toolPath } from './tools.js'

export interface LanHost {
  name: string
  /** The namespace to run commands in: `ip netns exec <ns> ...`. */
  ns: string
  ip: string
  /** Its veth's other end, in the hub: what that end receives the host sent, and the reverse. */
  hubSide: string
}

export interface Lan {
  hosts: Record<string, LanHost>
  /** The namespace holding the bridge and every host's veth end. */
  hub: string
  /** Command and arguments that run `cmd args...` inside a host. */
  inHost(host: string, cmd: string, args: string[]): [string, string[]]
  destroy(): void
}

function ip(args: string[]): void {
  const r = spawnSync(toolPath('ip'), args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr.trim()}`)
}

/** Kills whatever runs in each namespace (only ours put anything there) and deletes it. */
export function removeNamespaces(names: string[]): void {
  for (const ns of names) {
    const pids = spawnSync(toolPath('ip'), ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL')
      } catch {
        // already gone
      }
    }
    spawnSync(toolPath('ip'), ['netns', 'del', ns])
  }
}

/**
 * How a capped host queues what it sends (the hub's ends, the switch's ports, are plain FIFOs).
 * - 'fifo': tbf's own queue, 100 ms deep. A host's ACKs for what it downloads wait behind its
 *   own upload: an aria2 server uploading at the full link downloaded at 75-85 % of it.
 * - 'small-first': the same cap and the same 100 ms of bulk queue, but packets under 128 bytes
 *   (ACKs, HAVEs, handshakes) go first. A stand-in for fq_codel, the qdisc a Debian host puts on
 *   its NIC (systemd's sysctl.d/50-default.conf), which serves sparse flows before bulk ones;
 *   this kernel has no fq_codel (only tbf, htb and fifos).
 */
export type HostQueue = 'fifo' | 'small-first'

/** How much of its link a capped host's bulk queue holds, in both queue kinds. */
const QUEUE_MS = 100

/** "100mbit" → bytes per second. */
function rateBytes(rate: string): number {
  const m = /^(\d+(?:\.\d+)?)(k|m|g)bit$/i.exec(rate)
  if (!m) throw new Error(`link rate "${rate}": expected a number and kbit, mbit or gbit`)
  const unit = { k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? 'm').toLowerCase() as 'k' | 'm' | 'g']
  return (Number(m[1]) * unit) / 8
}

/** `hosts` maps a host name to its link cap ("50mbit") or null for none. The first host gets .1. */
export function createLan(hosts: [string, string | null][], options: { hostQueue?: HostQueue } = {}): Lan {
  toolPath('tc')
  const tag = `sd${process.pid}`
  const hub = `${tag}-hub`
  const created: string[] = []
  const destroy = (): void => removeNamespaces(created.reverse())
  try {
    ip(['netns', 'add', hub])
    created.push(hub)
    ip(['-n', hub, 'link', 'set', 'lo', 'up'])
    ip(['-n', hub, 'link', 'add', 'br0', 'type', 'bridge'])
    ip(['-n', hub, 'link', 'set', 'br0', 'up'])
    const out: Record<string, LanHost> = {}
    hosts.forEach(([name, rate], i) => {
      const ns = `${tag}-${name}`
      const addr = `10.77.0.${i === 0 ? 1 : 10 + i}`
      const hubSide = `h${i}`
      ip(['netns', 'add', ns])
      created.push(ns)
      ip(['-n', ns, 'link', 'set', 'lo', 'up'])
      ip(['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', hubSide, 'netns', hub])
      ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0'])
      ip(['-n', ns, 'link', 'set', 'eth0', 'up'])
      ip(['-n', hub, 'link', 'set', hubSide, 'master', 'br0'])
      ip(['-n', hub, 'link', 'set', hubSide, 'up'])
      if (rate) {
        // Egress on both ends of the veth: the host's upload and its download are both capped.
        for (const [where, dev] of [[ns, 'eth0'], [hub, hubSide]] as const) {
          const tc = (args: string[]): void => {
            const r = spawnSync(toolPath('ip'), ['netns', 'exec', where, toolPath('tc'), ...args], { encoding: 'utf8' })
            if (r.status !== 0) throw new Error(`tc ${args.join(' ')} on ${where} failed: ${r.stderr.trim()}`)
          }
          tc(['qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'tbf', 'rate', rate, 'burst', '256kb', 'latency', `${QUEUE_MS}ms`])
          if (where === ns && options.hostQueue === 'small-first') {
            // Under the cap, two htb classes with room to spare: strict priority decides alone.
            tc(['qdisc', 'add', 'dev', dev, 'parent', '1:1', 'handle', '10:', 'htb', 'default', '20'])
            tc(['class', 'add', 'dev', dev, 'parent', '10:', 'classid', '10:1', 'htb', 'rate', '10gbit'])
            tc(['class', 'add', 'dev', dev, 'parent', '10:1', 'classid', '10:10', 'htb', 'rate', '5gbit', 'ceil', '10gbit', 'prio', '0'])
            tc(['class', 'add', 'dev', dev, 'parent', '10:1', 'classid', '10:20', 'htb', 'rate', '5gbit', 'ceil', '10gbit', 'prio', '1'])
            tc(['qdisc', 'add', 'dev', dev, 'parent', '10:20', 'bfifo', 'limit', String(Math.round((rateBytes(rate) * QUEUE_MS) / 1000))])
            // IPv4 total length under 128.
            tc(['filter', 'add', 'dev', dev, 'parent', '10:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'u16', '0x0000', '0xff80', 'at', '2', 'flowid', '10:10'])
          }
        }
      }
      out[name] = { name, ns, ip: addr, hubSide }
    })
    return {
      hosts: out,
      hub,
      inHost: (host, cmd, args) => {
        const h = out[host]
        if (!h) throw new Error(`no host ${host}`)
        return [toolPath('ip'), ['netns', 'exec', h.ns, cmd, ...args]]
      },
      destroy,
    }
  } catch (err) {
    destroy()
    throw err
  }
}
