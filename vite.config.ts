// Bundles the dashboard into dist/dashboard: the admin server serves it over HTTP and Electron
// loads it from disk, so asset URLs are relative (base './').
import { defineConfig } from 'vite'

export default defineConfig({
  root: 'renderer',
  base: './',
  build: {
    outDir: '../dist/dashboard',
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or eval: the admin server and Electron both send a strict CSP.
    modulePreload: { polyfill: false },
  },
})
