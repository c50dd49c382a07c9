/** Test data is generated, never committed. */
import { mkdir, writeFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import path from 'node:path'

/** Deterministic pseudo-random bytes (fast: SHA-256 counter mode). */
export function pseudoRandom(length: number, seed: string): Buffer {
  const out = Buffer.allocUnsafe(length)
  let offset = 0
  for (let counter = 0; offset < length; counter++) {
    const block = createHash('sha256').update(`${seed}:${counter}`).digest()
    offset += block.copy(out, offset)
  }
  return out
}

export interface TreeEntry {
  path: string
  length: number
}

/**
 * A nested folder of `count` files: some empty, some with unicode names, sizes from 0 to ~12 KiB,
 * spread over a few levels. Returns the entries in creation order.
 */
export async function makeTree(root: string, count: number): Promise<TreeEntry[]> {
  const names = ['données', 'バージョン', 'ünïcödé', 'emoji-📦', 'plain']
  const entries: TreeEntry[] = []
  for (let i = 0; i < count; i++) {
    const depth = i % 4
    const dirs = []
    for (let d = 0; d < depth; d++) dirs.push(`dir${(i >> (d + 2)) % 7}-${names[(i + d) % names.length]}`)
    const file = i % 9 === 0 ? `${names[i % names.length]}-${i}.bin` : `file-${i}.dat`
    const rel = path.posix.join(...dirs, file)
    const length = i % 13 === 0 ? 0 : (i * 7919) % 12289
    entries.push({ path: rel, length })
  }
  for (const e of entries) {
    const abs = path.join(root, ...e.path.split('/'))
    await mkdir(path.dirname(abs), { recursive: true })
    await writeFile(abs, pseudoRandom(e.length, e.path))
  }
  return entries
}
