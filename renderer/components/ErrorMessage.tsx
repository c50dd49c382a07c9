import type { ErrorInfo } from '../../shared/errors.js'

/** An error as the user should see it: the message and its code, never a stack trace. */
export function ErrorMessage({ error, title }: { error: ErrorInfo; title?: string }) {
  return (
    <div className="error-message" role="alert">
      {title ? <strong className="error-title">{title}</strong> : null}
      <p>{error.message}</p>
      <span className="error-code">{error.code}</span>
    </div>
  )
}
