/**
 * The layer rules in eslint.config.js fire: each crossing import below is what `npm run lint`
 * must refuse, and each allowed one must pass. Linted as text under the path it would have, so
 * no file in the tree is touched.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

const eslint = new ESLint({ cwd: ROOT })

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\n`, { filePath })
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`)
}

async function refuses(filePath: string, code: string, rule: string, pattern: RegExp): Promise<void> {
  const found = await problems(filePath, code)
  assert.ok(
    found.some((p) => p.startsWith(`${rule}:`) && pattern.test(p)),
    `${filePath}: expected ${rule} matching ${pattern} for\n  ${code}\ngot: ${found.join('\n') || 'no problems'}`,
  )
}

async function allows(filePath: string, code: string): Promise<void> {
  const found = (await problems(filePath, code)).filter((p) => /^no-restricted-(imports|syntax|globals)/.test(p))
  assert.deepEqual(found, [], `${filePath}: ${code}`)
}

test('the engine imports neither electron, the CLI, the shell nor the renderer', async () => {
  const file = 'electron/engine/example.ts'
  await refuses(file, "import { app } from 'electron'\nvoid app", 'no-restricted-imports', /only electron\/shell\/ imports it/)
  await refuses(file, "import { main } from '../cli/main.js'\nvoid main", 'no-restricted-imports', /never imports the CLI/)
  await refuses(file, "import { AppTray } from '../shell/tray.js'\nvoid AppTray", 'no-restricted-imports', /never imports the Electron shell/)
  await refuses(file, "import { useStore } from '../../renderer/store.js'\nvoid useStore", 'no-restricted-imports', /never imports the renderer/)
  await allows(file, "import { formatBytes } from '../../shared/format.js'\nimport { readFile } from 'node:fs/promises'\nvoid formatBytes\nvoid readFile")
})

test('the CLI never imports electron or the shell; the shell never imports the CLI', async () => {
  await refuses('electron/cli/example.ts', "import { app } from 'electron'\nvoid app", 'no-restricted-imports', /The CLI must run without Electron/)
  await refuses('electron/cli/example.ts', "import { trayModel } from '../shell/tray-state.js'\nvoid trayModel", 'no-restricted-imports', /never imports the Electron shell/)
  await refuses('electron/shell/example.ts', "import { runServe } from '../cli/serve-command.js'\nvoid runServe", 'no-restricted-imports', /shell never imports the CLI/)
  await allows('electron/shell/example.ts', "import { app } from 'electron'\nimport { startInstance } from '../engine/instance.js'\nvoid app\nvoid startInstance")
})

test('the renderer never imports the engine, Node or electron', async () => {
  const file = 'renderer/components/Example.tsx'
  await refuses(file, "import { startEngine } from '../../electron/engine/engine.js'\nvoid startEngine", 'no-restricted-imports', /only through the contract/)
  await refuses(file, "import { readFile } from 'node:fs/promises'\nvoid readFile", 'no-restricted-imports', /Node built-ins/)
  await refuses(file, "import { ipcRenderer } from 'electron'\nvoid ipcRenderer", 'no-restricted-imports', /must run without Electron/)
  await allows(file, "import type { Snapshot } from '../../shared/contract.js'\nexport type S = Snapshot")
})

test('shared/ uses neither Node nor the DOM', async () => {
  await refuses('shared/example.ts', "import { createHash } from 'node:crypto'\nvoid createHash", 'no-restricted-imports', /Node built-ins/)
  await refuses('shared/example.ts', 'export const w = window.innerWidth', 'no-restricted-globals', /no DOM/)
  await refuses('shared/example.ts', 'export const b = Buffer.from("x")', 'no-restricted-globals', /no Node globals/)
  await refuses('shared/example.ts', "import { Engine } from '../electron/engine/engine.js'\nvoid Engine", 'no-restricted-imports', /imports none of them/)
})

test('untyped libraries only through their adapters', async () => {
  await refuses('electron/engine/engine.ts', "import WebTorrent from 'webtorrent'\nvoid WebTorrent", 'no-restricted-imports', /only in its adapter, electron\/engine\/seeder\.ts/)
  await refuses('electron/engine/seeder.ts', "import { Server } from 'bittorrent-tracker'\nvoid Server", 'no-restricted-imports', /electron\/engine\/tracker\.ts/)
  await refuses('test/integration/example.test.ts', "import peerid from 'bittorrent-peerid'\nvoid peerid", 'no-restricted-imports', /electron\/engine\/peer-client\.ts/)
  await refuses('electron/cli/example.ts', "import parseTorrent from 'parse-torrent'\nvoid parseTorrent", 'no-restricted-imports', /test\/support\/webtorrent-parser\.ts/)
  await allows('electron/engine/seeder.ts', "import WebTorrent from 'webtorrent'\nvoid WebTorrent")
  await allows('electron/engine/tracker.ts', "import { Server } from 'bittorrent-tracker'\nvoid Server")
  // The adapter keeps its layer's rules.
  await refuses('electron/engine/seeder.ts', "import { app } from 'electron'\nvoid app", 'no-restricted-imports', /only electron\/shell\/ imports it/)
})

test('raw ipcMain/ipcRenderer only in the IPC modules', async () => {
  await refuses('electron/shell/main.ts', "import { ipcMain } from 'electron'\nvoid ipcMain", 'no-restricted-syntax', /Raw ipcMain\/ipcRenderer/)
  await refuses('electron/shell/window.ts', "import electron from 'electron'\nvoid electron.ipcMain.handle", 'no-restricted-syntax', /Raw ipcMain\/ipcRenderer/)
  await allows('electron/shell/ipc-main.ts', "import { ipcMain } from 'electron'\nvoid ipcMain")
})
