/**
 * Memory for the pieces the seeder reads for its peers. Pieces of 1 MiB and more get a mapping
 * of their own from the native addon (native/piece_memory.c: why, in short: glibc's heap keeps
 * what large freed blocks took), in 2 MiB pages, unmapped when the Buffer is collected. Smaller
 * pieces come from Buffer.allocUnsafe as before, and so does every piece without the addon, where
 * the runtime refuses external memory (Electron's V8 sandbox), or where the kernel offers no
 * transparent huge pages: a fresh mapping in 4 KiB pages costs a page fault per 4 KiB read, which
 * took about 40 % of the upload rate in the memory bench (a fixed mmap threshold does just that).
 */
import { readFileSync } from 'node:fs'
import { nativeAddon, type NativeAddon } from './native-addon.js'

/** From this size a piece gets its own mapping: below it, glibc's default threshold (128 KiB) or the heap serves it well enough. */
export const OWN_MAPPING_FROM = 1024 * 1024

const THP_SETTING = '/sys/kernel/mm/transparent_hugepage/enabled'

/** Whether the kernel backs a mapping advised for huge pages with them ("always" or "madvise" selected). */
export function hugePagesOffered(read: () => string = () => readFileSync(THP_SETTING, 'utf8')): boolean {
  try {
    return /\[(always|madvise)\]/.test(read())
  } catch {
    return false
  }
}

const ownMappings: Pick<NativeAddon, 'allocPiece'> | null = hugePagesOffered() ? nativeAddon : null

/** An uninitialised buffer of `length` bytes for one piece read. */
export function allocPieceBuffer(length: number, addon: Pick<NativeAddon, 'allocPiece'> | null = ownMappings): Buffer {
  if (length >= OWN_MAPPING_FROM) {
    const own = addon?.allocPiece?.(length)
    if (own) return own
  }
  return Buffer.allocUnsafe(length)
}
