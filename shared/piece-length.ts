export const MIN_PIECE_LENGTH = 16 * 1024
export const MAX_PIECE_LENGTH = 16 * 1024 * 1024
/** Aim for at most this many pieces: small .torrent files, fine-grained sharing. */
const TARGET_MAX_PIECES = 2048

/**
 * The smallest power of two in [16 KiB, 16 MiB] that keeps the piece count at or under 2048,
 * which puts large releases in the 1k–2k range that clients handle best.
 */
export function choosePieceLength(totalSize: number): number {
  let length = MIN_PIECE_LENGTH
  while (length < MAX_PIECE_LENGTH && Math.ceil(totalSize / length) > TARGET_MAX_PIECES) length *= 2
  return length
}

export function isValidPieceLength(length: number): boolean {
  return (
    Number.isInteger(length) &&
    length >= MIN_PIECE_LENGTH &&
    length <= MAX_PIECE_LENGTH &&
    (length & (length - 1)) === 0
  )
}
