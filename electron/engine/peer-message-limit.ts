/**
 * A peer message longer than any real one closes its wire.
 *
 * bittorrent-protocol waits for a whole message before it parses it, and on every chunk that
 * arrives meanwhile it copies all it has so far into one new buffer. So a peer that announced a
 * 4 GiB message and then sent data made serve copy quadratically and hold it all: 32 MiB sent
 * took 5.2 s to get through (about 8 GB copied, serve's main thread busy all along), and a few
 * hundred MiB keeps it busy for minutes. What a server sends us is small: requests, HAVEs,
 * extension messages of a few KB, and its bitfield, a byte per eight pieces (50 KB for 400,000).
 * libtorrent refuses messages over 1 MiB the same way.
 */

export const MAX_PEER_MESSAGE_BYTES = 1024 * 1024

/** The parts of a bittorrent-protocol wire's parser this replaces. */
export interface ParsedWire {
  /** Reads a message's 4-byte length, then waits for that many bytes. */
  _onMessageLength(buffer: Uint8Array): void
  /** What the parser calls once `_parserSize` bytes have arrived. */
  _parser: unknown
  _parserSize: number
  _parse(size: number, parser: (buffer: Uint8Array) => void): void
  destroy(): void
}

/** The longest message a wire of a release of `pieceCount` pieces may send: its bitfield must fit. */
export function messageLimit(pieceCount: number): number {
  return Math.max(MAX_PEER_MESSAGE_BYTES, Math.ceil(pieceCount / 8) + 1)
}

/**
 * Closes `wire` on its first message longer than `maxBytes`, including one it has already
 * begun (webtorrent registers an incoming wire after an await, and its first messages may have
 * been read by then). False when it closed the wire at once.
 */
export function limitMessages(wire: ParsedWire, maxBytes: number): boolean {
  const close = (): false => {
    // Nothing more is parsed (bittorrent-protocol does the same once the wire has finished).
    wire._parse(Number.MAX_SAFE_INTEGER, () => undefined)
    wire.destroy()
    return false
  }
  if (wire._parserSize > maxBytes) return close()
  const lengthOf = wire._onMessageLength
  const limited = (buffer: Uint8Array): void => {
    const length = new DataView(buffer.buffer, buffer.byteOffset, 4).getUint32(0)
    if (length > maxBytes) {
      close()
      return
    }
    lengthOf.call(wire, buffer)
  }
  wire._onMessageLength = limited
  if (wire._parser === lengthOf) wire._parser = limited
  return true
}
