/**
 * Finds the Electron executable without ever triggering its download. `require('electron')`
 * would run electron's install.js when the binary is missing, which fetches from GitHub: on
 * these machines that is a network call that cannot succeed, so we read the same files it reads
 * (path.txt, dist/) and report why the binary is not there instead. Plain Node, no electron import.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

export type ElectronBinary = { ok: true; path: string } | { ok: false; reason: string }

export function locateElectronBinary(env: NodeJS.ProcessEnv = process.env): ElectronBinary {
  let packageDir: string
  try {
    packageDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'))
  } catch {
    return { ok: false, reason: 'the electron package is not installed in node_modules' }
  }
  const pathFile = path.join(packageDir, 'path.txt')
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null
  // The override electron itself honours, for a binary unpacked by hand (e.g. from a zip).
  const override = env.ELECTRON_OVERRIDE_DIST_PATH
  if (override) {
    const candidate = path.join(override, relative ?? defaultExecutableName())
    return existsSync(candidate)
      ? { ok: true, path: candidate }
      : { ok: false, reason: `ELECTRON_OVERRIDE_DIST_PATH is set but ${candidate} does not exist` }
  }
  if (relative === null) {
    return { ok: false, reason: 'node_modules/electron has no binary: it is fetched from GitHub on first run, which never happened here' }
  }
  const candidate = path.join(packageDir, 'dist', relative)
  return existsSync(candidate) ? { ok: true, path: candidate } : { ok: false, reason: `${candidate} is missing` }
}

function defaultExecutableName(): string {
  if (process.platform === 'darwin') return 'Electron.app/Contents/MacOS/Electron'
  return process.platform === 'win32' ? 'electron.exe' : 'electron'
}
