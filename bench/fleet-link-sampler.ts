/**
 * Runs inside the fleet LAN's hub namespace, where every host's veth has its other end: every
 * `intervalMs` prints one JSON line with each end's byte counters. What an end receives, its host
 * sent. One long-lived process reading sysfs, so sampling costs the two cores next to nothing
 * (an `ip` process per sample would be one more spawn every half second beside the clients).
 * Usage: fleet-link-sampler.js INTERVAL_MS
 */
import { readdir, readFile } from 'node:fs/promises'

export interface LinkCountersLine {
  links: {
    /** Date.now() here: the same machine's clock as the benchmark's. */
    at: number
    /** Interface name → [bytes received, bytes sent]. */
    counters: Record<string, [number, number]>
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
  const line: LinkCountersLine = { links: { at: started, counters } }
  process.stdout.write(`${JSON.stringify(line)}\n`)
  await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))))
}
