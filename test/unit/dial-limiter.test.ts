import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DialLimiter } from '../../electron/engine/dial-limiter.js'

const A = 'aa'.repeat(20)
const B = 'bb'.repeat(20)

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: (ms) => (t += ms) }
}

test('one dial per peer per window; the next announce after the window dials again', () => {
  const c = clock()
  const limiter = new DialLimiter(20_000, 1000, c.now)
  const dialled: string[] = []
  const dial = (what: string) => () => (dialled.push(what), true)
  assert.equal(limiter.attempt(A, '10.0.0.5', 6881, dial('first')), true)
  for (let i = 0; i < 50; i++) assert.equal(limiter.attempt(A, '10.0.0.5', 6881, dial('burst')), false)
  c.advance(19_999)
  assert.equal(limiter.attempt(A, '10.0.0.5', 6881, dial('too soon')), false)
  c.advance(1)
  assert.equal(limiter.attempt(A, '10.0.0.5', 6881, dial('after the window')), true)
  assert.deepEqual(dialled, ['first', 'after the window'])
})

test('peers are limited separately: another port, another host, another release', () => {
  const c = clock()
  const limiter = new DialLimiter(20_000, 1000, c.now)
  let dials = 0
  const dial = () => (dials++, true)
  assert.equal(limiter.attempt(A, '10.0.0.5', 6881, dial), true)
  assert.equal(limiter.attempt(A, '10.0.0.5', 6882, dial), true, 'a second client on the same host')
  assert.equal(limiter.attempt(A, '10.0.0.6', 6881, dial), true)
  assert.equal(limiter.attempt(B, '10.0.0.5', 6881, dial), true, 'the same server downloading another release')
  assert.equal(dials, 4)
})

test('a dial that did not go out (already connected, release not ready) does not use up the window', () => {
  const c = clock()
  const limiter = new DialLimiter(20_000, 1000, c.now)
  let ready = false
  let dials = 0
  const dial = () => (ready ? (dials++, true) : false)
  assert.equal(limiter.attempt(A, '10.0.0.5', 6881, dial), false)
  ready = true
  c.advance(1000)
  assert.equal(limiter.attempt(A, '10.0.0.5', 6881, dial), true, 'the next announce dials at once')
  assert.equal(dials, 1)
})

test('the table stays bounded: expired entries go, and at most max are kept', () => {
  const c = clock()
  const limiter = new DialLimiter(20_000, 100, c.now)
  for (let i = 0; i < 1000; i++) limiter.attempt(A, `10.0.${i >> 8}.${i & 255}`, 6881, () => true)
  assert.equal(limiter.size, 100)
  // The oldest were dropped to stay within the bound, so they may be dialled again.
  assert.equal(limiter.attempt(A, '10.0.0.0', 6881, () => true), true)
  c.advance(20_000)
  limiter.attempt(B, '10.9.9.9', 6881, () => true)
  assert.equal(limiter.size, 1, 'every entry past its window is forgotten')
})
