/**
 * Preloaded into the `swarmdrop serve` that the memory benchmark measures (`node --import`): on
 * SIGUSR2 it writes where the process's memory is to SWARMDROP_MEMORY_PROBE, as JSON. RSS alone
 * cannot say whether memory sits in V8's heap (JS objects), in Buffers (external/arrayBuffers)
 * or outside both (malloc arenas, code, thread stacks), and each has a different fix.
 *
 * The figures are taken once as they are, then again after a full GC when the process runs with
 * --expose-gc: the gap is garbage V8 had not collected yet, which RSS counts too.
 */
import { renameSync, writeFileSync } from 'node:fs'
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'

export interface MemoryProbe {
  before: NodeJS.MemoryUsage
  afterGc: NodeJS.MemoryUsage | null
  /** V8 heap spaces after the GC, in bytes used. */
  spaces: Record<string, number>
  snapshot: string | null
}

const out = process.env.SWARMDROP_MEMORY_PROBE
if (out) {
  let taken = 0
  process.on('SIGUSR2', () => {
    const before = process.memoryUsage()
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    const afterGc = gc ? process.memoryUsage() : null
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]))
    // Heap snapshots are for a person profiling by hand; they pause the process for seconds.
    const snapshot = process.env.SWARMDROP_MEMORY_SNAPSHOTS ? writeHeapSnapshot(`${out}.${++taken}.heapsnapshot`) : null
    const probe: MemoryProbe = { before, afterGc, spaces, snapshot }
    writeFileSync(`${out}.tmp`, JSON.stringify(probe))
    renameSync(`${out}.tmp`, out)
  })
}
