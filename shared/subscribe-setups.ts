/**
 * "Subscribe your servers": a ready setup per client for the current feed URL, shown by the
 * dashboard and `swarmdrop subscribe`. The qBittorrent and aria2 ones are run against the real
 * clients in test/integration/subscribe-setups.test.ts.
 *
 * Every setup leans on what the feed guarantees (feed.ts): unique titles (FlexGet's `seen`
 * filter), strictly increasing pubDates (YaRSS2 drops items not newer than its last match) and
 * stable .torrent URLs (transmission-rss and ruTorrent remember URLs).
 */

export type SetupClient = 'qbittorrent' | 'transmission' | 'deluge' | 'utorrent' | 'rtorrent' | 'aria2'

export interface Setup {
  client: SetupClient
  title: string
  /** What the setup does and where it goes, in a sentence or two. */
  intro: string
  /** Blocks to copy: a shell script, a config file, or numbered steps. */
  blocks: { label: string; language: 'sh' | 'ini' | 'yaml' | 'text'; text: string }[]
}

export interface SetupOptions {
  feedUrl: string
  /** Where the servers keep releases; a placeholder the user edits. */
  saveDir?: string
  /** qBittorrent's WebUI on the server. */
  qbtWebUi?: string
  qbtUser?: string
  qbtPassword?: string
  /** Where the cron jobs keep what they have seen (and rTorrent's watch folder). */
  stateDir?: string
}

/**
 * An rtorrent.rc line for every server running rTorrent 0.9 (libtorrent 0.13). Once rTorrent has
 * found nothing to ask a peer for (a server that had just joined, or one whose pieces it was
 * already fetching elsewhere), it parks that peer and reconsiders it only on its 30 s tick: a
 * rollout shorter than that took nothing from the other servers, and the publisher sent it a
 * whole copy. Setting the download's minimum of peers to download from makes libtorrent hand the
 * parked peers back at once; every 2 s, for the downloads still leeching.
 */
export const RTORRENT_USE_EVERY_PEER = 'schedule2 = swarmdrop_use_every_peer, 5, 2, ((d.multicall2, leeching, "d.downloads_min.set=50"))'

/**
 * The same for the other direction, leeching and seeding: rTorrent unchokes a minimum of peers at
 * once instead of waiting for its 30 s choke tick. Without it rTorrent passed on little of what
 * it got from the publisher (it chokes some servers for a whole rollout), and when it finished it
 * choked every peer, so the pieces only it held went out from the publisher a second time: a
 * mixed fleet of four sent up to 1.22 copies of the release. With it: 1.07-1.10 in five runs.
 */
export const RTORRENT_UNCHOKE_EVERY_PEER = 'schedule2 = swarmdrop_unchoke_every_peer, 5, 2, ((d.multicall2, main, "d.uploads_min.set=50"))'

/** Swarmdrop's lines for every rTorrent server, in the order its setup prints them. */
export const RTORRENT_SETUP_LINES = [RTORRENT_USE_EVERY_PEER, RTORRENT_UNCHOKE_EVERY_PEER]

/**
 * qBittorrent.conf lines for every server running qBittorrent: no limit on upload slots. Its
 * default is 4 per torrent, unchoked by who uploads most (tit for tat), so a server that started
 * a second after the others had nothing to trade and stayed choked until an optimistic unchoke,
 * 30 s in libtorrent. A fleet of one's own servers has no free rider to keep out.
 */
export const QBITTORRENT_EVERY_UPLOAD_SLOT = ['Session\\MaxUploads=-1', 'Session\\MaxUploadsPerTorrent=-1']

/** Single-quoted for sh: safe for any URL, key included. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

export function subscribeSetups(o: SetupOptions): Setup[] {
  const feed = o.feedUrl
  const dir = o.saveDir ?? '/srv/updates'
  const webUi = o.qbtWebUi ?? 'http://127.0.0.1:8080'
  const user = o.qbtUser ?? 'admin'
  const password = o.qbtPassword ?? 'CHANGE-ME'
  const state = o.stateDir ?? '/var/lib/swarmdrop'
  return [
    {
      client: 'qbittorrent',
      title: 'qBittorrent (qbittorrent-nox or desktop)',
      intro:
        'Adds the feed and an auto-download rule for every release through the WebUI API, polls every minute, sets the peer protocol to TCP (between qBittorrent servers uTP backs off whenever the LAN link queues, and four of them took 1.7 times as long to trade a release), and lifts the limit of 4 upload slots per torrent (a server that started a second late was left choked by the others for half a minute). Run it once on each server, or put the INI keys in qBittorrent.conf before the first start.',
      blocks: [
        {
          label: 'WebUI API (run on the server)',
          language: 'sh',
          text: [
            `QBT=${shellQuote(webUi)}`,
            `FEED=${shellQuote(feed)}`,
            'JAR=$(mktemp)',
            `curl -fsS -c "$JAR" --data-urlencode ${shellQuote(`username=${user}`)} --data-urlencode ${shellQuote(`password=${password}`)} "$QBT/api/v2/auth/login"`,
            `curl -fsS -b "$JAR" --data 'json={"rss_processing_enabled":true,"rss_auto_downloading_enabled":true,"rss_refresh_interval":1,"bittorrent_protocol":1,"max_uploads":-1,"max_uploads_per_torrent":-1}' "$QBT/api/v2/app/setPreferences"`,
            `curl -fsS -b "$JAR" --data-urlencode "url=$FEED" --data-urlencode 'path=Swarmdrop' "$QBT/api/v2/rss/addFeed"`,
            `curl -fsS -b "$JAR" --data-urlencode 'ruleName=Swarmdrop' --data-urlencode "ruleDef={\\"enabled\\":true,\\"mustContain\\":\\"\\",\\"affectedFeeds\\":[\\"$FEED\\"],\\"savePath\\":\\"${dir}\\"}" "$QBT/api/v2/rss/setRule"`,
            'rm -f "$JAR"',
          ].join('\n'),
        },
        {
          label: 'qBittorrent.conf (RSS, protocol and upload slots), then add the feed and rule once in the WebUI',
          language: 'ini',
          text: ['[BitTorrent]', 'Session\\BTProtocol=TCP', ...QBITTORRENT_EVERY_UPLOAD_SLOT, '', '[RSS]', 'Session\\EnableProcessing=true', 'Session\\RefreshInterval=1', 'AutoDownloader\\EnableProcessing=true'].join('\n'),
        },
      ],
    },
    {
      client: 'transmission',
      title: 'Transmission (with transmission-rss)',
      intro: 'Transmission has no RSS reader of its own; transmission-rss feeds it every new item. It remembers items by URL, which never change for a release.',
      blocks: [
        {
          label: '/etc/transmission-rss.conf',
          language: 'yaml',
          text: ['feeds:', `  - url: ${JSON.stringify(feed)}`, `    download_path: ${dir}`, 'update_interval: 60', 'server:', '  host: localhost', '  port: 9091', '  rpc_path: /transmission/rpc'].join('\n'),
        },
        { label: 'FlexGet instead (config.yml)', language: 'yaml', text: ['tasks:', '  swarmdrop:', `    rss: ${JSON.stringify(feed)}`, '    accept_all: yes', '    transmission:', '      host: localhost', '      port: 9091', `      path: ${dir}`].join('\n') },
      ],
    },
    {
      client: 'deluge',
      title: 'Deluge (YaRSS2 plugin)',
      intro: 'YaRSS2 downloads items newer than its last match; Swarmdrop dates every release later than the one before.',
      blocks: [
        {
          label: 'Preferences → YaRSS2',
          language: 'text',
          text: [
            `1. RSS Feeds → Add: Name "Swarmdrop", URL ${feed}, Update interval 1 minute.`,
            '2. Subscriptions → Add: Feed "Swarmdrop", Regex include ".*", Move completed to ' + dir + '.',
            '3. Tick "Add torrents in paused state" off, then Save.',
          ].join('\n'),
        },
      ],
    },
    {
      client: 'utorrent',
      title: 'µTorrent',
      intro: 'The RSS downloader takes the feed and a filter that matches every release.',
      blocks: [
        {
          label: 'Options → RSS Downloader',
          language: 'text',
          text: [`1. Feeds → Add RSS Feed: ${feed}`, '2. Choose "Automatically download all items published in feed".', `3. Filters: Save in ${dir}, then OK.`].join('\n'),
        },
      ],
    },
    {
      client: 'rtorrent',
      title: 'rTorrent (watch directory + a fetch every minute)',
      intro:
        'rTorrent reads no RSS: a minute cron job drops each new .torrent into a watch directory that rTorrent loads and starts. The last two lines make rTorrent download from every server that has pieces, not only the first ones it met, and upload to every server that asks, also once it has finished: without them, rTorrent 0.9 took almost nothing from the other servers in a rollout under 30 s, and what only it held had to go out from the publisher again.',
      blocks: [
        {
          label: '~/.rtorrent.rc',
          language: 'text',
          text: [`directory.default.set = ${dir}`, `schedule2 = watch_swarmdrop, 5, 10, ((load.start, (cat, "${state}/watch/", "*.torrent")))`, ...RTORRENT_SETUP_LINES].join('\n'),
        },
        // No "%" anywhere: cron turns it into a newline.
        { label: 'crontab -e', language: 'sh', text: feedFetchCron(feed, `mkdir -p ${state}/watch && curl -fsS -o "${state}/watch/$(echo "$u" | md5sum | cut -c1-16).torrent" "$u"`, `${state}/rtorrent`) },
      ],
    },
    {
      client: 'aria2',
      title: 'aria2 (a cron line)',
      intro: 'Every two minutes: read the feed, and download each release it has not seen yet with aria2c, sharing pieces with the other servers while it downloads and for a minute after.',
      // --seed-time=1 (minutes): a server that left the moment it finished took with it pieces the
      // others still lacked, and the publisher sent them again (up to 0.3 copies among three).
      blocks: [{ label: 'crontab -e', language: 'sh', text: feedFetchCron(feed, `aria2c --seed-time=1 --enable-dht=false --bt-enable-lpd=false --enable-peer-exchange=false --follow-torrent=true -d ${shellQuote(dir)} "$u" >/dev/null`, `${state}/aria2`, '*/2') }],
    },
  ]
}

/**
 * A crontab line: fetch the feed, take each enclosure URL not yet in `stateDir/seen`, run `action`
 * on it (`$u` is the URL), and remember it only once that succeeded.
 */
function feedFetchCron(feed: string, action: string, stateDir: string, every = '*'): string {
  const script = [
    `touch ${stateDir}/seen`,
    `curl -fsS ${shellQuote(feed)} | grep -o '<enclosure url="[^"]*"' | cut -d'"' -f2 | sed 's/&amp;/\\&/g' | while read -r u; do grep -qxF "$u" ${stateDir}/seen || { ${action} && echo "$u" >> ${stateDir}/seen; }; done`,
  ].join(' && ')
  // flock: a download still running when the next run comes is not started twice.
  return `${every} * * * * mkdir -p ${stateDir} && flock -n ${stateDir}/lock -c ${shellQuote(script)}`
}
