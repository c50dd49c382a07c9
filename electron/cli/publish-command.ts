import path from 'node:path'
import { parseArgs } from 'node:util'
import type { ReleaseSummary } from '../../shared/contract.js'
import { SwarmdropError, type ErrorInfo } from '../../shared/errors.js'
import { formatBytes } from '../../shared/format.js'
import { connectInstance } from './instance-client.js'
import { ProgressBar } from './progress-bar.js'
import { UsageError } from './cli-errors.js'
import { checkWaitable, parseWaitSpec, WAIT_FLAGS, waitForRollout, type WaitSpec } from './wait-command.js'

export const PUBLISH_USAGE = `swarmdrop publish <path> [--name NAME] [--channel NAME] [--comment TEXT] [--no-web-seed]
                  [--public] [--data-dir DIR] [--json]
                  [--wait [--servers all|N|HOST,...] [--timeout SECONDS]]

  Hands a file or folder to the running "swarmdrop serve" (or desktop app) of the data dir. It is
  hashed (progress on a terminal), seeded in place, and listed in the feed; the command returns
  once it is seeding and prints the info-hash, the .torrent URL and the magnet.

  With --wait it then waits exactly like "swarmdrop wait" (one command for a deploy script): exit
  0 once the release reached the servers, 1 naming the servers still missing when the timeout
  (counted from when the release is seeding) passes. --servers all (the default) needs a roster
  of expected servers, checked before anything is published.`

export async function runPublish(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string', short: 'n' },
      channel: { type: 'string' },
      comment: { type: 'string', short: 'c' },
      'web-seed': { type: 'boolean' },
      'no-web-seed': { type: 'boolean' },
      public: { type: 'boolean' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
      wait: { type: 'boolean' },
      ...WAIT_FLAGS,
    },
  })
  if (positionals.length === 0) throw new UsageError('publish needs a file or folder')
  if (!values.wait && (values.servers !== undefined || values.timeout !== undefined)) throw new UsageError('--servers and --timeout go with --wait')
  // Parsed before connecting, so a typo in the wait flags stops the deploy before anything is hashed.
  const waitSpec: WaitSpec | null = values.wait ? parseWaitSpec(values) : null
  // The server runs in another folder: hand it absolute paths.
  const paths = positionals.map((p) => path.resolve(p))
  const conn = await connectInstance(values['data-dir'])
  try {
    if (waitSpec) await checkWaitable(conn, waitSpec)
    const bar = new ProgressBar('Hashing')
    let jobId: string | null = null
    const buffered: { id: string; outcome: { release: ReleaseSummary } | { error: ErrorInfo } }[] = []
    const result = new Promise<ReleaseSummary>((resolve, reject) => {
      const settle = (id: string, outcome: { release: ReleaseSummary } | { error: ErrorInfo }): void => {
        if (jobId === null) return void buffered.push({ id, outcome })
        if (id !== jobId) return
        if ('release' in outcome) resolve(outcome.release)
        else reject(new SwarmdropError(outcome.error.code, outcome.error.message))
      }
      conn.api.on('publish.progress', (p) => {
        if (jobId === null || p.jobId === jobId) bar.update(p.hashedBytes, p.totalBytes, p.rate)
      })
      conn.api.on('publish.done', (e) => settle(e.jobId, { release: e.release }))
      conn.api.on('publish.error', (e) => settle(e.jobId, { error: e.error }))
      conn.api.onDisconnect((reason) => reject(new SwarmdropError('NOT_RUNNING', `Swarmdrop stopped while publishing (${reason}).`)))
      conn
        .call('publish.start', {
          paths,
          name: values.name,
          channel: values.channel,
          comment: values.comment,
          // On by default (see the engine's default); --web-seed is kept for older scripts.
          webSeed: !values['no-web-seed'],
          private: !values.public,
        })
        .then(({ jobId: id }) => {
          jobId = id
          for (const b of buffered) settle(b.id, b.outcome)
        }, reject)
    })
    const release = await result
    bar.done()
    if (!values.json) {
      process.stdout.write(`${release.infoHash}\n`)
      process.stderr.write(
        `Seeding "${release.name}": ${release.fileCount} file(s), ${formatBytes(release.totalSize)}\n` +
          `  torrent: ${release.torrentUrl}\n  magnet:  ${release.magnet}\n`,
      )
    }
    if (waitSpec) {
      const waited = await waitForRollout(conn, release, waitSpec, { json: values.json ?? false })
      // One JSON line for a script: wait's fields plus the release.
      if (values.json) process.stdout.write(`${JSON.stringify({ ...waited.json, release })}\n`)
      return waited.code
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ ok: true, release })}\n`)
    return 0
  } finally {
    conn.close()
  }
}
