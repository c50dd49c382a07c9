/**
 * Browser uploads for the web dashboard: the core can only publish paths on its own machine, so
 * dropped files are streamed into the data dir first (PUT /upload/<batch>/<path>), one file at a
 * time, with XMLHttpRequest because fetch cannot report upload progress.
 */
import { SwarmdropError, isErrorInfo } from '../shared/errors.js'
import { UPLOAD_PATH } from '../shared/ws-protocol.js'
import { topLevelNames, totalBytes, type DroppedFile } from './dropped-files.js'

export interface TransferProgress {
  loaded: number
  total: number
}

export interface UploadTarget {
  /** http://127.0.0.1:PORT of the admin server. */
  baseUrl: string
  token: string
}

export async function uploadFiles(
  target: UploadTarget,
  files: DroppedFile[],
  onProgress: (p: TransferProgress) => void,
  signal: AbortSignal,
): Promise<string[]> {
  if (files.length === 0) throw new SwarmdropError('EMPTY_INPUT', 'Nothing to publish: the drop contained no files. Empty folders cannot be uploaded from a browser; use "path on this machine" instead.')
  const batchId = randomBatchId()
  const total = totalBytes(files)
  let done = 0
  let root: string | null = null
  for (const entry of files) {
    const url = `${target.baseUrl}${UPLOAD_PATH}/${batchId}/${entry.relativePath.split('/').map(encodeURIComponent).join('/')}`
    root = await putFile(url, target.token, entry, (loaded) => onProgress({ loaded: done + loaded, total }), signal)
    done += entry.file.size
    onProgress({ loaded: done, total })
  }
  const names = topLevelNames(files)
  return names.length === 1 ? [`${root}/${names[0]}`] : [root as string]
}

function putFile(url: string, token: string, entry: DroppedFile, onLoaded: (bytes: number) => void, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(cancelled())
    const xhr = new XMLHttpRequest()
    const onAbort = (): void => xhr.abort()
    signal.addEventListener('abort', onAbort, { once: true })
    xhr.open('PUT', url)
    xhr.setRequestHeader('Authorization', `Bearer ${token}`)
    xhr.upload.onprogress = (ev) => onLoaded(ev.loaded)
    xhr.onabort = () => reject(cancelled())
    xhr.onerror = () => reject(new SwarmdropError('WRITE_FAILED', `Uploading ${entry.relativePath} failed: the dashboard server did not answer. Is swarmdrop serve still running?`))
    xhr.onloadend = () => signal.removeEventListener('abort', onAbort)
    xhr.onload = () => {
      const body = parseJson(xhr.responseText)
      if (xhr.status >= 200 && xhr.status < 300 && typeof body === 'object' && body !== null && typeof (body as { root?: unknown }).root === 'string') {
        resolve((body as { root: string }).root)
        return
      }
      const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : null
      reject(
        isErrorInfo(error)
          ? new SwarmdropError(error.code, error.message)
          : new SwarmdropError('WRITE_FAILED', `Uploading ${entry.relativePath} failed with HTTP ${xhr.status}.`),
      )
    }
    xhr.send(entry.file)
  })
}

function cancelled(): SwarmdropError {
  return new SwarmdropError('CANCELLED', 'Upload cancelled.')
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return null
  }
}

function randomBatchId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
