/** `swarmdrop serve` as a real process, as a user runs it. */
import { spawn } from 'node:child_process'
import { BIN, runCli } from './run-cli.js'
import { supervise, type Supervised } from './child-process.js'

export interface ServeProcess extends Supervised {
  /** The printed dashboard URL (with its token), or null when serve has no dashboard. */
  dashboardUrl: string | null
}

/** Starts it and resolves once it printed "swarmdrop: ready"; rejects with its output if it exits first. */
export async function startServeProcess(args: string[], timeoutMs = 30_000, wrap?: (cmd: string, args: string[]) => [string, string[]]): Promise<ServeProcess> {
  // Tests never ask a real DNS server anything.
  const serveArgs = [BIN, 'serve', ...args, '--no-reverse-dns']
  const [cmd, argv] = wrap ? wrap(process.execPath, serveArgs) : [process.execPath, serveArgs]
  const serve = supervise(spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] }), 10_000)
  try {
    await serve.waitForOutput(/swarmdrop: ready/, timeoutMs, 'swarmdrop serve to be ready')
  } catch (err) {
    await serve.stop()
    throw err
  }
  // Not a terminal, so serve does not print the sign-in link: ask for it as a person would.
  const dataDir = args[args.indexOf('--data-dir') + 1]
  let dashboardUrl: string | null = null
  if (args.includes('--data-dir') && dataDir && /dashboard:\s+http:\/\/127\.0\.0\.1:\d+\/ /.test(serve.output())) {
    const asked = await runCli(['dashboard', '--data-dir', dataDir])
    dashboardUrl = /^http:\/\/127\.0\.0\.1:\d+\/#token=\S+$/m.exec(asked.stdout)?.[0] ?? null
  }
  return { ...serve, dashboardUrl }
}
