import { readFileSync } from 'node:fs'
import os from 'node:os'

/**
 * One line naming the CPU a benchmark ran on: hashing figures differ several-fold between CPUs
 * with SHA-NI, with only AVX2, and with neither, so every printed ratio needs it next to it.
 */
export function cpuDescription(): string {
  const model = os.cpus()[0]?.model ?? 'unknown CPU'
  let flags: string[] = []
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? ''
    const present = new Set(line.split(/\s+/))
    flags = ['sha_ni', 'avx2'].map((f) => `${f} ${present.has(f) ? 'yes' : 'no'}`)
  } catch {
    flags = ['flags unknown (no /proc/cpuinfo)']
  }
  return `CPU: ${model}, ${os.cpus().length} logical CPUs; ${flags.join(', ')}`
}
