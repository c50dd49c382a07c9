/**
 * One command suite, three transports: directly against the engine, over the admin WebSocket, and
 * over the Electron IPC transport (the compiled sandboxed preload and ipc-main, joined by a mock of
 * Electron's IPC pipe, since the Electron binary cannot run here). All must give the same answers,
 * errors included, so no UI can see a different core.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import WebSocket from 'ws'
import type { HashProgress, ReleaseSummary, SwarmdropApi } from '../../shared/contract.js'
import { AdminServer } from '../../electron/engine/admin-server.js'
import { directApi } from '../support/direct-api.js'
import { connectWs, type WebSocketConstructor } from '../../shared/ws-client.js'
import { connectElectronIpc } from '../support/electron-ipc.js'
import { pseudoRandom } from '../support/fixtures.js'
import { startTestEngine } from '../support/engine.js'
import { tempDir } from '../support/temp.js'

interface SuiteResult {
  snapshotReleases: number
  preview: { name: string; fileCount: number; totalSize: number }
  progressSeen: boolean
  release: Omit<ReleaseSummary, 'createdAt' | 'torrentUrl' | 'magnet' | 'webSeedUrl'>
  paused: string
  resumed: string
  retired: string
  errors: string[]
  settingsRestart: string[]
}

async function ok<T>(p: Promise<{ ok: true; value: T } | { ok: false; error: { code: string; message: string } }>): Promise<T> {
  const r = await p
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`)
  return r.value
}

async function runSuite(api: SwarmdropApi, source: string): Promise<SuiteResult> {
  const before = await ok(api.call('snapshot.get', {}))
  const preview = await ok(api.call('publish.preview', { paths: [source] }))

  let progressSeen = false
  const offProgress = api.on('publish.progress', (p: HashProgress) => {
    if (p.totalBytes === preview.totalSize && p.hashedBytes > 0) progressSeen = true
  })
  const done = new Promise<ReleaseSummary>((resolve, reject) => {
    const offDone = api.on('publish.done', (e) => {
      offDone()
      resolve(e.release)
    })
    api.on('publish.error', (e) => reject(new Error(e.error.message)))
  })
  const { jobId } = await ok(api.call('publish.start', { paths: [source], comment: 'contract' }))
  assert.match(jobId, /.+/)
  const release = await done
  offProgress()

  const paused = await ok(api.call('release.pause', { infoHash: release.infoHash }))
  const resumed = await ok(api.call('release.resume', { infoHash: release.infoHash }))

  const errors: string[] = []
  for (const r of [
    await api.call('release.pause', { infoHash: '0'.repeat(40) }),
    await api.call('publish.preview', { paths: [path.join(source, 'does-not-exist')] }),
    await api.call('settings.update', { httpPort: -5 }),
  ]) {
    assert.equal(r.ok, false)
    if (!r.ok) {
      assert.doesNotMatch(r.error.message, /\n\s+at /, 'no stack traces across the contract')
      errors.push(r.error.code)
    }
  }
  const settings = await ok(api.call('settings.update', { announceIntervalSeconds: 45, peerPort: 6999, peerConnectionsPerAddress: 64 }))
  const retired = await ok(api.call('release.retire', { infoHash: release.infoHash }))
  const { createdAt: _c, torrentUrl: _t, magnet: _m, webSeedUrl: _w, ...stable } = release
  return {
    snapshotReleases: before.releases.length,
    preview: { name: preview.name, fileCount: preview.fileCount, totalSize: preview.totalSize },
    progressSeen,
    release: stable,
    paused: paused.state,
    resumed: resumed.state,
    retired: retired.state,
    errors,
    settingsRestart: [...settings.restartRequired].sort(),
  }
}

async function makeSource(dir: string): Promise<string> {
  const source = path.join(dir, 'src', 'update-7.1')
  await mkdir(path.join(source, 'bin'), { recursive: true })
  await writeFile(path.join(source, 'bin', 'agent'), pseudoRandom(3 * 1024 * 1024 + 1, 'agent'))
  await writeFile(path.join(source, 'README'), 'release notes\n')
  return source
}

test('the same command suite gives the same results directly, over the WebSocket and over Electron IPC', async () => {
  const results: SuiteResult[] = []
  for (const transport of ['direct', 'websocket', 'electron-ipc'] as const) {
    const { dir, cleanup } = await tempDir()
    const engine = await startTestEngine(path.join(dir, 'data'))
    let admin: AdminServer | null = null
    let close = (): void => undefined
    try {
      const source = await makeSource(dir)
      let api: SwarmdropApi = directApi(engine)
      if (transport === 'websocket') {
        admin = new AdminServer({ core: engine, token: 'contract-token-123' })
        await admin.listen()
        const ws = await connectWs(admin.baseUrl, 'contract-token-123', WebSocket as unknown as WebSocketConstructor)
        close = () => ws.close()
        api = ws
      } else if (transport === 'electron-ipc') {
        const ipc = await connectElectronIpc(engine)
        close = ipc.dispose
        api = ipc.api
      }
      results.push(await runSuite(api, source))
    } finally {
      close()
      await admin?.close()
      await engine.close()
      await cleanup()
    }
  }
  const [direct, ws, ipc] = results as [SuiteResult, SuiteResult, SuiteResult]
  assert.equal(direct.snapshotReleases, 0)
  assert.deepEqual(direct.preview, { name: 'update-7.1', fileCount: 2, totalSize: 3 * 1024 * 1024 + 1 + 14 })
  assert.equal(direct.progressSeen, true)
  assert.equal(direct.release.state, 'seeding')
  assert.equal(direct.release.private, true)
  assert.equal(direct.paused, 'paused')
  assert.equal(direct.resumed, 'seeding')
  assert.equal(direct.retired, 'retired')
  assert.deepEqual(direct.errors, ['UNKNOWN_RELEASE', 'PATH_NOT_FOUND', 'INVALID_ARGUMENT'])
  assert.deepEqual(direct.settingsRestart, ['peerPort'])
  assert.deepEqual(ws, direct)
  assert.deepEqual(ipc, direct)
})
