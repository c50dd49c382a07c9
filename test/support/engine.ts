/** Starting a real engine on free loopback ports, and publishing through its CoreApi. */
import type { ReleaseSummary } from '../../shared/contract.js'
import type { ErrorInfo } from '../../shared/errors.js'
import { startEngine, type Engine, type EngineOptions } from '../../electron/engine/engine.js'
import { noResolver } from '../../electron/engine/fleet-tracker.js'
import type { Settings } from '../../shared/contract.js'
import { freePorts } from './ports.js'

export async function startTestEngine(dataDir: string, settings: Partial<Settings> = {}, options: Pick<EngineOptions, 'watch' | 'log' | 'now' | 'stallAfterMs'> = {}): Promise<Engine> {
  const [httpPort, peerPort] = await freePorts(2)
  return startEngine({
    dataDir,
    bindHost: '127.0.0.1',
    overrides: { address: '127.0.0.1', httpPort, peerPort, announceIntervalSeconds: 5, ...settings },
    // Tests never ask a real DNS server anything.
    resolver: noResolver,
    ...options,
  })
}

/** publish.start, then wait for publish.done (or fail with publish.error). */
export async function publish(engine: Engine, paths: string[], extra: { name?: string; webSeed?: boolean } = {}): Promise<ReleaseSummary> {
  const done = new Promise<ReleaseSummary>((resolve, reject) => {
    let jobId: string | null = null
    const early: { id: string; result: ReleaseSummary | ErrorInfo; ok: boolean }[] = []
    const settle = (id: string, ok: boolean, result: ReleaseSummary | ErrorInfo): void => {
      if (jobId === null) return void early.push({ id, ok, result })
      if (id !== jobId) return
      offDone()
      offError()
      if (ok) resolve(result as ReleaseSummary)
      else reject(new Error(`publish failed: ${(result as ErrorInfo).code}: ${(result as ErrorInfo).message}`))
    }
    const offDone = engine.on('publish.done', (e) => settle(e.jobId, true, e.release))
    const offError = engine.on('publish.error', (e) => settle(e.jobId, false, e.error))
    engine
      .handle('publish.start', { paths, ...extra })
      .then(({ jobId: id }) => {
        jobId = id
        for (const e of early) settle(e.id, e.ok, e.result)
      })
      .catch(reject)
  })
  return done
}

/** Polls `check` every 100 ms until it returns true, or throws `what` after `ms`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}
