import { parseArgs } from 'node:util'
import { DEFAULT_CHANNEL } from '../../shared/contract.js'
import { SwarmdropError } from '../../shared/errors.js'
import { subscribeSetups, type SetupClient } from '../../shared/subscribe-setups.js'
import { connectInstance } from './instance-client.js'
import { UsageError } from './cli-errors.js'

const CLIENTS: readonly SetupClient[] = ['qbittorrent', 'transmission', 'deluge', 'utorrent', 'rtorrent', 'aria2']

export const SUBSCRIBE_USAGE = `swarmdrop subscribe [${CLIENTS.join('|')}] [--channel NAME] [--save-dir DIR] [--data-dir DIR]

  Prints a ready setup that subscribes a server's BitTorrent client to this instance's feed
  (the current feed URL, with its key): WebUI API calls for qBittorrent, a transmission-rss or
  FlexGet config, YaRSS2 and µTorrent steps, an rTorrent watch folder, an aria2 cron line.
  Without a client name, all of them. --channel: the feed of that channel (default: /feed.xml).`

export async function runSubscribe(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'data-dir': { type: 'string' }, 'save-dir': { type: 'string' }, channel: { type: 'string' } } })
  const [only, ...extra] = positionals
  if (extra.length > 0) throw new UsageError('subscribe takes at most one client name')
  if (only !== undefined && !(CLIENTS as readonly string[]).includes(only)) throw new UsageError(`unknown client "${only}"; choose from ${CLIENTS.join(', ')}`)
  const conn = await connectInstance(values['data-dir'])
  try {
    const snap = await conn.call('snapshot.get', {})
    const wanted = values.channel ?? DEFAULT_CHANNEL
    const feed = snap.endpoints.channels.find((c) => c.name === wanted)?.feedUrl
    if (!feed) throw new SwarmdropError('INVALID_ARGUMENT', `No channel "${wanted}" has a release yet; channels: ${snap.endpoints.channels.map((c) => c.name).join(', ')}.`)
    const setups = subscribeSetups({ feedUrl: feed, saveDir: values['save-dir'] }).filter((s) => only === undefined || s.client === only)
    const out: string[] = []
    for (const s of setups) {
      out.push(`## ${s.title}`, s.intro, '')
      for (const b of s.blocks) out.push(`# ${b.label}`, b.text, '')
    }
    process.stdout.write(`${out.join('\n')}`)
    return 0
  } finally {
    conn.close()
  }
}
