import { useEffect, useRef, useState, type DragEvent } from 'react'
import { readDataTransfer, readFileList, type DroppedItems } from '../dropped-files.js'

/**
 * The drop target. It is a real button: Enter or Space opens the file picker, so the wizard
 * works without a mouse, and a second button picks a whole folder.
 */
export function DropZone({ onItems, hint }: { onItems: (items: DroppedItems) => void; hint: string }) {
  const files = useRef<HTMLInputElement>(null)
  const folder = useRef<HTMLInputElement>(null)
  const [over, setOver] = useState(false)

  useEffect(() => {
    // Not in React's attribute types, but every engine we run in supports it.
    folder.current?.setAttribute('webkitdirectory', '')
  }, [])

  const accept = (e: DragEvent): void => {
    if (!Array.from(e.dataTransfer.types).includes('Files')) return
    e.preventDefault()
    e.dataTransfer.dropEffect = 'copy'
    setOver(true)
  }
  const onDrop = (e: DragEvent): void => {
    e.preventDefault()
    setOver(false)
    void readDataTransfer(e.dataTransfer).then(onItems)
  }
  const onPicked = (input: HTMLInputElement | null): void => {
    if (!input?.files || input.files.length === 0) return
    onItems(readFileList(input.files))
    input.value = ''
  }

  return (
    <div className="drop-area">
      <button
        type="button"
        className={`drop-zone${over ? ' drop-over' : ''}`}
        data-testid="drop-zone"
        onClick={() => files.current?.click()}
        onDragEnter={accept}
        onDragOver={accept}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <span className="drop-icon" aria-hidden="true">
          ⇪
        </span>
        <span className="drop-title">Drop an update here</span>
        <span className="drop-hint">{hint}</span>
      </button>
      <div className="drop-actions">
        <button type="button" className="link" onClick={() => files.current?.click()}>
          Choose files…
        </button>
        <button type="button" className="link" onClick={() => folder.current?.click()}>
          Choose a folder…
        </button>
      </div>
      <input ref={files} type="file" multiple hidden aria-hidden="true" tabIndex={-1} onChange={(e) => onPicked(e.currentTarget)} />
      <input ref={folder} type="file" hidden aria-hidden="true" tabIndex={-1} onChange={(e) => onPicked(e.currentTarget)} />
    </div>
  )
}
