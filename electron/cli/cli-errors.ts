import { toErrorInfo } from '../../shared/errors.js'

/** Exit codes: 1 = the operation failed, 2 = the command line was wrong. */
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

export class UsageError extends Error {}

/** Prints an error the way every command does: one line, its code, no stack trace. */
export function reportError(err: unknown, json: boolean): number {
  if (err instanceof UsageError) {
    process.stderr.write(`swarmdrop: ${err.message}\nRun "swarmdrop help" for usage.\n`)
    return EXIT_USAGE
  }
  const info = toErrorInfo(err)
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: info })}\n`)
  process.stderr.write(`swarmdrop: error ${info.code}: ${info.message}\n`)
  if (info.code === 'INTERNAL' && process.env.SWARMDROP_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`)
  return EXIT_FAILURE
}
