/**
 * The publish wizard as a state machine: drop -> (upload) -> review -> options -> hashing -> done,
 * with an error state reachable from every step. The core does the work (preview, hashing,
 * seeding); this only tracks which screen the user is on and what the core last reported.
 */
import { createStore, type StoreApi } from 'zustand/vanilla'
import type { Events, HashProgress, PublishPreview, PublishRequest, ReleaseSummary } from '../shared/contract.js'
import { toErrorInfo, type ErrorInfo } from '../shared/errors.js'
import type { Backend } from './backend.js'
import type { DroppedItems } from './dropped-files.js'
import type { TransferProgress } from './upload.js'

export interface PublishOptions {
  name: string
  channel: string
  private: boolean
  webSeed: boolean
  comment: string
}

interface Selection {
  paths: string[]
  preview: PublishPreview
  options: PublishOptions
}

export type PublishStep =
  | { step: 'empty' }
  | { step: 'staging'; progress: TransferProgress }
  | ({ step: 'review' } & Selection)
  | ({ step: 'options' } & Selection)
  | ({ step: 'hashing'; jobId: string | null; progress: HashProgress | null } & Selection)
  | { step: 'done'; release: ReleaseSummary }
  | { step: 'error'; error: ErrorInfo; selection: Selection | null }

export interface PublishActions {
  /** Files dropped or picked: stage them (upload in a browser), then preview. */
  drop(items: DroppedItems): Promise<void>
  /** Paths already on the publisher's machine. */
  previewPaths(paths: string[]): Promise<void>
  toOptions(): void
  setOptions(patch: Partial<PublishOptions>): void
  back(): void
  start(): Promise<void>
  cancel(): Promise<void>
  reset(): void
}

export type PublishState = { flow: PublishStep; notice: string | null } & PublishActions
export type PublishStore = StoreApi<PublishState>

type JobEvent =
  | { kind: 'progress'; payload: Events['publish.progress'] }
  | { kind: 'done'; payload: Events['publish.done'] }
  | { kind: 'error'; payload: Events['publish.error'] }

export function createPublishStore(backend: Backend): PublishStore {
  const { api } = backend
  let staging: AbortController | null = null
  // Events for a job can arrive before publish.start has told us its id; hold them until it has.
  let early: JobEvent[] = []

  const store = createStore<PublishState>()((set, get) => {
    const fail = (err: unknown, selection: Selection | null): void => set({ flow: { step: 'error', error: toErrorInfo(err), selection } })

    const onJobEvent = (event: JobEvent): void => {
      const flow = get().flow
      if (flow.step !== 'hashing') return
      if (flow.jobId === null) {
        early.push(event)
        return
      }
      if (event.payload.jobId !== flow.jobId) return
      if (event.kind === 'progress') set({ flow: { ...flow, progress: event.payload } })
      else if (event.kind === 'done') set({ flow: { step: 'done', release: event.payload.release } })
      else fail(event.payload.error, selectionOf(flow))
    }
    api.on('publish.progress', (payload) => onJobEvent({ kind: 'progress', payload }))
    api.on('publish.done', (payload) => onJobEvent({ kind: 'done', payload }))
    api.on('publish.error', (payload) => onJobEvent({ kind: 'error', payload }))

    const previewPaths = async (paths: string[]): Promise<void> => {
      const result = await api.call('publish.preview', { paths })
      if (!result.ok) return fail(result.error, null)
      const preview = result.value
      set({
        notice: null,
        flow: { step: 'review', paths, preview, options: { name: preview.name, channel: '', private: true, webSeed: true, comment: '' } },
      })
    }

    return {
      flow: { step: 'empty' },
      notice: null,
      async drop(items) {
        staging?.abort()
        const controller = (staging = new AbortController())
        const total = items.files.reduce((sum, f) => sum + f.file.size, 0)
        set({ notice: null, flow: { step: 'staging', progress: { loaded: 0, total } } })
        let paths: string[]
        try {
          paths = await backend.stage(items, (progress) => {
            if (get().flow.step === 'staging' && !controller.signal.aborted) set({ flow: { step: 'staging', progress } })
          }, controller.signal)
        } catch (err) {
          if (controller.signal.aborted) return
          return fail(err, null)
        } finally {
          if (staging === controller) staging = null
        }
        if (controller.signal.aborted) return
        await previewPaths(paths)
      },
      previewPaths,
      toOptions() {
        const flow = get().flow
        if (flow.step === 'review') set({ flow: { ...flow, step: 'options' } })
      },
      setOptions(patch) {
        const flow = get().flow
        if (flow.step === 'options' || flow.step === 'review') set({ flow: { ...flow, options: { ...flow.options, ...patch } } })
      },
      back() {
        const flow = get().flow
        if (flow.step === 'options') set({ flow: { ...flow, step: 'review' } })
        else if (flow.step === 'error' && flow.selection) set({ flow: { step: 'options', ...flow.selection } })
        else set({ flow: { step: 'empty' } })
      },
      async start() {
        const flow = get().flow
        if (flow.step !== 'options') return
        const selection = selectionOf(flow)
        early = []
        set({ notice: null, flow: { step: 'hashing', jobId: null, progress: null, ...selection } })
        const result = await api.call('publish.start', requestFor(selection))
        if (!result.ok) return fail(result.error, selection)
        const now = get().flow
        if (now.step !== 'hashing' || now.jobId !== null) return
        set({ flow: { ...now, jobId: result.value.jobId } })
        const held = early
        early = []
        for (const event of held) onJobEvent(event)
      },
      async cancel() {
        const flow = get().flow
        if (flow.step === 'staging') {
          staging?.abort()
          set({ flow: { step: 'empty' }, notice: 'Upload cancelled. Nothing was published.' })
          return
        }
        if (flow.step !== 'hashing' || flow.jobId === null) return
        const result = await api.call('publish.cancel', { jobId: flow.jobId })
        if (!result.ok) return set({ notice: result.error.message })
        set({ flow: { step: 'options', ...selectionOf(flow) }, notice: 'Hashing cancelled. Nothing was published.' })
      },
      reset() {
        staging?.abort()
        set({ flow: { step: 'empty' }, notice: null })
      },
    }
  })
  return store
}

function selectionOf(flow: Selection): Selection {
  return { paths: flow.paths, preview: flow.preview, options: flow.options }
}

function requestFor({ paths, options }: Selection): PublishRequest {
  const request: PublishRequest = { paths, name: options.name.trim() || undefined, private: options.private, webSeed: options.webSeed }
  if (options.channel.trim() !== '') request.channel = options.channel.trim()
  if (options.comment.trim() !== '') request.comment = options.comment.trim()
  return request
}
