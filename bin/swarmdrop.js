#!/usr/bin/env node
// Entry point installed as the package's `bin`: the CLI compiled to dist/ (built on first use).
import { ensureBuilt } from './ensure-built.js'

const entry = ensureBuilt(new URL('../dist/electron/cli/main.js', import.meta.url))
const { main } = await import(entry.href)
process.exitCode = await main(process.argv.slice(2))
