/**
 * The Electron transport end to end, minus Electron: the compiled sandboxed preload talks to
 * electron/shell/ipc-transport.ts through test/support/electron-ipc.ts (a mock of Electron's IPC pipe only,
 * because the Electron binary cannot run on these machines).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import path from 'node:path'
import {
  COMMAND_NAMES,
  EVENT_NAMES,
  type CommandName,
  type CommandRequest,
  type CommandResponse,
  type CoreApi,
  type EventName,
  type Events,
} from '../../shared/contract.js'
import { SwarmdropError } from '../../shared/errors.js'
import type { SenderInfo } from '../../electron/shell/ipc-transport.js'
import { connectElectronIpc, loadPreload, MockElectronIpc, type PreloadApi } from '../support/electron-ipc.js'
import { APP_ENTRY_URL, CONTENT_SECURITY_POLICY, isAppUrl, isPermissionAllowed, resolveAppFile } from '../../electron/shell/app-origin.js'

/** A core that records what reached it and answers from a table: the transport is under test here, not the engine. */
class RecordingCore implements CoreApi {
  readonly calls: { command: CommandName; request: unknown }[] = []
  readonly emitter = new EventEmitter()
  answer: (command: CommandName, request: unknown) => unknown = (command, request) => ({ echo: command, request })

  async handle<K extends CommandName>(command: K, request: CommandRequest<K>): Promise<CommandResponse<K>> {
    this.calls.push({ command, request })
    return this.answer(command, request) as CommandResponse<K>
  }

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    this.emitter.on(event, listener)
    return () => this.emitter.off(event, listener)
  }

  emit<E extends EventName>(event: E, payload: Events[E]): void {
    this.emitter.emit(event, payload)
  }
}

async function setup(): Promise<{ ipc: MockElectronIpc; core: RecordingCore; api: PreloadApi; dispose: () => void; rejected: string[] }> {
  const core = new RecordingCore()
  const rejected: string[] = []
  const { api, ipc, dispose } = await connectElectronIpc(core, (_event, channel) => rejected.push(channel))
  return { ipc, core, api, dispose, rejected }
}

test('the preload requires only electron and exposes exactly call, on and getPathForFile', async () => {
  const ipc = new MockElectronIpc()
  const { exposed, required } = await loadPreload(ipc)
  assert.deepEqual(required, ['electron'])
  assert.deepEqual([...exposed.keys()], ['swarmdrop'])
  const api = exposed.get('swarmdrop') as Record<string, unknown>
  assert.deepEqual(Object.keys(api).sort(), ['call', 'getPathForFile', 'on'])
  assert.equal((api as { getPathForFile(f: unknown): string }).getPathForFile({ name: 'update.tar' }), '/home/admin/Downloads/update.tar')
})

test('every contract command crosses the bridge with its request intact and comes back as { ok: true, value }', async () => {
  const { core, api, ipc } = await setup()
  assert.equal(ipc.handlers.size, COMMAND_NAMES.length)
  const paths = ['/srv/updates/ünïcode dir/app-1.2.3.tar']
  const infoHash = 'ab'.repeat(20)
  const requests: { [K in CommandName]: CommandRequest<K> } = {
    'snapshot.get': {},
    'publish.preview': { paths },
    'publish.start': { paths, name: 'app 1.2.3', channel: 'stable', comment: 'ünïcode', private: true, webSeed: false, pieceLength: 262144 },
    'publish.cancel': { jobId: 'job-1' },
    'release.pause': { infoHash },
    'release.resume': { infoHash },
    'release.retire': { infoHash },
    'releases.pauseAll': {},
    'releases.resumeAll': {},
    'settings.update': { feedKey: null, uploadLimit: 1048576, utp: false },
    'settings.generateFeedKey': {},
    'fleet.get': {},
    'fleet.server': { ip: '10.0.0.11' },
    'fleet.roster.set': { servers: ['10.0.0.11', 'web-02.lan'] },
    'fleet.rename': { ip: '10.0.0.11', name: 'web-01' },
    'releases.retireOld': { channel: 'beta', keepLast: 3, olderThanDays: 30 },
  }
  for (const command of COMMAND_NAMES) {
    const request = requests[command]
    const result = await api.call(command, request as never)
    assert.deepEqual(result, { ok: true, value: { echo: command, request } }, command)
  }
  assert.deepEqual(
    core.calls.map((c) => c.command),
    [...COMMAND_NAMES],
  )
})

test('errors thrown by the core become { ok: false, error } values without stacks', async () => {
  const { core, api } = await setup()
  core.answer = (command) => {
    if (command === 'release.pause') throw new SwarmdropError('UNKNOWN_RELEASE', 'No release with info-hash abab…ab. It may have been retired; refresh the list.')
    throw new Error('socket hang up')
  }
  const known = await api.call('release.pause', { infoHash: 'ab'.repeat(20) })
  assert.deepEqual(known, { ok: false, error: { code: 'UNKNOWN_RELEASE', message: 'No release with info-hash abab…ab. It may have been retired; refresh the list.' } })
  const unknown = await api.call('snapshot.get', {})
  assert.equal(unknown.ok, false)
  assert.ok(!unknown.ok && unknown.error.code === 'INTERNAL' && unknown.error.message === 'Unexpected error: socket hang up')
  assert.doesNotMatch(JSON.stringify(unknown), /at .*\.js:\d+/)
})

test('the page cannot reach channels outside the contract, and non-object requests are refused', async () => {
  const { api, ipc, core } = await setup()
  const before = ipc.invokes
  const bogus = await api.call('shell.openExternal' as CommandName, {} as never)
  assert.deepEqual(bogus, { ok: false, error: { code: 'INVALID_ARGUMENT', message: 'Unknown command "shell.openExternal".' } })
  assert.equal(ipc.invokes, before, 'an unknown command never reaches IPC')
  const notObject = await api.call('publish.preview', '/etc/passwd' as never)
  assert.deepEqual(notObject, { ok: false, error: { code: 'INVALID_ARGUMENT', message: '"publish.preview" expects an object as its request, got the text "/etc/passwd".' } })
  // Malformed fields are refused by name before the core sees them.
  const badField = await api.call('release.pause', { infoHash: '../../etc' })
  assert.ok(!badField.ok && badField.error.code === 'INVALID_ARGUMENT' && /"infoHash" must be a release's info-hash/.test(badField.error.message), JSON.stringify(badField))
  const badPaths = await api.call('publish.start', { paths: ['/srv/a', 7] as never })
  assert.ok(!badPaths.ok && /"paths\[1\]" must be text, got number 7/.test(badPaths.error.message), JSON.stringify(badPaths))
  const extra = await api.call('snapshot.get', { evil: true } as never)
  assert.ok(!extra.ok && extra.error.message === '"snapshot.get" has no field "evil".', JSON.stringify(extra))
  assert.equal(core.calls.length, 0)
  assert.throws(() => api.on('window.open' as EventName, () => {}), /Unknown event/)
})

test('senders are validated: other windows, subframes and pages that navigated away are refused', async () => {
  const { api, ipc, core, rejected } = await setup()
  const cases: [string, SenderInfo][] = [
    ['another webContents', { sender: { id: 2 }, senderFrame: { url: APP_ENTRY_URL, parent: null } }],
    ['a subframe', { sender: { id: 1 }, senderFrame: { url: APP_ENTRY_URL, parent: {} } }],
    ['a remote page', { sender: { id: 1 }, senderFrame: { url: 'https://evil.example/index.html', parent: null } }],
    ['a file:// page', { sender: { id: 1 }, senderFrame: { url: 'file:///etc/passwd', parent: null } }],
    ['the scheme on another host', { sender: { id: 1 }, senderFrame: { url: 'swarmdrop://evil/index.html', parent: null } }],
    ['a destroyed frame', { sender: { id: 1 }, senderFrame: null }],
  ]
  for (const [label, sender] of cases) {
    ipc.sender = sender
    const result = await api.call('releases.pauseAll', {})
    assert.equal(result.ok, false, label)
    assert.ok(!result.ok && result.error.code === 'UNAUTHORIZED', label)
  }
  assert.equal(core.calls.length, 0, 'the core never saw a refused call')
  assert.equal(rejected.length, cases.length)
  ipc.sender = { sender: { id: 1 }, senderFrame: { url: 'swarmdrop://app/assets/index.js', parent: null } }
  assert.equal((await api.call('releases.pauseAll', {})).ok, true, 'the app page itself is accepted')
})

test('core events reach subscribers with the payload only; snapshots pause while hidden; unsubscribe and dispose stop them', async () => {
  const { api, ipc, core, dispose } = await setup()
  const received: { event: EventName; args: unknown[] }[] = []
  const unsubscribes = EVENT_NAMES.map((event) => api.on(event, (...args: unknown[]) => received.push({ event, args })))
  const release = { infoHash: 'cd'.repeat(20), name: 'app-1.2.3.tar' }
  const payloads: { [E in EventName]: unknown } = {
    snapshot: { at: 1, releases: [], swarms: [], peers: [] },
    'publish.progress': { jobId: 'j1', hashedBytes: 10, totalBytes: 100, rate: 5, etaSeconds: 18 },
    'publish.done': { jobId: 'j1', release },
    'publish.error': { jobId: 'j2', error: { code: 'PATH_UNREADABLE', message: 'Cannot read /srv/x.' } },
    'release.completedByServer': { infoHash: release.infoHash, name: release.name, ip: '10.0.0.11', hostname: 'web-01' },
    'fleet.changed': { version: 7, rows: [] },
    'release.rolloutComplete': { infoHash: release.infoHash, name: release.name, servers: 20, tookMs: 42_000 },
  }
  for (const event of EVENT_NAMES) core.emit(event, payloads[event] as never)
  assert.deepEqual(
    received,
    EVENT_NAMES.map((event) => ({ event, args: [payloads[event]] })),
  )

  received.length = 0
  ipc.visible = false
  core.emit('snapshot', payloads.snapshot as never)
  core.emit('publish.done', payloads['publish.done'] as never)
  assert.deepEqual(
    received.map((r) => r.event),
    ['publish.done'],
    'a hidden window gets no snapshots, but still hears about finished publishes',
  )

  received.length = 0
  ipc.visible = true
  for (const unsubscribe of unsubscribes) unsubscribe()
  core.emit('publish.done', payloads['publish.done'] as never)
  assert.equal(received.length, 0)
  assert.equal(ipc.renderer.eventNames().length, 0, 'no renderer listeners left behind')

  dispose()
  assert.equal(ipc.handlers.size, 0)
  for (const event of EVENT_NAMES) assert.equal(core.emitter.listenerCount(event), 0, event)
})

test('app origin: only swarmdrop://app/ is the app; paths cannot leave the dashboard folder', () => {
  const root = '/opt/swarmdrop/dist/dashboard'
  assert.equal(resolveAppFile(root, APP_ENTRY_URL), path.join(root, 'index.html'))
  assert.equal(resolveAppFile(root, 'swarmdrop://app/'), path.join(root, 'index.html'))
  assert.equal(resolveAppFile(root, 'swarmdrop://app/assets/index-abc.js?v=1#x'), path.join(root, 'assets/index-abc.js'))
  assert.equal(resolveAppFile(root, 'swarmdrop://app/fonts/n%C3%B6to.woff2'), path.join(root, 'fonts/nöto.woff2'))
  for (const hostile of [
    'swarmdrop://app/../../etc/passwd',
    'swarmdrop://app/%2e%2e/%2e%2e/etc/passwd',
    'swarmdrop://app/assets/..%2F..%2F..%2Fetc%2Fpasswd',
    'swarmdrop://app/..%5C..%5Cwindows',
    'swarmdrop://app/x%00.html',
    'swarmdrop://other/index.html',
    'file:///opt/swarmdrop/dist/dashboard/index.html',
    'http://127.0.0.1:8080/index.html',
    'not a url',
  ]) {
    const resolved = resolveAppFile(root, hostile)
    assert.ok(resolved === null || resolved.startsWith(root + path.sep), `${hostile} -> ${resolved}`)
  }
  // The URL parser folds (even percent-encoded) dot segments first, so these land inside root.
  assert.equal(resolveAppFile(root, 'swarmdrop://app/%2e%2e/%2e%2e/etc/passwd'), path.join(root, 'etc/passwd'))
  // Encoded slashes survive parsing; decoding them must not walk out of root.
  assert.equal(resolveAppFile(root, 'swarmdrop://app/assets/..%2F..%2F..%2Fetc%2Fpasswd'), null)
  assert.equal(resolveAppFile(root, 'swarmdrop://app/..%5C..%5Cwindows'), null)
  assert.equal(isAppUrl('swarmdrop://user:pw@app/index.html'), false)
  assert.equal(isAppUrl('https://app/index.html'), false)
})

test('CSP allows nothing remote, nothing inline and no eval; only clipboard writes are permitted', () => {
  const directives = new Map(CONTENT_SECURITY_POLICY.split(';').map((d) => {
    const [name, ...values] = d.trim().split(/\s+/)
    return [name ?? '', values]
  }))
  assert.deepEqual(directives.get('default-src'), ["'self'"])
  assert.deepEqual(directives.get('script-src'), ["'self'"])
  assert.deepEqual(directives.get('style-src'), ["'self'"])
  assert.deepEqual(directives.get('connect-src'), ["'self'"])
  assert.deepEqual(directives.get('object-src'), ["'none'"])
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /https?:|\*|unsafe-/)
  assert.equal(isPermissionAllowed('clipboard-sanitized-write', APP_ENTRY_URL), true)
  assert.equal(isPermissionAllowed('clipboard-sanitized-write', 'https://evil.example/'), false)
  for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read', 'fullscreen']) {
    assert.equal(isPermissionAllowed(permission, APP_ENTRY_URL), false, permission)
  }
})
