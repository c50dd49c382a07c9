/**
 * The last line of defence. Every connection, request and release already handles its own
 * errors; an error that still escapes is a bug. Carrying on after one could leave the process
 * half-working (the feed up, the seeder gone), so it is logged in one line with where it came
 * from, the instance is stopped cleanly (announces "stopped", frees the ports, removes the lock)
 * and the process exits with EX_SOFTWARE (70), for a supervisor such as systemd to restart it.
 */
export const EXIT_FATAL = 70
const STOP_TIMEOUT_MS = 10_000

export interface FatalHandlerOptions {
  /** Stops the instance; bounded by `timeoutMs`, so a stuck shutdown cannot keep a broken process alive. */
  stop: () => Promise<void>
  log: (line: string) => void
  exit: (code: number) => void
  timeoutMs?: number
}

/** Installs the handlers on `proc` (the process); returns a function that removes them. */
export function handleFatalErrors(proc: NodeJS.EventEmitter, options: FatalHandlerOptions): () => void {
  let handling = false
  const onFatal = (kind: string) => (err: unknown) => {
    options.log(`fatal: ${kind}: ${describe(err)}`)
    if (handling) return
    handling = true
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, options.timeoutMs ?? STOP_TIMEOUT_MS).unref())
    void Promise.race([options.stop().catch((stopErr: unknown) => options.log(`fatal: while stopping: ${describe(stopErr)}`)), timeout]).finally(() =>
      options.exit(EXIT_FATAL),
    )
  }
  const onException = onFatal('uncaught exception')
  const onRejection = onFatal('unhandled rejection')
  proc.on('uncaughtException', onException)
  proc.on('unhandledRejection', onRejection)
  return () => {
    proc.off('uncaughtException', onException)
    proc.off('unhandledRejection', onRejection)
  }
}

/** One line: the message and the first frame of our own code, for context without a stack dump. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const frame = err.stack
    ?.split('\n')
    .slice(1)
    .map((l) => l.trim())
    .find((l) => l.startsWith('at ') && !l.includes('node:internal'))
  return `${err.name}: ${err.message}${frame ? ` (${frame})` : ''}`
}
