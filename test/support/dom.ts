/**
 * A jsdom window as the global environment, for the renderer's component tests. Import it before
 * anything from React DOM: react-dom decides at load time whether it has a DOM.
 *
 * jsdom is loaded through require with a narrow local type so the Node-side tsconfig, which also
 * compiles this file, does not pull the DOM lib (via @types/jsdom) into the core's type checks.
 */
import { createRequire } from 'node:module'

interface JsdomWindow {
  [key: string]: unknown
}
interface JsdomModule {
  JSDOM: new (html: string, options: { url: string; pretendToBeVisual: boolean }) => { window: JsdomWindow }
}

const { JSDOM } = createRequire(import.meta.url)('jsdom') as JsdomModule
const dom = new JSDOM('<!doctype html><html data-theme="system"><body></body></html>', { url: 'http://127.0.0.1/', pretendToBeVisual: true })
const win = dom.window

const globals = globalThis as unknown as Record<string, unknown>
globals.window = win
for (const key of Object.getOwnPropertyNames(win)) {
  if (key in globals) continue
  Object.defineProperty(globals, key, { configurable: true, get: () => win[key] })
}
// Node 21+ has its own navigator; the DOM one is what React and the components expect.
Object.defineProperty(globals, 'navigator', { configurable: true, get: () => win.navigator })
// Tells React that act() is in use, so updates are flushed inside it and not warned about.
globals.IS_REACT_ACT_ENVIRONMENT = true

export const jsdomWindow = win
