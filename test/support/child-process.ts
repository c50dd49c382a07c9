/** Real processes the tests start (clients, `swarmdrop serve`): output, exit, and a stop that always ends them. */
import type { ChildProcess } from 'node:child_process'

export interface Supervised {
  child: ChildProcess
  /** stdout and stderr so far, decoded as UTF-8 without splitting characters across chunks. */
  output(): string
  exited: Promise<number | null>
  /** SIGTERM, then SIGKILL if it is still running after the grace period; resolves with the exit code. */
  stop(): Promise<number | null>
  /** Resolves with the first match in the output; rejects if the process exits first or time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs: number, what: string): Promise<RegExpExecArray>
}

export function supervise(child: ChildProcess, graceMs = 8000): Supervised {
  let out = ''
  const listeners = new Set<() => void>()
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8')
    stream?.on('data', (d: string) => {
      out += d
      for (const l of listeners) l()
    })
  }
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const force = setTimeout(() => child.kill('SIGKILL'), graceMs)
      const code = await exited
      clearTimeout(force)
      return code
    },
    waitForOutput(pattern, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const done = (): void => {
          listeners.delete(check)
          clearTimeout(timer)
        }
        const check = (): void => {
          const m = pattern.exec(out)
          if (m) {
            done()
            resolve(m)
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`${what}: nothing matching ${pattern} after ${timeoutMs} ms. Output:\n${out}`))
        }, timeoutMs)
        listeners.add(check)
        void exited.then((code) => {
          if (!listeners.has(check)) return
          done()
          reject(new Error(`${what}: the process exited with ${code} first. Output:\n${out}`))
        })
        check()
      })
    },
  }
}
