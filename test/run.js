// Runs the compiled test files with node's own test runner. Files run one at a time: several
// start real BitTorrent clients, and on two cores parallel files only make timings noisy.
// Usage: node test/run.js [substring filter...]
import { readdirSync, statSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import path from 'node:path'

const dir = path.resolve('dist/test')
const filters = process.argv.slice(2)
const files = []
const walk = (d) => {
  for (const name of readdirSync(d)) {
    const p = path.join(d, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (name.endsWith('.test.js') && (filters.length === 0 || filters.some((f) => p.includes(f)))) files.push(p)
  }
}
walk(dir)
files.sort()
if (files.length === 0) {
  console.error(`no test files found under ${dir}${filters.length ? ` matching ${filters.join(', ')}` : ''}`)
  process.exit(1)
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' })
process.exit(r.status ?? 1)
