/**
 * Typed adapter over the optional native SHA-1 kernels (native/sha1_lanes.c): several equal-length
 * pieces hashed side by side. With the x86 SHA extensions (AMD Zen, Intel Ice Lake and later),
 * three pieces interleaved on the SHA unit; without them but with AVX2 (Intel Haswell to Cascade
 * Lake), eight pieces in the lanes of AVX2 registers. Null when the addon is not built, the CPU has
 * neither, or SWARMDROP_NATIVE_SHA1=0; callers then hash with node:crypto, with identical digests.
 * SWARMDROP_NATIVE_SHA1=avx2 picks the AVX2 kernel even where the SHA extensions exist, so it can be
 * tested and measured on such a machine too.
 */
import { nativeAddon } from './native-addon.js'

export interface Sha1Lanes {
  /** Which kernel this is, for messages and benchmarks. */
  kernel: 'sha-ni' | 'avx2'
  /** Pieces the kernel hashes side by side; work is claimed in multiples of this. */
  lanes: number
  /** Digests of `count` consecutive pieces of `data` (the last one `lastLength` bytes) into `out`. */
  sha1Pieces(data: Uint8Array, pieceLength: number, count: number, lastLength: number, out: Uint8Array): void
}

function pick(): Sha1Lanes | null {
  const addon = nativeAddon
  if (!addon) return null
  const forceAvx2 = process.env.SWARMDROP_NATIVE_SHA1 === 'avx2'
  if (addon.supported && !forceAvx2) return { kernel: 'sha-ni', lanes: 3, sha1Pieces: addon.sha1Pieces }
  if (addon.avx2) return { kernel: 'avx2', lanes: 8, sha1Pieces: addon.sha1PiecesAvx2 }
  return null
}

export const sha1Lanes: Sha1Lanes | null = pick()

/** Pieces hashed side by side by the kernel in use (1 with node:crypto). */
export const SHA1_LANES = sha1Lanes?.lanes ?? 1
