import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { formatElapsed } from '../../shared/format.js'
import {
  CompletionBatcher,
  publishErrorNotification,
  rolloutCompleteNotification,
  serversCompletedNotification,
  type NotificationContent,
  type ServerCompletion,
} from '../../electron/shell/notification-rules.js'

const APP = 'a1'.repeat(20)
const DB = 'b2'.repeat(20)
const done = (infoHash: string, name: string, ip: string, hostname: string | null = null): ServerCompletion => ({ infoHash, name, ip, hostname })

test('publish errors notify with the core message; a cancel by the user does not', () => {
  assert.deepEqual(publishErrorNotification({ jobId: 'j', error: { code: 'PATH_UNREADABLE', message: 'Cannot read /srv/u/app.tar: permission denied.' } }), {
    title: 'Publish failed',
    body: 'Cannot read /srv/u/app.tar: permission denied.',
    urgent: true,
  })
  assert.equal(publishErrorNotification({ jobId: 'j', error: { code: 'CANCELLED', message: 'Cancelled.' } }), null)
})

test('server completions: host names when known, IPs otherwise, a count for a crowd', () => {
  assert.deepEqual(serversCompletedNotification([done(APP, 'app-1.2.3.tar', '10.0.0.11', 'web-01')]), {
    title: 'app-1.2.3.tar reached a server',
    body: 'web-01 has the complete release.',
    urgent: false,
  })
  assert.equal(serversCompletedNotification([done(APP, 'app', '10.0.0.11'), done(APP, 'app', '10.0.0.12', 'db-02')])?.body, '10.0.0.11, db-02 have the complete release.')
  const crowd = Array.from({ length: 40 }, (_, i) => done(APP, 'app', `10.0.1.${i}`))
  assert.deepEqual(serversCompletedNotification(crowd), { title: 'app reached 40 servers', body: '40 servers have the complete release.', urgent: false })
  assert.equal(serversCompletedNotification([]), null)
})

test('completions are batched per release over the window, then each batch notifies once', () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    const shown: NotificationContent[] = []
    const batcher = new CompletionBatcher((c) => shown.push(c), 3000)
    batcher.add(done(APP, 'app-1.2.3.tar', '10.0.0.11'))
    mock.timers.tick(1000)
    batcher.add(done(APP, 'app-1.2.3.tar', '10.0.0.12'))
    batcher.add(done(DB, 'db-44', '10.0.0.11'))
    batcher.add(done(APP, 'app-1.2.3.tar', '10.0.0.12')) // the same server announcing twice counts once
    assert.equal(shown.length, 0)
    mock.timers.tick(2000)
    assert.deepEqual(shown.map((s) => s.title), ['app-1.2.3.tar reached 2 servers'])
    mock.timers.tick(1000)
    assert.deepEqual(shown.map((s) => s.title), ['app-1.2.3.tar reached 2 servers', 'db-44 reached a server'])
    // After a batch is out, the next completion opens a new one.
    batcher.add(done(APP, 'app-1.2.3.tar', '10.0.0.13'))
    batcher.dispose()
    mock.timers.tick(10_000)
    assert.equal(shown.length, 2, 'dispose drops pending batches (the app is quitting)')
  } finally {
    mock.timers.reset()
  }
})

test('a rollout that reached every expected server notifies once, with how long it took', () => {
  assert.deepEqual(rolloutCompleteNotification({ infoHash: APP, name: 'app-2.4.1', servers: 20, tookMs: 192_000 }), {
    title: 'app-2.4.1 is on every server',
    body: 'app-2.4.1 reached all 20 servers in 3 min 12 s.',
    urgent: false,
  })
  assert.equal(rolloutCompleteNotification({ infoHash: APP, name: 'db-44', servers: 1, tookMs: 41_400 }).body, 'db-44 reached its one expected server in 41 s.')
  assert.deepEqual(
    [0, 999, 59_400, 60_000, 3_600_000, 3_660_000 + 29_000, 86_400_000 + 7_200_000].map(formatElapsed),
    ['less than a second', '1 s', '59 s', '1 min', '1 h', '1 h 1 min', '1 d 2 h'],
  )
})
