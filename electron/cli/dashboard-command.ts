import { parseArgs } from 'node:util'
import { SwarmdropError } from '../../shared/errors.js'
import { adminToken, readInstance, resolveDataDir } from '../engine/data-dir.js'
import { UsageError } from './cli-errors.js'

export const DASHBOARD_USAGE = `swarmdrop dashboard [--data-dir DIR]

  Prints the sign-in link of the running instance's web dashboard (loopback only). The link
  carries the admin token, so it is printed only when asked for: reading it needs the same
  access to the data dir as the token file itself.`

export async function runDashboard(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'data-dir': { type: 'string' } } })
  if (positionals.length > 0) throw new UsageError('dashboard takes no arguments')
  const dataDir = resolveDataDir(values['data-dir'])
  const instance = await readInstance(dataDir)
  if (!instance) throw new SwarmdropError('NOT_RUNNING', `no Swarmdrop is running for ${dataDir}; start it with "swarmdrop serve${values['data-dir'] ? ` --data-dir ${dataDir}` : ''}"`)
  process.stdout.write(`${signInUrl(instance.adminPort, await adminToken(dataDir))}\n`)
  return 0
}

/** The token rides in the fragment, which a browser never sends to a server; the page removes it at once. */
export function signInUrl(adminPort: number, token: string): string {
  return `http://127.0.0.1:${adminPort}/#token=${encodeURIComponent(token)}`
}
