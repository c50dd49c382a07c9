// Untyped JavaScript packages. Each is imported by exactly one adapter module, which gives it a
// narrow typed surface; nothing else imports them directly.
declare module 'parse-torrent' {
  const parseTorrent: (torrentId: Uint8Array) => Promise<unknown>
  export default parseTorrent
}
declare module 'webtorrent'
declare module 'bittorrent-tracker'
declare module 'bittorrent-peerid'
declare module 'bittorrent-protocol'
