/**
 * Node module-resolution hook: `electron` resolves to the MOCK in mock-electron.ts, so the real
 * main process can start under plain Node. Registered by mock-electron-register.ts (--import).
 */
interface ResolveContext {
  parentURL?: string
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>

const MOCK_URL = new URL('./mock-electron.js', import.meta.url).href

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string; shortCircuit?: boolean }> {
  if (specifier === 'electron') return { url: MOCK_URL, shortCircuit: true }
  return next(specifier, context)
}
