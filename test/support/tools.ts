/**
 * Real external tools (mktorrent, aria2c, qbittorrent-nox, ...). A missing tool is a failing test
 * with the install command, never a skip: .ci/run installs every one of them.
 */
import { spawnSync } from 'node:child_process'

const DEBIAN_PACKAGE: Record<string, string> = {
  mktorrent: 'mktorrent',
  'transmission-show': 'transmission-cli',
  'transmission-daemon': 'transmission-daemon',
  'transmission-remote': 'transmission-cli',
  aria2c: 'aria2',
  'qbittorrent-nox': 'qbittorrent-nox',
  chromium: 'chromium',
  setpriv: 'util-linux',
  flock: 'util-linux',
  curl: 'curl',
  rtorrent: 'rtorrent',
  ip: 'iproute2',
  tc: 'iproute2',
  ss: 'iproute2',
  'systemd-analyze': 'systemd',
  'systemd-sysusers': 'systemd',
}

/**
 * Paths already found. A lookup runs a shell synchronously (30-80 ms on a busy two-core machine),
 * and the fleet bench starting eight aria2c looked up two tools for each: the clients started
 * 1.2 s apart, one after another, and the rollout's time counted that.
 */
const found = new Map<string, string>()

export function toolPath(name: string): string {
  const known = found.get(name)
  if (known !== undefined) return known
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' })
  const where = r.stdout.trim()
  if (r.status !== 0 || !where) {
    const pkg = DEBIAN_PACKAGE[name] ?? name
    throw new Error(`${name} is not installed; this test needs the real tool. Install it with: apt-get install -y ${pkg} (npm run setup:test installs every tool the tests use).`)
  }
  found.set(name, where)
  return where
}
