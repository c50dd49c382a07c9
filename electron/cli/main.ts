/**
 * The `swarmdrop` command line: one front end over the core, like the Electron window and the
 * web dashboard. Each command module is imported only when used, so `create` stays fast.
 */
import { EXIT_USAGE, reportError, UsageError } from './cli-errors.js'
import { PRODUCT } from '../core/product.js'

const USAGE = `Usage: swarmdrop <command> [options]

Commands:
  create <path>       Hash a file or folder into a private .torrent (offline, like mktorrent)
  help                Show this help
  version             Print the version

Run "swarmdrop <command> --help" for a command's options.`

type Command = (argv: string[]) => Promise<number>

const COMMANDS: Record<string, { usage: () => Promise<string>; run: () => Promise<Command> }> = {
  create: {
    usage: async () => (await import('./create-command.js')).CREATE_USAGE,
    run: async () => (await import('./create-command.js')).runCreate,
  },
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${USAGE}\n`)
    return name === undefined ? EXIT_USAGE : 0
  }
  if (name === 'version' || name === '--version' || name === '-v') {
    process.stdout.write(`${PRODUCT.name} ${PRODUCT.version}\n`)
    return 0
  }
  const command = COMMANDS[name]
  if (!command) return reportError(new UsageError(`unknown command "${name}"`), false)
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${await command.usage()}\n`)
    return 0
  }
  const json = rest.includes('--json')
  try {
    return await (await command.run())(rest)
  } catch (err) {
    if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      return reportError(new UsageError(err.message), json)
    }
    return reportError(err, json)
  }
}
