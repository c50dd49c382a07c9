/**
 * An error that escapes every handler is logged in one line with where it came from, the
 * instance is stopped (lock and ports freed) and the process exits 70 for a supervisor; a stop
 * that hangs cannot keep the broken process alive.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { EXIT_FATAL, handleFatalErrors } from '../../electron/engine/fatal.js'

test('an uncaught exception: one log line with context, a clean stop, then exit 70', async () => {
  const proc = new EventEmitter()
  const lines: string[] = []
  const events: string[] = []
  const exited = new Promise<number>((resolve) =>
    handleFatalErrors(proc, {
      stop: async () => void events.push('stopped'),
      log: (l) => lines.push(l),
      exit: (code) => {
        events.push('exit')
        resolve(code)
      },
    }),
  )
  proc.emit('uncaughtException', new TypeError("Cannot read properties of undefined (reading 'files')"))
  // A second error while stopping is logged, but does not start a second shutdown.
  proc.emit('unhandledRejection', new Error('late'))
  assert.equal(await exited, EXIT_FATAL)
  assert.deepEqual(events, ['stopped', 'exit'])
  assert.equal(lines.length, 2)
  assert.match(lines[0] ?? '', /^fatal: uncaught exception: TypeError: Cannot read properties of undefined \(reading 'files'\) \(at .*fatal\.test\.js:\d+:\d+\)\)$/)
  assert.match(lines[1] ?? '', /^fatal: unhandled rejection: Error: late/)
  assert.ok(lines.every((l) => !l.includes('\n')), 'one line each')
})

test('a stop that never finishes still ends in exit 70, after the timeout', async () => {
  const proc = new EventEmitter()
  const exited = new Promise<number>((resolve) => handleFatalErrors(proc, { stop: () => new Promise(() => {}), log: () => {}, exit: resolve, timeoutMs: 50 }))
  // The handler's own timer does not hold the process open (a real one has its servers for that).
  const keepAlive = setTimeout(() => {}, 5000)
  proc.emit('unhandledRejection', 'a string, not an Error')
  assert.equal(await exited, EXIT_FATAL)
  clearTimeout(keepAlive)
})

test('uninstalling removes both handlers', () => {
  const proc = new EventEmitter()
  const off = handleFatalErrors(proc, { stop: async () => {}, log: () => {}, exit: () => {} })
  assert.equal(proc.listenerCount('uncaughtException') + proc.listenerCount('unhandledRejection'), 2)
  off()
  assert.equal(proc.listenerCount('uncaughtException') + proc.listenerCount('unhandledRejection'), 0)
})
