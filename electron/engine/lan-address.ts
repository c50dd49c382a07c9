/**
 * Which address goes into every LAN URL (.torrent announce, feed, web seed). The servers must be
 * able to reach it, and the seeder announces through it, so the tracker records a reachable
 * address for it (never 127.0.0.1).
 */
import { readFileSync } from 'node:fs'
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os'

/**
 * The first non-internal IPv4 of the interface that carries the default route (the one with the
 * lowest metric in /proc/net/route on Linux). Elsewhere, or without a default route, the first
 * non-internal IPv4 in os.networkInterfaces() order. '127.0.0.1' when the machine has none.
 */
export function primaryLanIPv4(): string {
  const interfaces = networkInterfaces()
  const ipv4Of = (name: string) => (interfaces[name] ?? []).find(isLanIPv4)?.address
  for (const name of defaultRouteInterfaces()) {
    const address = ipv4Of(name)
    if (address) return address
  }
  for (const name of Object.keys(interfaces)) {
    const address = ipv4Of(name)
    if (address) return address
  }
  return '127.0.0.1'
}

/** A user-set host name or IP wins (it survives DHCP changes); otherwise the primary LAN IPv4. */
export function resolveAddress(configured: string | null): string {
  const trimmed = configured?.trim()
  return trimmed ? trimmed : primaryLanIPv4()
}

/** Interfaces with a default route, best (lowest metric) first. Empty where /proc is absent. */
export function defaultRouteInterfaces(routeTable = readRouteTable()): string[] {
  const routes: { iface: string; metric: number }[] = []
  for (const line of routeTable.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/)
    const [iface, destination, , flags, , , metric, mask] = cols
    if (!iface || destination !== '00000000' || mask !== '00000000') continue
    // RTF_UP (0x1): a route that is down carries nothing.
    if ((parseInt(flags ?? '0', 16) & 0x1) === 0) continue
    routes.push({ iface, metric: Number(metric ?? 0) })
  }
  return routes.sort((a, b) => a.metric - b.metric).map((r) => r.iface)
}

function readRouteTable(): string {
  try {
    return readFileSync('/proc/net/route', 'utf8')
  } catch {
    return ''
  }
}

function isLanIPv4(info: NetworkInterfaceInfo): boolean {
  // Link-local (169.254/16) means DHCP failed: not an address servers can reach.
  return info.family === 'IPv4' && !info.internal && !info.address.startsWith('169.254.')
}
