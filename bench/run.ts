/**
 * `npm run bench [-- name...]`: every benchmark prints ours vs a real reference measured in the
 * same run on this machine, as a ratio. Benchmarks are not tests: nothing here fails on a slow run.
 */
import type { BenchResult } from './bench-result.js'
import { cpuDescription } from './cpu-model.js'
import { benchCreate } from './create-bench.js'
import { benchServe } from './serve-bench.js'
import { benchUtp } from './utp-bench.js'
import { benchRenderer } from './renderer-bench.js'
import { benchLan } from './lan-bench.js'
import { benchSoak } from './soak-bench.js'
import { benchFleetUi } from './fleet-ui-bench.js'
import { benchFleet } from './fleet-bench.js'
import { benchTracker } from './tracker-bench.js'
import { benchMemory } from './memory-bench.js'
import { benchRc4 } from './rc4-bench.js'

const SUITES: Record<string, () => Promise<BenchResult[]>> = {
  create: benchCreate,
  serve: benchServe,
  utp: benchUtp,
  renderer: benchRenderer,
  lan: benchLan,
  soak: benchSoak,
  'fleet-ui': benchFleetUi,
  fleet: benchFleet,
  tracker: benchTracker,
  memory: benchMemory,
  rc4: benchRc4,
}

const wanted = process.argv.slice(2)
const names = wanted.length ? wanted : Object.keys(SUITES)
console.log(cpuDescription())
for (const name of names) {
  const suite = SUITES[name]
  if (!suite) {
    console.error(`unknown benchmark "${name}"; choose from ${Object.keys(SUITES).join(', ')}`)
    process.exit(2)
  }
  console.log(`\n== ${name} ==`)
  for (const r of await suite()) {
    console.log(`${r.name}\n  ours ${r.ours.toFixed(1)} | reference ${r.reference.toFixed(1)} (${r.unit}) | ratio ${r.ratio.toFixed(2)}${r.note ? `\n  ${r.note}` : ''}`)
  }
}
