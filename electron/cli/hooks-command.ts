import { parseArgs } from 'node:util'
import type { HookSettings } from '../../shared/contract.js'
import { connectInstance } from './instance-client.js'
import { UsageError } from './cli-errors.js'

export const HOOKS_USAGE = `swarmdrop hooks [--command CMD | --no-command] [--webhook URL | --no-webhook] [--timeout SECONDS]
                [--data-dir DIR] [--json]

  Shows, or sets, what the running serve (or desktop app) runs when a release has reached every
  expected server, and when a server's download stalls (once per server and release):
    --command CMD      a shell command line; the event comes as JSON on its stdin, and in
                       SWARMDROP_EVENT, SWARMDROP_RELEASE, SWARMDROP_INFOHASH (SWARMDROP_SERVER)
    --webhook URL      an http(s) URL that gets the event as a JSON POST
    --timeout SECONDS  each is cut after this long (default 10): the command killed, the request aborted
  A failure is one line in serve's log and never holds up seeding. Changes apply at once.`

export async function runHooks(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      command: { type: 'string' },
      'no-command': { type: 'boolean' },
      webhook: { type: 'string' },
      'no-webhook': { type: 'boolean' },
      timeout: { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
    },
  })
  if (positionals.length > 0) throw new UsageError(`hooks takes options only, got "${positionals.join(' ')}"`)
  if (values.command !== undefined && values['no-command']) throw new UsageError('give --command or --no-command, not both')
  if (values.webhook !== undefined && values['no-webhook']) throw new UsageError('give --webhook or --no-webhook, not both')
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout)
  if (timeout !== undefined && !Number.isInteger(timeout)) throw new UsageError(`--timeout must be a whole number of seconds, got "${values.timeout}"`)

  const conn = await connectInstance(values['data-dir'])
  try {
    let hooks: HookSettings = (await conn.call('snapshot.get', {})).settings.hooks
    const change: Partial<HookSettings> = {
      ...(values.command !== undefined ? { command: values.command } : values['no-command'] ? { command: null } : {}),
      ...(values.webhook !== undefined ? { webhookUrl: values.webhook } : values['no-webhook'] ? { webhookUrl: null } : {}),
      ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
    }
    // The setting is one object: the fields not given keep their values. The engine checks them.
    if (Object.keys(change).length > 0) hooks = (await conn.call('settings.update', { hooks: { ...hooks, ...change } })).settings.hooks
    if (values.json) process.stdout.write(`${JSON.stringify({ ok: true, hooks })}\n`)
    else process.stdout.write(`command:  ${hooks.command ?? '(none)'}\nwebhook:  ${hooks.webhookUrl ?? '(none)'}\ntimeout:  ${hooks.timeoutSeconds} s\n`)
    return 0
  } finally {
    conn.close()
  }
}
