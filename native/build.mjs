// Builds the optional SHA-1 multi-lane kernel (native/sha1_lanes.c) into dist/native/. It is an
// accelerator only: when there is no C compiler, no Node headers or no x86-64, this says so in one
// line and exits 0, and hashing uses node:crypto (same digests, about half the speed).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const sources = ['sha1_lanes.c', 'hash_stream.c', 'piece_memory.c'].map((file) => path.join(root, 'native', file))
const outDir = path.join(root, 'dist', 'native')
const output = path.join(outDir, 'sha1_lanes.node')

function skip(reason) {
  process.stderr.write(`native: SHA-1 kernel not built (${reason}); hashing falls back to node:crypto.\n`)
  process.exit(0)
}

if (process.arch !== 'x64') skip(`${process.arch} has no x86 SHA extensions`)
const candidates = [process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'), path.join(path.dirname(process.execPath), '..', 'include', 'node')]
const include = candidates.find((dir) => dir && existsSync(path.join(dir, 'node_api.h')))
if (!include) skip(`node_api.h not found in ${candidates.filter(Boolean).join(' or ')}`)
const cc = process.env.CC ?? 'cc'
mkdirSync(outDir, { recursive: true })
const args = ['-O2', '-fPIC', '-shared', '-std=c11', '-pthread', `-I${include}`, ...sources, '-o', output]
if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup')
const r = spawnSync(cc, args, { encoding: 'utf8' })
if (r.error) skip(`${cc}: ${r.error.message}`)
if (r.status !== 0) skip(`${cc} failed:\n${r.stderr.trim()}`)
