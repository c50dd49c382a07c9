/**
 * The flag that npm start and the service unit pass to Node really gives bittorrent-protocol
 * OpenSSL's RC4: checked in a child Node started with it, through the library's own probe.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { NATIVE_RC4_NODE_FLAG, describeRc4, rc4IsNative } from '../../electron/engine/peer-encryption.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
// The library's own answer (`Wire.nativeRC4`), and ours, from one child.
const PROBE = `import('bittorrent-protocol').then(async (m) => { const ours = await import(${JSON.stringify(new URL('../../electron/engine/peer-encryption.js', import.meta.url).href)}); console.log(JSON.stringify({ library: m.default.nativeRC4, ours: ours.rc4IsNative() })) })`

function probe(flags: string[]): { library: boolean; ours: boolean } {
  const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', PROBE], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout.trim()) as { library: boolean; ours: boolean }
}

test('with the flag, bittorrent-protocol and our probe both find native RC4', () => {
  assert.deepEqual(probe([NATIVE_RC4_NODE_FLAG]), { library: true, ours: true })
})

test('without it, our probe agrees with the library, whatever this Node has', () => {
  const r = probe([])
  assert.equal(r.ours, r.library)
  assert.equal(rc4IsNative(), r.ours, 'the test runner was started without the flag too')
})

test("serve's banner line says which RC4 it has, and what to do about the slow one", () => {
  assert.match(describeRc4(true), /^OpenSSL's /)
  const slow = describeRc4(false)
  assert.match(slow, /^JavaScript/)
  assert.ok(slow.includes(NATIVE_RC4_NODE_FLAG), slow)
})
