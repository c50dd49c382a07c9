import { useId, useRef, useState } from 'react'
import { copyText } from '../clipboard.js'

/** A read-only value with a copy button; if the clipboard is off-limits the text is selected instead. */
export function CopyField({ label, value }: { label: string; value: string }) {
  const id = useId()
  const input = useRef<HTMLInputElement>(null)
  const [status, setStatus] = useState<string>('')
  const copy = async (): Promise<void> => {
    if (await copyText(value)) {
      setStatus('Copied')
    } else {
      input.current?.select()
      setStatus('Press Ctrl+C to copy')
    }
  }
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input id={id} ref={input} readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={() => void copy()} aria-label={`Copy ${label}`}>
          Copy
        </button>
      </div>
      <span className="copy-status" aria-live="polite">
        {status}
      </span>
    </div>
  )
}
