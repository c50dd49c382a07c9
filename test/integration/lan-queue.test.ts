/**
 * How the test LAN's capped hosts queue what they send (test/support/netns.ts). The fleet
 * benchmark's times depend on it: with one FIFO a host's ACKs for its download wait behind its own
 * upload, 100 ms deep. Measured on real namespaces: while s1 uploads to the origin as fast as its
 * link takes, how long s1 waits for a new TCP connection to the origin (its SYN is a small packet).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { supervise } from '../support/child-process.js'
import { createLan, type HostQueue } from '../support/netns.js'
import { runProcess } from '../support/run-cli.js'

const ORIGIN = '10.77.0.1'
/** A sink for the upload on 9000; 9001 only accepts connections. */
const SINK = `const net = require('node:net')
net.createServer((s) => s.resume()).listen(9000, '${ORIGIN}', () =>
  net.createServer((s) => s.destroy()).listen(9001, '${ORIGIN}', () => console.log('ready')))`
/** Fills s1's link for 1.5 s (four connections, as a client uploads to several peers), then times seven connects to 9001 and prints the median in ms. */
const UPLOAD_AND_CONNECT = `const net = require('node:net')
const chunk = Buffer.alloc(65536)
for (let i = 0; i < 4; i++) {
  const bulk = net.connect(9000, '${ORIGIN}')
  const pump = () => { while (bulk.write(chunk)) {} }
  bulk.on('connect', pump)
  bulk.on('drain', pump)
}
setTimeout(async () => {
  const ms = []
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now()
    await new Promise((resolve, reject) => { const c = net.connect(9001, '${ORIGIN}', () => { c.destroy(); resolve() }); c.on('error', reject) })
    ms.push(performance.now() - t0)
  }
  ms.sort((a, b) => a - b)
  console.log(JSON.stringify({ medianMs: ms[3] }))
  process.exit(0)
}, 1500)`

async function connectWhileUploading(hostQueue: HostQueue): Promise<number> {
  const lan = createLan(
    [
      ['origin', '20mbit'],
      ['s1', '20mbit'],
    ],
    { hostQueue },
  )
  try {
    const [sc, sa] = lan.inHost('origin', process.execPath, ['-e', SINK])
    const sink = supervise(spawn(sc, sa, { stdio: ['ignore', 'pipe', 'pipe'] }), 1000)
    try {
      await sink.waitForOutput(/ready/, 10_000, 'the sink in the origin namespace')
      const [cmd, args] = lan.inHost('s1', process.execPath, ['-e', UPLOAD_AND_CONNECT])
      const r = await runProcess(cmd, args)
      assert.equal(r.code, 0, r.stderr)
      return (JSON.parse(r.stdout) as { medianMs: number }).medianMs
    } finally {
      await sink.stop()
    }
  } finally {
    lan.destroy()
  }
}

test('a host that sends small packets first connects at once while its upload is full; with one FIFO it waits behind its queue', { timeout: 60_000 }, async (t) => {
  const smallFirst = await connectWhileUploading('small-first')
  const fifo = await connectWhileUploading('fifo')
  t.diagnostic(`median connect while uploading: small-first ${smallFirst.toFixed(1)} ms, fifo ${fifo.toFixed(1)} ms`)
  // The SYN may still wait for the segment on the wire: tbf keeps GSO segments of up to its
  // 32 KB burst whole, 13 ms at 20 Mbit/s (13-18 ms measured).
  assert.ok(smallFirst < 45, `small-first: ${smallFirst.toFixed(1)} ms to connect`)
  // tbf's queue holds 100 ms of the link (latency 100ms) plus its burst, and TCP keeps it
  // mostly full: 92-144 ms measured, 6-8 times small-first.
  assert.ok(fifo > 60 && fifo > 3 * smallFirst, `fifo: ${fifo.toFixed(1)} ms to connect, small-first ${smallFirst.toFixed(1)} ms`)
})
