import { spawnSync } from 'node:child_process'

/** Wall time of one command in milliseconds; throws with its stderr if it fails. */
export function timeCommand(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint()
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env })
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return ms
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Runs the two commands alternately so drift in machine load hits both equally. */
export function interleaved(runs: number, a: () => number, b: () => number): { a: number[]; b: number[] } {
  const out = { a: [] as number[], b: [] as number[] }
  for (let i = 0; i < runs; i++) {
    out.a.push(a())
    out.b.push(b())
  }
  return out
}
