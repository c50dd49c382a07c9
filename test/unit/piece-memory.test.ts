/**
 * The seeder's piece buffers (piece-memory.ts, native/piece_memory.c). The choice of allocator is
 * checked with stand-in addons; the real addon is checked in child processes on this machine's
 * glibc and kernel: a piece buffer never lands in malloc's main heap (a plain Buffer of the same
 * size does, once one was freed), and its memory is in huge pages where the kernel offers them.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { OWN_MAPPING_FROM, allocPieceBuffer, hugePagesOffered } from '../../electron/engine/piece-memory.js'
import { nativeAddon } from '../../electron/engine/native-addon.js'

const MIB = 1024 * 1024

test('pieces of 1 MiB and more come from the addon; smaller ones, or any without it (or when it fails), from Buffer.allocUnsafe', () => {
  const asked: number[] = []
  const addon = { allocPiece: (n: number) => (asked.push(n), Buffer.alloc(n, 7)) }
  assert.equal(allocPieceBuffer(8 * MIB, addon)[0], 7)
  assert.equal(allocPieceBuffer(OWN_MAPPING_FROM, addon).length, OWN_MAPPING_FROM)
  assert.equal(allocPieceBuffer(256 * 1024, addon).length, 256 * 1024)
  assert.deepEqual(asked, [8 * MIB, OWN_MAPPING_FROM], 'a 256 KiB piece is not asked of the addon')
  assert.equal(allocPieceBuffer(8 * MIB, null).length, 8 * MIB)
  assert.equal(allocPieceBuffer(8 * MIB, {}).length, 8 * MIB, 'an addon built before allocPiece existed')
  assert.equal(allocPieceBuffer(8 * MIB, { allocPiece: () => null }).length, 8 * MIB, 'a mapping that failed')
})

test('own mappings only where the kernel offers transparent huge pages: in 4 KiB pages every read would fault page by page', () => {
  assert.equal(hugePagesOffered(() => '[always] madvise never\n'), true)
  assert.equal(hugePagesOffered(() => 'always [madvise] never\n'), true)
  assert.equal(hugePagesOffered(() => 'always madvise [never]\n'), false)
  assert.equal(hugePagesOffered(() => {
    throw new Error('ENOENT: no such file (not Linux, or no THP support)')
  }), false)
})

/** Runs `body` in a fresh node with GC exposed and the addon loaded; returns what it printed, as JSON. */
function inChild(body: string): Record<string, number> {
  const memory = new URL('../../electron/engine/piece-memory.js', import.meta.url).href
  const script = `
    import { readFileSync } from 'node:fs'
    const { allocPieceBuffer } = await import(${JSON.stringify(memory)})
    const heap = () => { const m = /^([0-9a-f]+)-([0-9a-f]+) .*\\[heap\\]$/m.exec(readFileSync('/proc/self/maps', 'utf8')); return m ? parseInt(m[2], 16) - parseInt(m[1], 16) : 0 }
    const hugeKiB = () => Number(/^AnonHugePages:\\s+(\\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? 0)
    const collect = async () => { for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 50)) } }
    ${body}
  `
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_') && k !== 'GLIBC_TUNABLES' && k !== 'SWARMDROP_NATIVE_SHA1'))
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', env })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as Record<string, number>
}

test('the native addon, wherever it is built, can map pieces', () => {
  // `npm run build` compiles piece_memory.c into the one addon; an addon without it is stale.
  if (nativeAddon) assert.equal(typeof nativeAddon.allocPiece, 'function', 'dist/native/sha1_lanes.node predates allocPiece: run "node native/build.mjs"')
})

/**
 * Piece mappings are used only with the addon and transparent huge pages (see hugePagesOffered).
 * Without them the seeder uses Buffer.allocUnsafe, which the first test covers: there is nothing
 * of the addon's to check, and the tests below say why in one line and pass.
 */
function withoutMappings(t: TestContext): boolean {
  const why = !nativeAddon?.allocPiece ? 'the native addon is not built here' : !hugePagesOffered() ? 'this kernel has transparent huge pages off' : null
  if (why) t.diagnostic(`piece mappings are not used here: ${why}`)
  return why !== null
}

test('a piece buffer never lands in the main heap, where a plain buffer of the same size does once one was freed', (t) => {
  if (withoutMappings(t)) return
  const grown = inChild(`
    const growth = async (alloc) => {
      let first = alloc(8 << 20).fill(1)
      first = null
      await collect()
      const before = heap()
      const second = alloc(8 << 20).fill(2)
      return heap() - before + second[0] - 2
    }
    const plain = await growth((n) => Buffer.allocUnsafeSlow(n))
    const piece = await growth(allocPieceBuffer)
    process.stdout.write(JSON.stringify({ plain, piece }))
  `)
  assert.ok(grown.plain !== undefined && grown.plain >= 8 * MIB, `glibc moved its threshold: a plain 8 MiB buffer grew the heap ${grown.plain} bytes`)
  assert.ok(grown.piece !== undefined && grown.piece < MIB, `a piece buffer grew the heap ${grown.piece} bytes`)
})

test('a piece buffer is in huge pages where the kernel offers them (transparent huge pages on "madvise" or "always")', (t) => {
  if (withoutMappings(t)) return
  const pages = inChild(`
    const before = hugeKiB()
    const piece = allocPieceBuffer(16 << 20).fill(3)
    const after = hugeKiB()
    process.stdout.write(JSON.stringify({ before, after, check: piece[piece.length - 1] }))
  `)
  assert.equal(pages.check, 3)
  // The kernel may lack a free 2 MiB page now and then; most of 16 MiB must still be huge pages.
  assert.ok((pages.after ?? 0) - (pages.before ?? 0) >= 8 * 1024, `AnonHugePages rose ${(pages.after ?? 0) - (pages.before ?? 0)} KiB for a 16 MiB piece`)
})

test('a piece buffer holds what is written to it, and its memory is returned once it is collected', (t) => {
  if (withoutMappings(t)) return
  const mapped = inChild(`
    const rss = () => Number(/^VmRSS:\\s+(\\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0)
    const start = rss()
    let pieces = Array.from({ length: 8 }, (_, i) => allocPieceBuffer(8 << 20).fill(i + 1))
    const ok = pieces.every((p, i) => p[0] === i + 1 && p[p.length - 1] === i + 1) ? 1 : 0
    const held = rss() - start
    pieces = null
    await collect()
    process.stdout.write(JSON.stringify({ ok, held, left: rss() - start }))
  `)
  assert.equal(mapped.ok, 1)
  assert.ok((mapped.held ?? 0) >= 60 * 1024, `eight 8 MiB pieces held ${mapped.held} KiB`)
  assert.ok((mapped.left ?? Infinity) < 8 * 1024, `${mapped.left} KiB still held after they were collected`)
})
