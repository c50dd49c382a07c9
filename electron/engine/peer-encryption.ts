/**
 * RC4 for the peer wires a client encrypts (BitTorrent's MSE). bittorrent-protocol uses Node's
 * RC4 when it has one and falls back to RC4 in JavaScript. Node 17 and later have RC4 only with
 * OpenSSL's legacy provider, switched on by a flag at start-up, so whoever starts `serve` passes
 * the flag: npm start and the service unit do.
 *
 * Which wires: qBittorrent (libtorrent) picks RC4 when we dial it, Transmission prefers it. On the
 * AMD EPYC, JavaScript RC4 ran at 190-220 MB/s a core against OpenSSL's 730; `npm run bench -- rc4`
 * (one qBittorrent requiring encryption): 61.8 MB/s against 94.0, at 1.5 times the engine's CPU.
 */
import { createCipheriv } from 'node:crypto'

/** Turns on OpenSSL's legacy provider, which holds RC4 (Node's official builds carry it built in). */
export const NATIVE_RC4_NODE_FLAG = '--openssl-legacy-provider'

/** The same probe bittorrent-protocol makes when it loads. */
export function rc4IsNative(): boolean {
  try {
    createCipheriv('rc4', Buffer.alloc(16), null)
    return true
  } catch {
    return false
  }
}

/** One line for serve's start-up banner. */
export function describeRc4(native = rc4IsNative()): string {
  return native
    ? "OpenSSL's (for peers that encrypt their wires)"
    : `JavaScript, a third of OpenSSL's speed (encrypted peer wires cost 1.5 times the CPU): start Node with ${NATIVE_RC4_NODE_FLAG} (npm start and the service unit do)`
}
