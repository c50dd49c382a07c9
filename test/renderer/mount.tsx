/**
 * Mounts renderer components into the jsdom document with the real stores wired to a transport
 * (the fake API in component tests), plus the few DOM interactions the tests need.
 */
import '../support/dom.js'
import { act, type ReactNode } from 'react'
import { createRoot } from 'react-dom/client'
import { AppContext, createAppContext, type AppContextValue } from '../../renderer/app-context.js'
import type { Backend } from '../../renderer/backend.js'
import type { DroppedItems } from '../../renderer/dropped-files.js'
import type { TransferProgress } from '../../renderer/upload.js'
import type { FakeSwarmdropApi } from '../support/fake-api.js'

export interface Mounted {
  container: HTMLElement
  context: AppContextValue
  unmount(): Promise<void>
}

export interface FakeBackendOptions {
  kind?: Backend['kind']
  /** What staging a drop does; by default it answers one path per top-level name. */
  stage?: (items: DroppedItems, onProgress: (p: TransferProgress) => void, signal: AbortSignal) => Promise<string[]>
}

export function fakeBackend(api: FakeSwarmdropApi, options: FakeBackendOptions = {}): Backend {
  return {
    kind: options.kind ?? 'browser',
    api,
    stage: options.stage ?? ((items) => Promise.resolve([...new Set(items.files.map((f) => `/data/uploads/b1/${f.relativePath.split('/')[0]}`))])),
    onDisconnect: () => {},
  }
}

export async function mount(ui: ReactNode, backend: Backend): Promise<Mounted> {
  const container = document.createElement('div')
  document.body.appendChild(container)
  const root = createRoot(container)
  const { value, detach } = createAppContext(backend)
  await act(async () => {
    root.render(<AppContext.Provider value={value}>{ui}</AppContext.Provider>)
  })
  // Let snapshot.get resolve and render.
  await settle()
  return {
    container,
    context: value,
    async unmount() {
      await act(async () => root.unmount())
      detach()
      container.remove()
    },
  }
}

/** Flushes pending promises and React work. */
export async function settle(): Promise<void> {
  await act(async () => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0))
  })
}

/** Runs a change that comes from outside React (an event from the core) and lets it render. */
export async function fromCore(change: () => void): Promise<void> {
  await act(async () => change())
  await settle()
}

/** Visible text with a space between text nodes, as a reader would see separate cells and spans. */
export function text(el: Element): string {
  const walker = el.ownerDocument.createTreeWalker(el, window.NodeFilter.SHOW_TEXT)
  const parts: string[] = []
  for (let node = walker.nextNode(); node; node = walker.nextNode()) parts.push(node.nodeValue ?? '')
  return parts.join(' ').replace(/\s+/g, ' ').trim()
}

export function button(root: Element, name: string | RegExp): HTMLButtonElement {
  const all = Array.from(root.querySelectorAll('button'))
  const found = all.find((b) => (typeof name === 'string' ? text(b) === name || b.getAttribute('aria-label') === name : name.test(text(b))))
  if (!found) throw new Error(`No button "${String(name)}" among: ${all.map((b) => JSON.stringify(text(b))).join(', ')}`)
  return found
}

export function hasButton(root: Element, name: string): boolean {
  return Array.from(root.querySelectorAll('button')).some((b) => text(b) === name)
}

export function byLabel(root: Element, label: string): HTMLInputElement | HTMLTextAreaElement {
  const l = Array.from(root.querySelectorAll('label')).find((x) => text(x) === label)
  const id = l?.getAttribute('for')
  const input = id ? root.ownerDocument.getElementById(id) : null
  if (!input) throw new Error(`No input labelled "${label}"`)
  return input as HTMLInputElement
}

export async function click(el: Element): Promise<void> {
  await act(async () => {
    el.dispatchEvent(new window.MouseEvent('click', { bubbles: true, cancelable: true }))
  })
  await settle()
}

/** Types into a controlled input the way React notices: the native setter, then an input event. */
export async function typeInto(el: HTMLInputElement | HTMLTextAreaElement, value: string): Promise<void> {
  const proto = el instanceof window.HTMLTextAreaElement ? window.HTMLTextAreaElement.prototype : window.HTMLInputElement.prototype
  const setter = Object.getOwnPropertyDescriptor(proto, 'value')?.set
  await act(async () => {
    setter?.call(el, value)
    el.dispatchEvent(new window.Event('input', { bubbles: true }))
  })
}

export async function blur(el: HTMLElement): Promise<void> {
  await act(async () => {
    el.dispatchEvent(new window.FocusEvent('focusout', { bubbles: true }))
  })
  await settle()
}

export async function submit(el: HTMLElement): Promise<void> {
  const form = el.closest('form')
  if (!form) throw new Error('not inside a form')
  await act(async () => {
    form.dispatchEvent(new window.Event('submit', { bubbles: true, cancelable: true }))
  })
  await settle()
}

/** A drag-and-drop of files onto an element; jsdom has no DataTransfer, so the event carries a stand-in. */
export async function dropFiles(target: Element, files: File[]): Promise<void> {
  const dataTransfer = { files, items: [], types: ['Files'], dropEffect: 'none' }
  for (const type of ['dragenter', 'dragover', 'drop']) {
    const ev = new window.Event(type, { bubbles: true, cancelable: true })
    Object.defineProperty(ev, 'dataTransfer', { value: dataTransfer })
    await act(async () => {
      target.dispatchEvent(ev)
    })
  }
  await settle()
}
