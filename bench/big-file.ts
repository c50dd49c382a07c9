import { randomBytes } from 'node:crypto'
import { open } from 'node:fs/promises'

/**
 * A file of `bytes` random bytes, in a 64 MiB random block repeated: hashing, encryption and
 * transfer speeds do not depend on the content, and this is fast to write.
 */
export async function makeBigFile(file: string, bytes: number): Promise<void> {
  const block = randomBytes(64 * 1024 * 1024)
  const fh = await open(file, 'w')
  try {
    for (let written = 0; written < bytes; written += block.length) await fh.write(block, 0, Math.min(block.length, bytes - written))
  } finally {
    await fh.close()
  }
}
