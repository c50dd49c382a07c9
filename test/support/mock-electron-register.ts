/** `node --import <this>`: swaps `electron` for the MOCK in mock-electron.ts (see mock-electron-hooks.ts). */
import { register } from 'node:module'

register(new URL('./mock-electron-hooks.js', import.meta.url))
