/**
 * `swarmdrop` from the build this file was compiled into (bin/swarmdrop.js always loads ./dist):
 * the fleet benchmark runs `serve` and `publish` through it, so a run measures the code built
 * alongside the benchmark, whichever output folder that is.
 */
import { main } from '../electron/cli/main.js'

process.exitCode = await main(process.argv.slice(2))
