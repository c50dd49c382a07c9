/**
 * Runs inside the fleet LAN's hub namespace, where every host's veth has its other end: every
 * `intervalMs` prints one JSON line with each end's byte counters, and the machine's CPU time
 * counters (/proc/stat is not per namespace): whether the two cores, not the links, held a
 * rollout back. What an end receives, its host sent. One long-lived process reading sysfs, so
 * sampling costs the two cores little (3 % of a core measured; an `ip` process per sample would
 * be one more spawn every half second beside the clients).
 * Usage: fleet-link-sampler.js INTERVAL_MS
 */
import { readdir, readFile } from 'node:fs/promises'

export interface LinkCountersLine {
  links: {
    /** Date.now() here: the same machine's clock as the benchmark's. */
    at: number
    /** Interface name → [bytes received, bytes sent]. */
    counters: Record<string, [number, number]>
    /** The machine's CPU time so far, all CPUs, in clock ticks (/proc/stat); null where unreadable. */
    cpu: CpuCounters | null
  }
}

export interface CpuCounters {
  total: number
  /** Everything but idle and iowait. */
  busy: number
  /** Of busy: the kernel's softirq time, where the namespaces' packet forwarding and tc run. */
  softirq: number
}

async function readCpu(): Promise<CpuCounters | null> {
  try {
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]?.trim().split(/\s+/).slice(1).map(Number) ?? []
    const busy = user + nice + system + irq + softirq + steal
    return { total: busy + idle + iowait, busy, softirq }
  } catch {
    return null
  }
}

const intervalMs = Number(process.argv[2])
if (!(intervalMs > 0)) {
  process.stderr.write('usage: fleet-link-sampler.js INTERVAL_MS\n')
  process.exit(2)
}
const NET = '/sys/class/net'
const read = async (dev: string, counter: string): Promise<number> => Number((await readFile(`${NET}/${dev}/statistics/${counter}`, 'utf8')).trim())
for (;;) {
  const started = Date.now()
  const devs = (await readdir(NET)).filter((d) => d !== 'lo' && d !== 'br0')
  const counters: Record<string, [number, number]> = {}
  for (const dev of devs) counters[dev] = [await read(dev, 'rx_bytes'), await read(dev, 'tx_bytes')]
  const line: LinkCountersLine = { links: { at: started, counters, cpu: await readCpu() } }
  process.stdout.write(`${JSON.stringify(line)}\n`)
  await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))))
}
