/**
 * Memory for the pieces the seeder reads for its peers. Pieces of 1 MiB and more get a mapping
 * of their own from the native addon (native/piece_memory.c: why, in short: glibc's heap keeps
 * what large freed blocks took, and a fixed mmap threshold costs a page fault per 4 KiB read),
 * unmapped when the Buffer is collected. Smaller pieces, and every piece without the addon (or
 * where the runtime refuses external memory, as Electron's V8 sandbox does), come from
 * Buffer.allocUnsafe as before.
 */
import { nativeAddon, type NativeAddon } from './native-addon.js'

/** From this size a piece gets its own mapping: below it, glibc's default threshold (128 KiB) or the heap serves it well enough. */
export const OWN_MAPPING_FROM = 1024 * 1024

/** An uninitialised buffer of `length` bytes for one piece read. */
export function allocPieceBuffer(length: number, addon: Pick<NativeAddon, 'allocPiece'> | null = nativeAddon): Buffer {
  if (length >= OWN_MAPPING_FROM) {
    const own = addon?.allocPiece?.(length)
    if (own) return own
  }
  return Buffer.allocUnsafe(length)
}
