/**
 * Typed adapter over the optional native kernel (native/sha1_lanes.c, built into dist/native):
 * SHA-1 of three equal-length pieces at once with the x86 SHA extensions, about twice node:crypto's
 * speed per core. Null when it is not built, the CPU lacks the extensions, or
 * SWARMDROP_NATIVE_SHA1=0; callers then hash with node:crypto, with identical digests.
 */
import { createRequire } from 'node:module'

export interface Sha1Lanes {
  /** Digests of `count` consecutive pieces of `data` (the last one `lastLength` bytes) into `out`. */
  sha1Pieces(data: Uint8Array, pieceLength: number, count: number, lastLength: number, out: Uint8Array): void
}

/** Pieces the kernel hashes side by side; work is claimed in multiples of this. */
export const SHA1_LANES = 3

function load(): Sha1Lanes | null {
  if (process.env.SWARMDROP_NATIVE_SHA1 === '0') return null
  try {
    const addon = createRequire(import.meta.url)('../../native/sha1_lanes.node') as Sha1Lanes & { supported: boolean }
    return addon.supported ? addon : null
  } catch {
    return null
  }
}

export const sha1Lanes: Sha1Lanes | null = load()
