// Shared by bin/swarmdrop.js and bin/start.js. The sources are TypeScript compiled to dist/, and
// npm runs no install scripts here (.npmrc ignore-scripts), so a fresh checkout builds the Node
// side once, on first use.
import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Returns `entry` (a URL under dist/), compiling the project first when it is missing. */
export function ensureBuilt(entry) {
  if (existsSync(entry)) return entry
  process.stderr.write('swarmdrop: first run, compiling the TypeScript sources (npm run build)...\n')
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    process.stderr.write('swarmdrop: the build failed; run "npm run build" in the project folder to see why.\n')
    process.exit(1)
  }
  // The optional SHA-1 kernel; it never fails the build (see native/build.mjs).
  spawnSync(process.execPath, [fileURLToPath(new URL('../native/build.mjs', import.meta.url))], { cwd: root, stdio: 'inherit' })
  return entry
}
