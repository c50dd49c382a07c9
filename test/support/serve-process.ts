/** `swarmdrop serve` as a real process, as a user runs it. */
import { spawn } from 'node:child_process'
import { BIN } from './run-cli.js'
import { supervise, type Supervised } from './child-process.js'

export interface ServeProcess extends Supervised {
  /** The printed dashboard URL (with its token), or null when serve has no dashboard. */
  dashboardUrl: string | null
}

/** Starts it and resolves once it printed "swarmdrop: ready"; rejects with its output if it exits first. */
export async function startServeProcess(args: string[], timeoutMs = 30_000, wrap?: (cmd: string, args: string[]) => [string, string[]]): Promise<ServeProcess> {
  const [cmd, argv] = wrap ? wrap(process.execPath, [BIN, 'serve', ...args]) : [process.execPath, [BIN, 'serve', ...args]]
  const serve = supervise(spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] }), 10_000)
  try {
    await serve.waitForOutput(/swarmdrop: ready/, timeoutMs, 'swarmdrop serve to be ready')
  } catch (err) {
    await serve.stop()
    throw err
  }
  const dashboardUrl = /dashboard:\s+(http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/.exec(serve.output())?.[1] ?? null
  return { ...serve, dashboardUrl }
}
