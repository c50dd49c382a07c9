/**
 * test/run.js itself: a file that hangs is killed at its time limit, with whatever it started,
 * and reported by name, so a run always ends; a file that leaks a handle still finishes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from '../support/temp.js'

const RUNNER = fileURLToPath(new URL('../../../test/run.js', import.meta.url))

test('a hung test file becomes a named failure at its time limit, and its children are killed', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const tests = path.join(dir, 'dist', 'test', 'fixture')
  await mkdir(tests, { recursive: true })
  const marker = `swarmdrop-runner-test-${process.pid}`
  await writeFile(
    path.join(tests, 'hang.test.js'),
    `import { test } from 'node:test'
import { spawn } from 'node:child_process'
test('never ends', async () => {
  spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '${marker}'], { stdio: 'ignore' })
  await new Promise(() => setInterval(() => {}, 1000))
})
`,
  )
  await writeFile(path.join(tests, 'leak.test.js'), `import { test } from 'node:test'\nimport { createServer } from 'node:net'\ntest('passes, leaves a server open', () => { createServer().listen(0, '127.0.0.1') })\n`)
  const started = Date.now()
  const r = spawnSync(process.execPath, [RUNNER, '--timeout', '2'], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
  const seconds = (Date.now() - started) / 1000
  assert.equal(r.status, 1, r.stdout + r.stderr)
  assert.ok(seconds < 30, `the runner took ${seconds} s`)
  assert.match(r.stdout, /FAIL\s+[\d.]+ s\s+test\/fixture\/hang\.test\.ts\s+\(timed out after 2 s\)/)
  assert.match(r.stdout, /ok\s+[\d.]+ s\s+test\/fixture\/leak\.test\.ts/)
  assert.match(r.stderr, /fixture\/hang\.test\.js is still running after 2 s/)
  const left = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' })
  assert.equal(left.stdout.trim(), '', 'the hung file\'s child process was killed with it')
})
