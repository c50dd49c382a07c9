// Runs the compiled test files with node's own test runner, one file at a time: several start
// real BitTorrent clients, and on two cores parallel files only make timings noisy.
//
// Each file runs in a process group of its own with a time limit. A file that outlives it (a hung
// await, a browser that never answers) is killed with everything it started, and reported as a
// failure that names the file, so a run always ends. Whatever a file leaves behind in its group
// when it finishes (a daemon a failing test did not stop) is killed too.
//
// Usage: node test/run.js [--unit] [--timeout SECONDS] [substring filter...]
//   --unit   only the pure-logic tier (test/unit, test/renderer): no external tools, under 30 s
import { readdirSync, statSync } from 'node:fs'
import { spawn } from 'node:child_process'
import path from 'node:path'

const DIST = path.resolve('dist/test')
const UNIT_DIRS = ['unit', 'renderer']
const DEFAULT_TIMEOUT_S = 240
/** Files that legitimately need longer: several real clients, or a LAN built from namespaces. */
const TIMEOUT_S = { 'integration/fleet-netns.test.js': 420, 'integration/create.test.js': 360, 'integration/fleet-view.test.js': 420 }
const KILL_GRACE_MS = 5_000

const args = process.argv.slice(2)
let unitOnly = false
let timeoutOverride = null
const filters = []
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  if (a === '--unit') unitOnly = true
  else if (a === '--timeout') timeoutOverride = Number(args[++i])
  else if (a.startsWith('--timeout=')) timeoutOverride = Number(a.slice('--timeout='.length))
  else filters.push(a)
}
if (timeoutOverride !== null && !(timeoutOverride > 0)) {
  console.error('test/run.js: --timeout takes a number of seconds')
  process.exit(2)
}

const files = []
const walk = (d) => {
  for (const name of readdirSync(d)) {
    const p = path.join(d, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (name.endsWith('.test.js')) files.push(p)
  }
}
try {
  for (const tier of unitOnly ? UNIT_DIRS : readdirSync(DIST)) {
    const p = path.join(DIST, tier)
    if (tier !== 'support' && statSync(p).isDirectory()) walk(p)
  }
} catch (err) {
  console.error(`test/run.js: cannot read ${DIST} (${err.message}); run "npm run build" first`)
  process.exit(1)
}
const selected = files.filter((p) => filters.length === 0 || filters.some((f) => p.includes(f))).sort()
if (selected.length === 0) {
  console.error(`no test files found under ${DIST}${filters.length ? ` matching ${filters.join(', ')}` : ''}`)
  process.exit(1)
}

// Set when this runner itself runs inside a test (test/unit/test-runner.test.ts): node would then
// report to the outer runner instead of running the files.
const childEnv = { ...process.env }
delete childEnv.NODE_TEST_CONTEXT

let current = null
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current) killGroup(current.pid, 'SIGKILL')
    process.exit(130)
  })
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal)
  } catch {
    // The group is already gone.
  }
}

function runFile(file) {
  const rel = path.relative(DIST, file)
  const limitS = timeoutOverride ?? TIMEOUT_S[rel] ?? DEFAULT_TIMEOUT_S
  const started = Date.now()
  return new Promise((resolve) => {
    // --test-force-exit: a handle a test forgot to close must not keep the file alive.
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-force-exit', file], { stdio: ['ignore', 'inherit', 'inherit'], detached: true, env: childEnv })
    current = child
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      process.stderr.write(`\ntest/run.js: ${rel} is still running after ${limitS} s; killing it and everything it started.\n`)
      killGroup(child.pid, 'SIGTERM')
      setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS).unref()
    }, limitS * 1000)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      // Leftovers of this file (daemons a failed test did not stop) must not leak into the next.
      killGroup(child.pid, 'SIGKILL')
      current = null
      const seconds = (Date.now() - started) / 1000
      const ok = !timedOut && code === 0
      const why = timedOut ? `timed out after ${limitS} s` : code !== 0 ? `exit ${code ?? signal}` : ''
      resolve({ rel, ok, why, seconds })
    })
  })
}

const results = []
const runStarted = Date.now()
for (const file of selected) results.push(await runFile(file))

const failed = results.filter((r) => !r.ok)
console.log(`\n${'─'.repeat(72)}\ntest files: ${results.length}, passed ${results.length - failed.length}, failed ${failed.length}, ${((Date.now() - runStarted) / 1000).toFixed(1)} s`)
for (const r of results) console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.seconds.toFixed(1).padStart(6)} s  test/${r.rel.replace(/\.js$/, r.rel.startsWith('renderer/') ? '.tsx' : '.ts')}${r.why ? `  (${r.why})` : ''}`)
process.exit(failed.length === 0 ? 0 : 1)
