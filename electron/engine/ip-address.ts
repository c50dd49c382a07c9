/** One spelling per host: the key under which a server's HTTP requests, announces and wires meet. */

/** IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d. */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip
}

/** 127.0.0.0/8 and ::1: one machine, where several clients share an address. */
export function isLoopback(ip: string): boolean {
  const host = normalizeIp(ip)
  return host === '::1' || host.startsWith('127.')
}

/** "ip:port", with an IPv6 address in brackets: how webtorrent names a peer, and a swarm keys one. */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}
