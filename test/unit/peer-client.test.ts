/** Client names and versions from the peer ids the fleet's clients really send. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { peerClient, peerIdPrefix } from '../../electron/engine/peer-client.js'

const id = (prefix: string): string => Buffer.concat([Buffer.from(prefix, 'latin1'), Buffer.alloc(20 - prefix.length, 0x41)]).toString('hex')

test('every client of the fleet decodes to a name and a version', () => {
  assert.deepEqual(peerClient(id('-qB4520-')), { client: 'qBittorrent', version: '4.5.2' })
  assert.deepEqual(peerClient(id('-TR3000-')), { client: 'Transmission', version: '3.00' })
  assert.deepEqual(peerClient(id('A2-1-36-0-')), { client: 'aria2', version: '1.36.0' })
  assert.deepEqual(peerClient(id('-DE2110-')), { client: 'Deluge', version: '2.1.1' })
  // rTorrent 0.9.8 runs libtorrent 0.13.8; its peer id carries the library's version in base 36.
  assert.deepEqual(peerClient(id('-lt0D80-')), { client: 'libtorrent (rTorrent)', version: '0.13.8' })
  assert.deepEqual(peerClient(id('-LT1220-')), { client: 'libtorrent (Rasterbar)', version: '1.2.2' })
  assert.deepEqual(peerClient(id('-UT355S-')), { client: 'µTorrent', version: '3.5.5' }, 'no trailing space')
  assert.deepEqual(peerClient(id('-SD0100-')), { client: 'Swarmdrop', version: '0.1.0' })
})

test('unknown, empty and raw (non-hex) peer ids', () => {
  assert.deepEqual(peerClient(null), { client: 'unknown', version: null })
  assert.deepEqual(peerClient(''), { client: 'unknown', version: null })
  assert.deepEqual(peerClient('-TR3000-abcdefghijkl'), { client: 'Transmission', version: '3.00' })
  assert.equal(peerIdPrefix(id('-lt0D80-')), '-lt0D80-')
})

test('a peer id decoded again gives the same answer, and a caller\'s change to it stays its own', () => {
  const id = Buffer.from('-qB4520-abcdefghijkl').toString('hex')
  const first = peerClient(id)
  first.version = 'changed'
  assert.deepEqual(peerClient(id), { client: 'qBittorrent', version: '4.5.2' })
})
