/** Comparing a secret someone sent (the feed key, the admin token) with ours. */
import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Constant time whatever the inputs: both sides are hashed first, so neither a differing length
 * nor the position of the first wrong byte shows in the time taken.
 */
export function secretMatches(given: string | null | undefined, secret: string): boolean {
  if (given === null || given === undefined) return false
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(secret).digest()
  return timingSafeEqual(a, b)
}
