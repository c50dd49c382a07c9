#!/usr/bin/env node
// Entry point installed as the package's `bin`. The CLI is TypeScript compiled to dist/; a fresh
// checkout (npm ci runs no scripts here) builds it once on first use.
import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const entry = new URL('../dist/electron/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write('swarmdrop: first run, compiling the TypeScript sources (npm run build)...\n')
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    process.stderr.write('swarmdrop: the build failed; run "npm run build" in the project folder to see why.\n')
    process.exit(1)
  }
}
const { main } = await import(entry.href)
process.exitCode = await main(process.argv.slice(2))
