import '../support/dom.js'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { electronPaths, tokenFromHash } from '../../renderer/backend.js'
import { takeToken } from '../../renderer/connect.js'
import { readFileList, topLevelNames } from '../../renderer/dropped-files.js'
import { button, click, fakeBackend, mount } from './mount.js'
import { PublishWizard } from '../../renderer/components/PublishWizard.js'
import { FakeSwarmdropApi } from '../support/fake-api.js'

const file = (name: string, webkitRelativePath = ''): File => {
  const f = new File(['x'], name)
  if (webkitRelativePath) Object.defineProperty(f, 'webkitRelativePath', { value: webkitRelativePath })
  return f
}

describe('transport glue', () => {
  test('the token comes from the URL fragment the admin server prints', () => {
    assert.equal(tokenFromHash('#token=abc-DEF_123'), 'abc-DEF_123')
    assert.equal(tokenFromHash('#token=a%2Bb'), 'a+b')
    assert.equal(tokenFromHash(''), null)
    assert.equal(tokenFromHash('#token='), null)
  })

  test('the token leaves the address bar as soon as it is read, and survives a reload of the tab only', () => {
    window.sessionStorage.clear()
    window.history.replaceState(null, '', '/index.html?view=releases#token=s3cret-Token_1')
    const before = window.history.length
    assert.equal(takeToken(window), 's3cret-Token_1')
    assert.equal(window.location.hash, '', 'the fragment is gone')
    assert.equal(window.location.href.includes('s3cret'), false)
    assert.equal(window.location.search, '?view=releases', 'the rest of the URL is kept')
    assert.equal(window.history.length, before, 'replaced, not pushed: no history entry holds it')
    // A reload of this tab has no fragment any more, and still signs in.
    assert.equal(takeToken(window), 's3cret-Token_1')
    window.sessionStorage.clear()
    assert.equal(takeToken(window), null)
  })

  test('Electron: dropped items are published by their real paths; a picked folder maps back to the folder', () => {
    const real = new Map<File, string>()
    const a = file('app')
    const b = file('notes.txt')
    real.set(a, '/home/ops/builds/app').set(b, '/home/ops/notes.txt')
    assert.deepEqual(electronPaths({ top: [a, b], files: [] }, (f) => real.get(f) ?? ''), ['/home/ops/builds/app', '/home/ops/notes.txt'])

    const inFolder = file('main.bin', 'app/bin/main.bin')
    const other = file('README', 'app/README')
    real.set(inFolder, '/home/ops/builds/app/bin/main.bin').set(other, '/home/ops/builds/app/README')
    assert.deepEqual(electronPaths(readFileList([inFolder, other]), (f) => real.get(f) ?? ''), ['/home/ops/builds/app'])
    assert.throws(() => electronPaths({ top: [], files: [] }, () => ''), /Nothing to publish/)
  })

  test('a browser drop of one folder is published as that folder, several items as the batch', () => {
    assert.deepEqual(topLevelNames(readFileList([file('a', 'app/a'), file('b', 'app/sub/b')]).files), ['app'])
    assert.deepEqual(topLevelNames(readFileList([file('a.bin'), file('b.bin')]).files), ['a.bin', 'b.bin'])
  })

  test('the drop zone is a button that opens the file picker', async () => {
    const view = await mount(<PublishWizard />, fakeBackend(new FakeSwarmdropApi()))
    try {
      const picker = view.container.querySelector('input[type="file"][multiple]') as HTMLInputElement
      let opened = 0
      picker.addEventListener('click', () => opened++)
      await click(button(view.container, /Drop an update here/))
      assert.equal(opened, 1)
      const folderPicker = view.container.querySelector('input[type="file"][webkitdirectory]')
      assert.ok(folderPicker, 'a second picker chooses whole folders')
    } finally {
      await view.unmount()
    }
  })
})
