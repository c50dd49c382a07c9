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

/** `hosts` maps a host name to its link cap ("50mbit") or null for none. The first host gets .1. */
export function createLan(hosts: [string, string | null][]): Lan {
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
          const r = spawnSync(toolPath('ip'), ['netns', 'exec', where, toolPath('tc'), 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', rate, 'burst', '256kb', 'latency', '100ms'], { encoding: 'utf8' })
          if (r.status !== 0) throw new Error(`tc on ${where}/${dev} failed: ${r.stderr.trim()}`)
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
