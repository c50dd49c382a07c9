/**
 * The benches' side of memory-probe.ts: asks the probe preloaded into a `swarmdrop serve` where
 * its memory is, and says it in one line.
 */
import { readFile, rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { MemoryProbe } from './memory-probe.js'

/** What to preload (`node --expose-gc --import PROBE_MODULE`), with SWARMDROP_MEMORY_PROBE=<file> in the environment. */
export const PROBE_MODULE = fileURLToPath(new URL('./memory-probe.js', import.meta.url))

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
export const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1)

/** Asks the probe in serve for its breakdown; the probe writes it to `file`. */
export async function askProbe(pid: number, file: string): Promise<MemoryProbe> {
  await rm(file, { force: true })
  process.kill(pid, 'SIGUSR2')
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as MemoryProbe
    } catch {
      await sleep(100)
    }
  }
  throw new Error('the memory probe in serve did not answer within 60 s')
}

export function describeProbe(rss: number, p: MemoryProbe): string {
  const m = p.afterGc ?? p.before
  const buffers = m.arrayBuffers
  const rest = rss - m.heapTotal - buffers
  return `RSS ${mib(rss)} MiB = V8 heap ${mib(m.heapTotal)} (used ${mib(p.before.heapUsed)}, ${mib(m.heapUsed)} live after GC) + Buffers ${mib(buffers)} (${mib(p.before.arrayBuffers)} before GC) + rest ${mib(rest)} (malloc, code, stacks)`
}
