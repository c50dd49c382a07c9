import { Component, type ReactNode } from 'react'

/** A rendering bug shows one readable line and a way out, not a blank window or a stack trace. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { message: string | null }> {
  override state = { message: null as string | null }

  static getDerivedStateFromError(err: unknown): { message: string } {
    return { message: err instanceof Error ? err.message : String(err) }
  }

  override render() {
    if (this.state.message === null) return this.props.children
    return (
      <div className="error-message" role="alert">
        <strong className="error-title">The dashboard hit a problem it could not recover from.</strong>
        <p>{this.state.message}</p>
        <button type="button" onClick={() => this.setState({ message: null })}>
          Try again
        </button>
      </div>
    )
  }
}
