/**
 * Ends HTTP responses together, once the event loop has read every request that was ready.
 *
 * Each response written to a peer whose process is asleep wakes it, and on a virtual machine a
 * wake-up of an idle CPU is an inter-processor interrupt and a trap to the hypervisor. Answering
 * each announce the moment it is parsed paid that on nearly every reply: the client had gone back
 * to sleep during the ~30 µs we spent on the next request. Ending the turn's replies back to back
 * pays it about once per turn. Measured on an Intel Xeon VM, 2 cores, wrk with 50 connections and
 * 5,000 peers: 19,500 announces/s answered at once, 29,700/s batched; a quarter of the tracker's
 * CPU was that one wake-up (`_raw_spin_unlock_irqrestore` under `sock_def_readable`). A reply
 * waits at most for the rest of the turn's reads, well under a millisecond.
 */
import type { ServerResponse } from 'node:http'

const pending: { res: ServerResponse; body: Buffer }[] = []

export function endBatched(res: ServerResponse, body: Buffer): void {
  if (pending.push({ res, body }) === 1) setImmediate(flush)
}

function flush(): void {
  for (const { res, body } of pending.splice(0)) {
    // The client may have hung up while its reply waited.
    if (res.destroyed || res.writableEnded) continue
    try {
      res.end(body)
    } catch (err) {
      res.destroy(err as Error)
    }
  }
}
