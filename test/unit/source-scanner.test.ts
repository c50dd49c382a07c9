/**
 * Symlinks in a folder being published: followed while they stay inside it, refused with an
 * error naming the link and its target when they leave it (a security-minded default: servers
 * must never receive /etc/passwd because someone left a link in an update folder).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { scanSource, sortByPathBytes } from '../../electron/engine/source-scanner.js'
import { SwarmdropError } from '../../shared/errors.js'
import { tempDir } from '../support/temp.js'

test('links that leave the folder are refused by name; links inside it are followed', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const outside = path.join(dir, 'outside')
  await mkdir(path.join(outside, 'secrets'), { recursive: true })
  await writeFile(path.join(outside, 'secrets', 'key'), 'private')
  const release = path.join(dir, 'release')
  await mkdir(path.join(release, 'bin'), { recursive: true })
  await writeFile(path.join(release, 'bin', 'tool'), 'tool v2')

  // Inside: a link to a file and a link to a folder of the release itself.
  await symlink('bin/tool', path.join(release, 'tool-latest'))
  await symlink('bin', path.join(release, 'bin-current'))
  const ok = await scanSource(release)
  assert.deepEqual(ok.files.map((f) => f.path.join('/')), ['bin-current/tool', 'bin/tool', 'tool-latest'])
  assert.ok(ok.files.every((f) => Number.isInteger(f.ino) && f.ino > 0), 'each file carries its inode')

  for (const [name, target] of [
    ['pw', '/etc/passwd'],
    ['od', outside],
    ['sneaky', '../outside/secrets/key'],
  ] as const) {
    const link = path.join(release, name)
    await symlink(target, link)
    await assert.rejects(scanSource(release), (err: unknown) => {
      assert.ok(err instanceof SwarmdropError)
      assert.equal(err.code, 'LINK_OUTSIDE_RELEASE')
      const resolved = target.startsWith('/') ? target : path.resolve(release, target)
      assert.ok(err.message.startsWith(`${link} is a symlink to ${resolved}, outside the folder being published.`), err.message)
      assert.match(err.message, /Remove the link, or copy what it points to into the folder\.$/)
      return true
    })
    await rm(link)
  }

  // The path the user gave may itself be a link: publishing it is their explicit choice.
  await symlink(release, path.join(dir, 'release-link'))
  assert.equal((await scanSource(path.join(dir, 'release-link'))).files.length, 3)
})

test('the walk finds files already in byte order of their full path, and hands them over in that order', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.after(cleanup)
  const root = path.join(dir, 'release')
  // Names where a folder's "/" decides the order ("a-b" < "a.txt" < "a/…" < "ab"), a symlinked
  // folder (sorted as a folder), and characters where UTF-16 and UTF-8 orders differ.
  const files = ['a-b', 'a.txt', 'a/x', 'a/y/z', 'a/y-', 'ab', 'b/\u{1F4E6}.txt', 'b/\uFF21.txt', 'b/é.txt', 'b/Z', 'c d/e', 'c/e', 'c.d/e', 'lib/z.so', 'lib.d/a']
  for (const f of files) {
    await mkdir(path.dirname(path.join(root, f)), { recursive: true })
    await writeFile(path.join(root, f), f)
  }
  await symlink('lib', path.join(root, 'lib-link'))
  await writeFile(path.join(root, 'lib-'), 'x')
  const handed: string[] = []
  const source = await scanSource(root, (found) => handed.push(...found.map((f) => f.path.join('/'))))
  const walked = source.files.map((f) => f.path.join('/'))
  assert.deepEqual(walked, sortByPathBytes(source.files).map((f) => f.path.join('/')))
  assert.deepEqual(handed, walked, 'every file is handed over once, in order')
  assert.equal(walked.length, files.length + 2)
  assert.ok(walked.indexOf('lib-') < walked.indexOf('lib-link/z.so') && walked.indexOf('lib-link/z.so') < walked.indexOf('lib.d/a'))
})
