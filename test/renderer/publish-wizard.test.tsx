import { afterEach, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { button, byLabel, click, dropFiles, fakeBackend, fromCore, hasButton, mount, settle, submit, text, typeInto, type Mounted } from './mount.js'
import { PublishWizard } from '../../renderer/components/PublishWizard.js'
import { FakeSwarmdropApi, FEED_URL, makeRelease } from '../support/fake-api.js'
import type { PublishPreview, PublishRequest } from '../../shared/contract.js'
import type { TransferProgress } from '../../renderer/upload.js'

const PREVIEW: PublishPreview = {
  name: 'app-2.4.1',
  files: [
    { path: 'app-2.4.1/bin/app', length: 5 * 1024 * 1024 },
    { path: 'app-2.4.1/lib/libfoo.so', length: 3 * 1024 * 1024 },
    { path: 'app-2.4.1/README', length: 1024 },
    { path: 'app-2.4.1/empty.txt', length: 0 },
  ],
  fileCount: 4,
  totalSize: 8 * 1024 * 1024 + 1024,
  pieceLength: 64 * 1024,
  warnings: ['1 empty file is included as is.'],
}

let api: FakeSwarmdropApi
let view: Mounted | null = null

beforeEach(() => {
  api = new FakeSwarmdropApi()
  api.handle('publish.preview', () => PREVIEW)
  api.handle('publish.start', () => ({ jobId: 'job-1' }))
  api.handle('publish.cancel', () => ({ cancelled: true }))
})

afterEach(async () => {
  await view?.unmount()
  view = null
})

const step = (): string | null => view?.container.querySelector('.wizard')?.getAttribute('data-step') ?? null
const root = (): HTMLElement => {
  if (!view) throw new Error('not mounted')
  return view.container
}

async function reachOptions(): Promise<void> {
  view = await mount(<PublishWizard />, fakeBackend(api))
  await dropFiles(root().querySelector('[data-testid="drop-zone"]') as Element, [new File(['x'.repeat(10)], 'app-2.4.1')])
  await click(button(root(), 'Next: options'))
  assert.equal(step(), 'options')
}

describe('publish wizard', () => {
  test('the empty state is a keyboard-reachable drop button that teaches the workflow', async () => {
    view = await mount(<PublishWizard />, fakeBackend(api))
    assert.equal(step(), 'empty')
    const zone = root().querySelector('[data-testid="drop-zone"]')
    assert.ok(zone instanceof window.HTMLButtonElement, 'the drop zone is a <button>, so Enter/Space open the picker')
    assert.match(text(zone), /Drop an update here/)
    assert.match(text(root()), new RegExp(`subscribe each server's BitTorrent client .* to ${FEED_URL.replace(/[.]/g, '\\.')}`))
    assert.ok(hasButton(root(), 'Choose a folder…'))
  })

  test('a drop is staged with upload progress, then reviewed as a file tree with total size and warnings', async () => {
    let report: (p: TransferProgress) => void = () => {}
    let finish: (paths: string[]) => void = () => {}
    const staged: string[][] = []
    const backend = fakeBackend(api, {
      stage: (items, onProgress) => {
        staged.push(items.files.map((f) => f.relativePath))
        report = onProgress
        return new Promise((resolve) => (finish = resolve))
      },
    })
    view = await mount(<PublishWizard />, backend)
    const files = [new File(['a'.repeat(300)], 'one.bin'), new File(['b'.repeat(700)], 'two.bin')]
    await dropFiles(root().querySelector('[data-testid="drop-zone"]') as Element, files)
    assert.deepEqual(staged, [['one.bin', 'two.bin']])
    assert.equal(step(), 'staging')
    await fromCore(() => report({ loaded: 250, total: 1000 }))
    const bar = root().querySelector('[role="progressbar"]')
    assert.equal(bar?.getAttribute('aria-valuenow'), '25')
    assert.match(text(root()), /250 B of 1000 B/)

    await fromCore(() => finish(['/data/uploads/b1']))
    assert.deepEqual(api.callsOf('publish.preview'), [{ paths: ['/data/uploads/b1'] }])
    assert.equal(step(), 'review')
    assert.equal(text(root().querySelector('[data-testid="total-size"]') as Element), '8.00 MiB')
    assert.equal(text(root().querySelector('[data-testid="file-count"]') as Element), '4')
    assert.match(text(root().querySelector('.warnings') as Element), /1 empty file/)
    const tree = root().querySelector('[role="tree"]') as Element
    assert.match(text(tree), /app-2\.4\.1\/ 4 files · 8\.00 MiB/)
    // Top-level folder open, nested folders closed until asked for.
    assert.match(text(tree), /README/)
    assert.doesNotMatch(text(tree), /libfoo\.so/)
    await click(button(tree, /^▸ lib\/ 1 file/))
    assert.match(text(tree), /libfoo\.so 3\.00 MiB/)
  })

  test('options go into publish.start; hashing shows progress, rate and ETA; done shows the three links with copy buttons', async () => {
    await reachOptions()
    await typeInto(byLabel(root(), 'Name'), 'app-2.4.1-hotfix')
    await click(byLabel(root(), 'Private torrent'))
    await click(byLabel(root(), 'Web seed'))
    await typeInto(byLabel(root(), 'Comment'), 'fixes the login bug')
    await submit(button(root(), 'Publish'))
    const [request] = api.callsOf('publish.start') as PublishRequest[]
    assert.deepEqual(request, { paths: ['/data/uploads/b1/app-2.4.1'], name: 'app-2.4.1-hotfix', private: false, webSeed: false, comment: 'fixes the login bug' })
    assert.equal(step(), 'hashing')
    assert.match(text(root()), /Hashing app-2\.4\.1-hotfix/)

    const MiB = 1024 * 1024
    await fromCore(() => api.emit('publish.progress', { jobId: 'job-1', hashedBytes: 50 * MiB, totalBytes: 100 * MiB, rate: 10 * MiB, etaSeconds: 5 }))
    assert.equal(root().querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow'), '50')
    assert.equal(text(root().querySelector('[data-testid="hash-facts"]') as Element), '50.0 MiB of 100 MiB 10.0 MiB/s ETA 00:05')
    // Another job's progress is not ours.
    await fromCore(() => api.emit('publish.progress', { jobId: 'job-2', hashedBytes: 90 * MiB, totalBytes: 100 * MiB, rate: 1, etaSeconds: 1 }))
    assert.equal(root().querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow'), '50')

    const release = makeRelease(7, { name: 'app-2.4.1-hotfix' })
    await fromCore(() => api.emit('publish.done', { jobId: 'job-1', release }))
    assert.equal(step(), 'done')
    assert.match(text(root()), /Published app-2\.4\.1-hotfix/)
    const values = Array.from(root().querySelectorAll('.copy-field input')).map((i) => (i as HTMLInputElement).value)
    assert.deepEqual(values, [FEED_URL, release.torrentUrl, release.magnet])

    const copied: string[] = []
    Object.defineProperty(window.navigator, 'clipboard', { configurable: true, value: { writeText: async (t: string) => void copied.push(t) } })
    try {
      await click(button(root(), 'Copy Magnet link'))
      assert.deepEqual(copied, [release.magnet])
      assert.match(text(root()), /Copied/)
    } finally {
      Reflect.deleteProperty(window.navigator, 'clipboard')
    }
    await click(button(root(), 'Publish another'))
    assert.equal(step(), 'empty')
  })

  test('events that arrive before publish.start answers are not lost', async () => {
    api.handle('publish.start', () => {
      api.emit('publish.progress', { jobId: 'job-1', hashedBytes: 30, totalBytes: 100, rate: 10, etaSeconds: 7 })
      return { jobId: 'job-1' }
    })
    await reachOptions()
    await submit(button(root(), 'Publish'))
    assert.equal(root().querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow'), '30')
  })

  test('Cancel during hashing asks the core to cancel and returns to the options', async () => {
    await reachOptions()
    await submit(button(root(), 'Publish'))
    await click(button(root(), 'Cancel'))
    assert.deepEqual(api.callsOf('publish.cancel'), [{ jobId: 'job-1' }])
    assert.equal(step(), 'options')
    assert.match(text(root()), /Hashing cancelled\. Nothing was published\./)
  })

  test('a hashing error is a readable message with a way back, never a stack trace', async () => {
    await reachOptions()
    await submit(button(root(), 'Publish'))
    const message = 'app-2.4.1/bin/app changed while it was being hashed. Wait until the copy has finished, then publish again.'
    await fromCore(() => api.emit('publish.error', { jobId: 'job-1', error: { code: 'FILE_CHANGED', message } }))
    assert.equal(step(), 'error')
    const alert = root().querySelector('[role="alert"]') as Element
    assert.match(text(alert), /Publishing failed/)
    assert.ok(text(alert).includes(message))
    assert.doesNotMatch(text(alert), /\bat .*\.js:\d+/)
    await click(button(root(), 'Back to options'))
    assert.equal(step(), 'options')
  })

  test('"path on this machine" previews that path; a bad path shows the core\'s message', async () => {
    api.fail('publish.preview', { code: 'PATH_NOT_FOUND', message: '/srv/nope does not exist. Check the path and try again.' })
    view = await mount(<PublishWizard />, fakeBackend(api))
    await typeInto(byLabel(root(), 'Or publish a path on this machine'), '/srv/nope')
    await submit(button(root(), 'Review'))
    assert.deepEqual(api.callsOf('publish.preview'), [{ paths: ['/srv/nope'] }])
    assert.equal(step(), 'error')
    assert.match(text(root().querySelector('[role="alert"]') as Element), /Publishing failed \/srv\/nope does not exist\. Check the path and try again\. PATH_NOT_FOUND/)
    assert.ok(!hasButton(root(), 'Back to options'), 'nothing to go back to')
    await click(button(root(), 'Start over'))
    assert.equal(step(), 'empty')
  })

  test('Cancel during an upload aborts it and publishes nothing', async () => {
    let aborted = false
    view = await mount(
      <PublishWizard />,
      fakeBackend(api, {
        stage: (_items, _progress, signal) =>
          new Promise((_resolve, reject) => signal.addEventListener('abort', () => ((aborted = true), reject(new Error('aborted'))))),
      }),
    )
    await dropFiles(root().querySelector('[data-testid="drop-zone"]') as Element, [new File(['z'], 'z.bin')])
    await click(button(root(), 'Cancel'))
    await settle()
    assert.ok(aborted)
    assert.equal(step(), 'empty')
    assert.deepEqual(api.callsOf('publish.preview'), [])
  })
})
