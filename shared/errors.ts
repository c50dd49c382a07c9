/**
 * Errors are values with a stable code and a human message. The core throws `SwarmdropError`;
 * every front end (CLI, Electron IPC, web dashboard) shows `message` and may branch on `code`.
 */
export type ErrorCode =
  | 'PATH_NOT_FOUND'
  | 'PATH_UNREADABLE'
  | 'NOT_A_FILE'
  | 'EMPTY_INPUT'
  | 'SYMLINK_LOOP'
  | 'LINK_OUTSIDE_RELEASE'
  | 'FILE_CHANGED'
  | 'CANCELLED'
  | 'INVALID_ARGUMENT'
  | 'WRITE_FAILED'
  | 'NO_SPACE'
  | 'PORT_IN_USE'
  | 'ALREADY_RUNNING'
  | 'NOT_RUNNING'
  | 'UNKNOWN_RELEASE'
  | 'UNAUTHORIZED'
  | 'VERSION_MISMATCH'
  | 'INTERNAL'

export interface ErrorInfo {
  code: ErrorCode
  message: string
}

export class SwarmdropError extends Error implements ErrorInfo {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SwarmdropError'
    this.code = code
  }

  toJSON(): ErrorInfo {
    return { code: this.code, message: this.message }
  }
}

/** Turns anything thrown into an ErrorInfo a UI can show without a stack trace. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof SwarmdropError) return { code: err.code, message: err.message }
  if (isErrorInfo(err)) return { code: err.code, message: err.message }
  const message = err instanceof Error ? err.message : String(err)
  return { code: 'INTERNAL', message: `Unexpected error: ${message}` }
}

export function isErrorInfo(value: unknown): value is ErrorInfo {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  )
}
