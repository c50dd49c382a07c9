/**
 * The data dir: where settings, the release library, the admin token and the running instance's
 * ports live. Its default is Electron's userData path for the app name "Swarmdrop", so the CLI
 * and the desktop app share one library. One `serve` (or app) per data dir, guarded by a lock
 * file holding the owner's pid.
 */
import { mkdir, open, readdir, readFile, rm, chmod } from 'node:fs/promises'
import { homedir } from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { SwarmdropError } from '../../shared/errors.js'
import { writeFileAtomic } from './atomic-write.js'

export const APP_NAME = 'Swarmdrop'
export const DATA_DIR_ENV = 'SWARMDROP_DATA_DIR'

/** What Electron's app.getPath('userData') returns for the app name, without importing Electron. */
export function defaultDataDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  if (platform === 'win32') return path.win32.join(env.APPDATA ?? path.win32.join(home, 'AppData', 'Roaming'), APP_NAME)
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', APP_NAME)
  return path.posix.join(env.XDG_CONFIG_HOME || path.posix.join(home, '.config'), APP_NAME)
}

/** --data-dir wins, then SWARMDROP_DATA_DIR, then the desktop app's folder. */
export function resolveDataDir(flag?: string | null, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag || env[DATA_DIR_ENV] || defaultDataDir()
  return path.resolve(chosen)
}

/** Where the web dashboard's uploads land, one folder per batch. */
export function uploadsDir(dir: string): string {
  return path.join(dir, 'uploads')
}

/**
 * Removes the `.part` files of uploads that never finished (a process killed mid-upload);
 * returns how many. Finished uploads are never touched.
 */
export async function cleanUploadLeftovers(dir: string): Promise<number> {
  let removed = 0
  const walk = async (folder: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => [])
    for (const e of entries) {
      const p = path.join(folder, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile() && e.name.endsWith('.part')) {
        await rm(p, { force: true })
        removed++
      }
    }
  }
  await walk(uploadsDir(dir))
  return removed
}

export async function ensureDataDir(dir: string): Promise<void> {
  try {
    await mkdir(path.join(dir, 'releases'), { recursive: true, mode: 0o700 })
  } catch (err) {
    throw new SwarmdropError('WRITE_FAILED', `Cannot create the data folder ${dir}: ${(err as Error).message}`, { cause: err })
  }
}

export interface DataDirLock {
  release(): Promise<void>
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes `<dir>/lock` (O_EXCL); a lock whose pid is gone is stale and taken over. */
export async function acquireLock(dir: string): Promise<DataDirLock> {
  const lockPath = path.join(dir, 'lock')
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(lockPath, 'wx', 0o600)
      await fh.writeFile(`${process.pid}\n`)
      await fh.close()
      let released = false
      return {
        release: async () => {
          if (released) return
          released = true
          await rm(lockPath, { force: true })
        },
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new SwarmdropError('WRITE_FAILED', `Cannot create the lock file ${lockPath}: ${(err as Error).message}`, { cause: err })
      }
    }
    const pid = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10)
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new SwarmdropError(
        'ALREADY_RUNNING',
        `Swarmdrop is already running for ${dir} (pid ${pid}). Use that instance ("swarmdrop status"), stop it first, or pass another --data-dir.`,
      )
    }
    // Stale (the owner died without cleaning up) or half-written: remove and retry.
    await rm(lockPath, { force: true })
  }
  throw new SwarmdropError('ALREADY_RUNNING', `Cannot take the lock ${lockPath}: another Swarmdrop keeps recreating it.`)
}

export interface InstanceInfo {
  pid: number
  adminPort: number
  httpPort: number
  /** The admin WebSocket's protocol (shared/ws-protocol.ts); absent in files from before it existed. */
  protocolVersion: number | null
  startedAt: string
}

export async function writeInstance(dir: string, info: InstanceInfo): Promise<void> {
  await writeFileAtomic(path.join(dir, 'instance.json'), `${JSON.stringify(info, null, 2)}\n`, 0o600)
}

export async function removeInstance(dir: string): Promise<void> {
  await rm(path.join(dir, 'instance.json'), { force: true })
}

/** The running instance for `dir`, or null when none is (a leftover file from a crash is ignored). */
export async function readInstance(dir: string): Promise<InstanceInfo | null> {
  let raw: string
  try {
    raw = await readFile(path.join(dir, 'instance.json'), 'utf8')
  } catch {
    return null
  }
  try {
    const info = JSON.parse(raw) as Partial<InstanceInfo>
    if (typeof info.pid !== 'number' || typeof info.adminPort !== 'number' || typeof info.httpPort !== 'number') return null
    if (!isAlive(info.pid)) return null
    const protocolVersion = typeof info.protocolVersion === 'number' ? info.protocolVersion : null
    return { pid: info.pid, adminPort: info.adminPort, httpPort: info.httpPort, protocolVersion, startedAt: String(info.startedAt ?? '') }
  } catch {
    return null
  }
}

/** The per-install admin token (`<dir>/admin-token`, mode 0600), created on first use. */
export async function adminToken(dir: string): Promise<string> {
  const file = path.join(dir, 'admin-token')
  try {
    const existing = (await readFile(file, 'utf8')).trim()
    if (existing.length >= 32) return existing
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new SwarmdropError('PATH_UNREADABLE', `Cannot read the admin token ${file}: ${(err as Error).message}`, { cause: err })
    }
  }
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const token = randomBytes(32).toString('base64url')
  await writeFileAtomic(file, `${token}\n`, 0o600)
  await chmod(file, 0o600)
  return token
}
