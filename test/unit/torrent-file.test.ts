/**
 * The info dictionary's "files" list is encoded by a direct path, not the generic encoder: it
 * must give the generic encoder's bytes exactly, or every info-hash would change.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bencode, bdecode, type BValue } from '../../electron/engine/bencode.js'
import { createHash } from 'node:crypto'
import { encodeFileList, encodeInfo, infoHashOf, type InfoFile } from '../../electron/engine/torrent-file.js'

const files: InfoFile[] = [
  { path: ['a.txt'], length: 0 },
  { path: ['bin', 'tool'], length: 1 },
  { path: ['docs', 'naïve résumé.pdf'], length: 2 ** 40 + 7 },
  { path: ['日本語', '𝄞 music', 'track'], length: 4096 },
  { path: ['\uE000 private use', 'x'], length: 12 },
  { path: ['1:2', 'e', 'i3e', 'd', 'l'], length: 99 },
]

test('the direct "files" encoding is byte for byte the generic one', () => {
  const generic = bencode(files.map((f) => ({ length: f.length, path: f.path })) as BValue)
  assert.deepEqual(encodeFileList(files), generic)
  // And it decodes back to what went in.
  const decoded = bdecode(encodeFileList(files)).value as unknown as { length: bigint; path: Buffer[] }[]
  assert.deepEqual(decoded.map((f) => ({ length: Number(f.length), path: f.path.map((p) => p.toString('utf8')) })), files)
})

test('encodeInfo with a files list is the generic encoding of the whole dictionary', () => {
  const pieces = Buffer.alloc(40, 7)
  const info = encodeInfo({ name: 'release', files, length: 0, pieceLength: 16384, pieces, private: true })
  const generic = bencode({ name: 'release', 'piece length': 16384, pieces, files: files.map((f) => ({ length: f.length, path: f.path })), private: 1 })
  assert.deepEqual(info, generic)
})

test('a length that is not a whole number is refused', () => {
  assert.throws(() => encodeFileList([{ path: ['x'], length: 1.5 }]), TypeError)
})

test('the info-hash is node:crypto\'s SHA-1, whichever kernel computes it', () => {
  // Lengths around SHA-1's 64-byte blocks and its 55-byte padding limit, and a large file list.
  for (const length of [1, 55, 56, 63, 64, 65, 119, 1000, 700_000]) {
    const info = Buffer.alloc(length)
    for (let i = 0; i < length; i++) info[i] = (i * 131 + length) & 0xff
    assert.equal(infoHashOf(info), createHash('sha1').update(info).digest('hex'), `${length} bytes`)
  }
  assert.equal(infoHashOf(Buffer.alloc(0)), createHash('sha1').digest('hex'))
})
