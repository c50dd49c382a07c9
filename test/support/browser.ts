/**
 * Debian's Chromium driven by playwright-core (Playwright's own browser downloads cannot reach
 * GitHub from here). Headless, with a fresh profile, and with Chromium's background traffic
 * (updates, sync, field trials) switched off so it talks only to the loopback pages we open.
 */
import { chromium, type BrowserContext } from 'playwright-core'
import { tempDir } from './temp.js'
import { toolPath } from './tools.js'

export const CHROMIUM = '/usr/bin/chromium'

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-features=Translate,OptimizationHints,MediaRouter',
]

export interface Chromium {
  context: BrowserContext
  close(): Promise<void>
}

export async function launchChromium(options: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {}): Promise<Chromium> {
  toolPath('chromium')
  const profile = await tempDir('swarmdrop-chromium-')
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(profile.dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: options.viewport ?? { width: 1280, height: 860 },
      colorScheme: options.colorScheme ?? 'light',
      timeout: 30_000,
    })
  } catch (err) {
    await profile.cleanup()
    throw err
  }
  return {
    context,
    close: async () => {
      await context.close().catch(() => {})
      await profile.cleanup()
    },
  }
}
