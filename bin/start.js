#!/usr/bin/env node
// What `npm start` runs after building: the desktop app when the Electron binary is here, else
// the headless `swarmdrop serve` with its web dashboard, said in one line. Extra arguments go to
// either (`npm start -- --data-dir DIR --http-port N`). SIGINT/SIGTERM are forwarded so Ctrl-C
// and `kill` stop seeding cleanly instead of orphaning the child.
import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import { fileURLToPath } from 'node:url'
import { ensureBuilt } from './ensure-built.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const locator = ensureBuilt(new URL('../dist/electron/cli/electron-binary.js', import.meta.url))
const { locateElectronBinary } = await import(locator.href)

const args = process.argv.slice(2)
const binary = locateElectronBinary()
let command
let commandArgs
if (binary.ok) {
  command = binary.path
  commandArgs = [root, ...args]
} else {
  process.stderr.write(
    `swarmdrop: the Electron binary is not available on this machine (${binary.reason}); starting the headless server with its web dashboard instead.\n`,
  )
  command = process.execPath
  // OpenSSL's RC4 for peers that encrypt their wires: bittorrent-protocol's JavaScript fallback
  // costs the engine 1.5 times the CPU on them. The flag is the one the service unit passes.
  const { NATIVE_RC4_NODE_FLAG } = await import(new URL('../dist/electron/engine/peer-encryption.js', import.meta.url).href)
  commandArgs = [NATIVE_RC4_NODE_FLAG, fileURLToPath(new URL('./swarmdrop.js', import.meta.url)), 'serve', ...args]
}

const env = { ...process.env }
// Inherited from a parent Electron tool, this would turn the app into a plain Node process.
delete env.ELECTRON_RUN_AS_NODE
// Its own process group: a terminal's Ctrl-C then reaches the child once, through us, rather
// than twice (directly from the terminal and forwarded by us), which a server may read as "force".
// A detached child outlives a launcher that is killed outright (kill -9, a closed terminal tab):
// it gets a stdin pipe from us instead, and serve stops when that pipe closes.
env.SWARMDROP_STOP_WITH_LAUNCHER = '1'
const child = spawn(command, commandArgs, { cwd: root, env, stdio: ['pipe', 'inherit', 'inherit'], detached: true })

// npm forwards a terminal's SIGINT to us while the terminal sends it too: pass on one per burst.
let lastForwarded = { signal: '', at: 0 }
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    const now = Date.now()
    if (lastForwarded.signal === signal && now - lastForwarded.at < 500) return
    lastForwarded = { signal, at: now }
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
  })
}
child.on('error', (err) => {
  process.stderr.write(`swarmdrop: could not start ${command}: ${err.message}\n`)
  process.exit(1)
})
child.on('exit', (code, signal) => {
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0))
})
