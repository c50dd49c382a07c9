/**
 * The `swarmdrop` command line: one front end over the core, like the Electron window and the
 * web dashboard. Each command module is imported only when used, so `create` stays fast.
 */
import { EXIT_USAGE, reportError, UsageError } from './cli-errors.js'
import { PRODUCT } from '../engine/product.js'

const USAGE = `Usage: swarmdrop <command> [options]

Commands:
  create <path>       Hash a file or folder into a private .torrent (offline, like mktorrent)
  serve               Run the tracker, the RSS feed and the seeder (headless), with a web dashboard
  publish <path>      Hash, seed and list a file or folder in the feed of the running serve
  status              Show the running serve's feed URL, ports and releases
  retire <infohash>   Take a release out of the feed and stop seeding it
  wait <release>      Block until a release has reached the servers (for deploy pipelines)
  subscribe [client]  Print a ready setup that subscribes a server's client to the feed
  dashboard           Print the sign-in link of the running instance's web dashboard
  hooks               Show or set the command / webhook run on rollout complete and on a stall
  service install     Run serve as a systemd service (dedicated user, sandboxed)
  help                Show this help
  version             Print the version

Run "swarmdrop <command> --help" for a command's options.`

type Command = (argv: string[]) => Promise<number>

const COMMANDS: Record<string, { usage: () => Promise<string>; run: () => Promise<Command> }> = {
  create: {
    usage: async () => (await import('./create-command.js')).CREATE_USAGE,
    run: async () => (await import('./create-command.js')).runCreate,
  },
  serve: {
    usage: async () => (await import('./serve-command.js')).SERVE_USAGE,
    run: async () => (await import('./serve-command.js')).runServe,
  },
  publish: {
    usage: async () => (await import('./publish-command.js')).PUBLISH_USAGE,
    run: async () => (await import('./publish-command.js')).runPublish,
  },
  status: {
    usage: async () => (await import('./status-command.js')).STATUS_USAGE,
    run: async () => (await import('./status-command.js')).runStatus,
  },
  retire: {
    usage: async () => (await import('./retire-command.js')).RETIRE_USAGE,
    run: async () => (await import('./retire-command.js')).runRetire,
  },
  wait: {
    usage: async () => (await import('./wait-command.js')).WAIT_USAGE,
    run: async () => (await import('./wait-command.js')).runWait,
  },
  subscribe: {
    usage: async () => (await import('./subscribe-command.js')).SUBSCRIBE_USAGE,
    run: async () => (await import('./subscribe-command.js')).runSubscribe,
  },
  dashboard: {
    usage: async () => (await import('./dashboard-command.js')).DASHBOARD_USAGE,
    run: async () => (await import('./dashboard-command.js')).runDashboard,
  },
  hooks: {
    usage: async () => (await import('./hooks-command.js')).HOOKS_USAGE,
    run: async () => (await import('./hooks-command.js')).runHooks,
  },
  service: {
    usage: async () => (await import('./service-command.js')).SERVICE_USAGE,
    run: async () => (await import('./service-command.js')).runService,
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
