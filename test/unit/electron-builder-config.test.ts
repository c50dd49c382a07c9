/**
 * electron-builder.yml, checked without packaging (the Electron binary cannot be downloaded here).
 * It is read, validated and matched by electron-builder's own code (its YAML parser, its schema
 * check, its file matchers), so what passes here is what `npx electron-builder` would do with it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Configuration } from 'electron-builder'

const ROOT = path.resolve(fileURLToPath(new URL('../../../', import.meta.url)))

// app-builder-lib and js-yaml are resolved the way electron-builder itself resolves them, so the
// test follows whatever versions `npx electron-builder` would run. They are CommonJS without
// types for these internals: each is typed below with only what this test calls.
const fromElectronBuilder = createRequire(createRequire(import.meta.url).resolve('electron-builder/package.json'))
const fromAppBuilderLib = createRequire(fromElectronBuilder.resolve('app-builder-lib/package.json'))

interface JsYaml {
  load(text: string, options?: { filename?: string }): unknown
}
interface DebugLoggerLike {
  readonly isEnabled: boolean
  add(key: string, value: unknown): void
}
interface ConfigModule {
  validateConfiguration(config: Configuration, debugLogger: DebugLoggerLike): Promise<void>
}
type Filter = (file: string, stat: { isDirectory(): boolean }) => boolean
interface FileMatcherLike {
  createFilter(): Filter
}
interface FileMatcherModule {
  getFileMatchers(
    config: Configuration,
    name: 'files' | 'asarUnpack',
    defaultDestination: string,
    options: { macroExpander: (pattern: string) => string; customBuildOptions: object; globalOutDir: string; defaultSrc: string },
  ): FileMatcherLike[] | null
}

const yaml = fromAppBuilderLib('js-yaml') as JsYaml
const { validateConfiguration } = fromAppBuilderLib('./out/util/config/config.js') as ConfigModule
const { getFileMatchers } = fromAppBuilderLib('./out/fileMatcher.js') as FileMatcherModule
const QUIET_LOGGER: DebugLoggerLike = { isEnabled: false, add: () => {} }

const CONFIG_FILE = path.join(ROOT, 'electron-builder.yml')

function loadConfig(): Configuration {
  const parsed = yaml.load(readFileSync(CONFIG_FILE, 'utf8'), { filename: CONFIG_FILE })
  assert.ok(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), 'electron-builder.yml is a mapping')
  // Shape checked by the schema test below; the fields used here are asserted where they are read.
  return parsed as Configuration
}

const EXPECTED_FUSES = {
  runAsNode: false,
  enableCookieEncryption: true,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  loadBrowserProcessSpecificV8Snapshot: false,
  grantFileProtocolExtraPrivileges: false,
}

test('the config passes electron-builder\'s own validation (its JSON schema, scheme.json)', async () => {
  // ajv runs with coerceTypes, which may rewrite values in place: validate a copy.
  await validateConfiguration(structuredClone(loadConfig()), QUIET_LOGGER)
  // And the check is live: a misspelled fuse is refused, not ignored.
  const typo = { ...loadConfig(), electronFuses: { ...EXPECTED_FUSES, runAsnode: false } } as Configuration
  await assert.rejects(validateConfiguration(typo, QUIET_LOGGER), /configuration\.electronFuses/)
})

test('identity: appId and productName', () => {
  const config = loadConfig()
  assert.equal(config.appId, 'dev.swarmdrop.app')
  assert.equal(config.productName, 'Swarmdrop')
})

test('every Electron fuse electron-builder knows is set, to the hardened value', () => {
  const config = loadConfig()
  assert.deepEqual(config.electronFuses, EXPECTED_FUSES)
  assert.notEqual(config.asar, false, 'onlyLoadAppFromAsar needs an app.asar to load')

  // A fuse added by a newer electron-builder must be decided here, not left at Electron's default.
  const scheme = JSON.parse(readFileSync(fromAppBuilderLib.resolve('./scheme.json'), 'utf8')) as {
    definitions: { FuseOptionsV1: { properties: Record<string, unknown> } }
  }
  const known = Object.keys(scheme.definitions.FuseOptionsV1.properties).filter((name) => name !== 'resetAdHocDarwinSignature')
  assert.deepEqual(Object.keys(EXPECTED_FUSES).sort(), known.sort())
})

// ---- files and asarUnpack against what `npm run build` writes ----------------------------------

const tsconfig = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } }

/** Where tsc puts a source file (rootDir "." and outDir "dist", asserted below). */
function built(source: string): string {
  return path.posix.join(tsconfig.compilerOptions.outDir, source.replace(/\.cts$/, '.cjs').replace(/\.ts$/, '.js'))
}

function sourceOf(builtPath: string): string | null {
  const rel = path.posix.relative(tsconfig.compilerOptions.outDir, builtPath)
  for (const candidate of [rel.replace(/\.js$/, '.ts'), rel.replace(/\.cjs$/, '.cts')]) {
    if (candidate !== rel && existsSync(path.join(ROOT, candidate))) return candidate
  }
  return null
}

/**
 * Every built file a module loads at run time, following relative imports (type-only ones are
 * erased by tsc) and `createRequire(import.meta.url)(…)` loads such as the native kernel.
 */
function runtimeClosure(entrySource: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const pending = [entrySource]
  for (let source = pending.pop(); source !== undefined; source = pending.pop()) {
    const out = built(source)
    if (files.has(out)) continue
    files.add(out)
    const text = readFileSync(path.join(ROOT, source), 'utf8')
    const specifiers: string[] = []
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) if (!m[1] && m[2]) specifiers.push(m[2])
    for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) if (m[1]) specifiers.push(m[1])
    for (const m of text.matchAll(/createRequire\(import\.meta\.url\)\(\s*['"]([^'"]+)['"]\s*\)/g)) if (m[1]) specifiers.push(m[1])
    for (const spec of specifiers) {
      if (spec.startsWith('node:')) continue
      if (!spec.startsWith('.')) {
        packages.add(spec)
        continue
      }
      const target = path.posix.join(path.posix.dirname(out), spec)
      const next = sourceOf(target)
      if (next) pending.push(next)
      else files.add(target) // not compiled by tsc: the native kernel, built by native/build.mjs
    }
  }
  return { files, packages }
}

interface Matchers {
  included: (file: string) => boolean
  unpacked: (file: string) => boolean
}

/** electron-builder's matchers for `files` and `asarUnpack`, once per platform section. */
function matchersFor(config: Configuration): Matchers[] {
  const platforms = [config.linux, config.mac, config.win].map((section) => section ?? {})
  const file = { isDirectory: () => false }
  return platforms.map((customBuildOptions) => {
    const options = { macroExpander: (pattern: string) => pattern, customBuildOptions, globalOutDir: path.join(ROOT, 'release'), defaultSrc: ROOT }
    const files = getFileMatchers(config, 'files', ROOT, options)?.[0]?.createFilter()
    const unpack = getFileMatchers(config, 'asarUnpack', ROOT, options)?.[0]?.createFilter()
    assert.ok(files && unpack, 'both files and asarUnpack are set')
    return { included: (p) => files(path.join(ROOT, p), file), unpacked: (p) => unpack(path.join(ROOT, p), file) }
  })
}

test('the build layout this test assumes is the one tsc, vite and native/build.mjs write', () => {
  assert.equal(tsconfig.compilerOptions.rootDir, '.')
  assert.equal(tsconfig.compilerOptions.outDir, 'dist')
  assert.match(readFileSync(path.join(ROOT, 'vite.config.ts'), 'utf8'), /outDir:\s*'\.\.\/dist\/dashboard'/)
  assert.match(readFileSync(path.join(ROOT, 'native', 'build.mjs'), 'utf8'), /path\.join\(root, 'dist', 'native'\)[\s\S]*'sha1_lanes\.node'/)
})

test('package.json "main", the preload and the dashboard are packaged, inside app.asar', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string }
  assert.equal(pkg.main, 'dist/electron/shell/main.js')
  const main = sourceOf(pkg.main)
  assert.equal(main, 'electron/shell/main.ts', '"main" is what tsc builds from the shell entry')
  const packed = ['package.json', pkg.main, built('electron/shell/preload.cts'), built('electron/shell/window.ts'), 'dist/dashboard/index.html', 'dist/dashboard/assets/index-abc123.js']
  for (const m of matchersFor(loadConfig())) {
    for (const p of packed) {
      assert.ok(m.included(p), `${p} is packaged`)
      // Unpacked files are read from disk unchecked; the entry and the UI stay under asar integrity.
      assert.ok(!m.unpacked(p), `${p} stays inside app.asar`)
    }
  }
})

test('everything the hashing worker loads is packaged and unpacked', () => {
  const hasher = readFileSync(path.join(ROOT, 'electron/engine/hasher.ts'), 'utf8')
  const workerUrl = /new URL\('(\.\/[^']+\.js)', import\.meta\.url\)/.exec(hasher)?.[1]
  assert.ok(workerUrl, 'hasher.ts starts its workers from a file next to it')
  const entry = sourceOf(path.posix.join('dist/electron/engine', workerUrl))
  assert.ok(entry, `${workerUrl} is compiled from a source file`)

  const { files, packages } = runtimeClosure(entry)
  assert.deepEqual([...packages], [], 'node_modules stay inside app.asar, where the worker loader cannot read them')
  assert.ok(files.has('dist/native/sha1_lanes.node'), 'the native kernel is found through sha1-lanes.ts')
  assert.ok(files.has('dist/shared/errors.js') && files.has('dist/electron/engine/piece-hasher.js'), [...files].join(', '))
  for (const m of matchersFor(loadConfig())) {
    for (const p of files) {
      assert.ok(m.included(p), `${p} is packaged`)
      assert.ok(m.unpacked(p), `${p} is unpacked for the worker`)
    }
  }
})

test('tests, benchmarks and sources are not packaged', () => {
  const excluded = ['dist/test/unit/availability.test.js', 'dist/test/support/fake-api.js', 'dist/bench/run.js', 'electron/engine/seeder.ts', 'renderer/App.tsx', 'test-artifacts/log.txt', 'electron-builder.yml']
  for (const m of matchersFor(loadConfig())) {
    for (const p of excluded) assert.ok(!m.included(p), `${p} is left out`)
  }
})

// ---- targets, artifact names, icons -----------------------------------------------------------

test('targets: AppImage and deb on Linux, an NSIS installer on Windows, a dmg on macOS; npm run dist builds, then packages', () => {
  const config = loadConfig()
  assert.deepEqual(config.linux?.target, ['AppImage', 'deb'])
  assert.deepEqual(config.win?.target, ['nsis'])
  assert.deepEqual(config.mac?.target, ['dmg'])
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; scripts: Record<string, string> }
  // The build first (electron-builder packages dist/ as it finds it), and never a publish to a release host.
  assert.equal(pkg.scripts.dist, 'npm run build && electron-builder --publish never')
})

interface MacroModule {
  expandMacro(pattern: string, arch: string | null, appInfo: Record<string, string>, extra: Record<string, string>): string
}
interface ArchModule {
  Arch: Record<string, number>
  getArtifactArchName(arch: number, ext: string): string
}
const { expandMacro } = fromAppBuilderLib('./out/util/macroExpander.js') as MacroModule
const { Arch, getArtifactArchName } = fromAppBuilderLib('builder-util') as ArchModule

test('artifact names: each target names its file with the version and the architecture, as electron-builder expands them', () => {
  const config = loadConfig()
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string }
  assert.match(config.artifactName ?? '', /\$\{version\}.*\$\{arch\}.*\.\$\{ext\}$/, 'the default for any other target')
  const appInfo = { name: pkg.name, version: pkg.version, productName: config.productName ?? '', sanitizedProductName: config.productName ?? '' }
  const targets: [string, string | null | undefined, string][] = [
    ['AppImage', config.appImage?.artifactName, 'AppImage'],
    ['deb', config.deb?.artifactName, 'deb'],
    ['nsis', config.nsis?.artifactName, 'exe'],
    ['dmg', config.dmg?.artifactName, 'dmg'],
  ]
  const names: string[] = []
  for (const [target, pattern, ext] of targets) {
    assert.ok(pattern, `${target} has an artifactName`)
    // electron-builder's own expansion (macroExpander) and architecture names (x86_64 for an AppImage, amd64 for a .deb).
    for (const arch of ['x64', 'arm64']) names.push(expandMacro(pattern, getArtifactArchName(Arch[arch] as number, ext), appInfo, { os: 'linux', ext }))
  }
  const v = pkg.version
  assert.deepEqual(names, [
    `Swarmdrop-${v}-x86_64.AppImage`,
    `Swarmdrop-${v}-arm64.AppImage`,
    `swarmdrop_${v}_amd64.deb`,
    `swarmdrop_${v}_arm64.deb`,
    `Swarmdrop-Setup-${v}-x64.exe`,
    `Swarmdrop-Setup-${v}-arm64.exe`,
    `Swarmdrop-${v}-x64.dmg`,
    `Swarmdrop-${v}-arm64.dmg`,
  ])
})

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(buf: Buffer): { width: number; height: number } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG')
  assert.equal(buf.toString('ascii', 12, 16), 'IHDR')
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) }
}

const ICON_SOURCE = path.join(ROOT, 'assets', 'icon.svg')

test('icons: Linux gets a folder of NxN.png from 16 to 1024, macOS an .icns up to 1024, Windows an .ico up to 256', () => {
  const config = loadConfig()
  assert.ok(existsSync(ICON_SOURCE), 'the one source, assets/icon.svg')

  const linux = path.join(ROOT, String(config.linux?.icon))
  for (const size of [16, 32, 48, 64, 128, 256, 512, 1024]) {
    const file = path.join(linux, `${size}x${size}.png`)
    assert.ok(existsSync(file), file)
    assert.deepEqual(pngSize(readFileSync(file)), { width: size, height: size }, file)
  }

  // .icns: "icns", total length, then (type, length, PNG) entries.
  const icns = readFileSync(path.join(ROOT, String(config.mac?.icon)))
  assert.equal(icns.toString('ascii', 0, 4), 'icns')
  assert.equal(icns.readUInt32BE(4), icns.length)
  const icnsSizes = new Map<string, number>()
  for (let offset = 8; offset < icns.length; ) {
    const type = icns.toString('ascii', offset, offset + 4)
    const length = icns.readUInt32BE(offset + 4)
    icnsSizes.set(type, pngSize(icns.subarray(offset + 8, offset + length)).width)
    offset += length
  }
  // 512@2x (ic10) is what a Retina Finder shows; ic07-ic09 the plain sizes.
  assert.deepEqual(Object.fromEntries(['ic07', 'ic08', 'ic09', 'ic10', 'ic14'].map((t) => [t, icnsSizes.get(t)])), { ic07: 128, ic08: 256, ic09: 512, ic10: 1024, ic14: 512 })

  // .ico: a directory of images; 256 as PNG, the small ones as 32-bit BMPs (width, height × 2 for the mask).
  for (const icon of [config.win?.icon, config.nsis?.installerIcon, config.nsis?.uninstallerIcon]) {
    const ico = readFileSync(path.join(ROOT, String(icon)))
    assert.deepEqual([ico.readUInt16LE(0), ico.readUInt16LE(2)], [0, 1], `${icon} is an icon file`)
    const sizes: number[] = []
    for (let i = 0; i < ico.readUInt16LE(4); i++) {
      const entry = 6 + 16 * i
      const size = ico[entry] === 0 ? 256 : (ico[entry] as number)
      const image = ico.subarray(ico.readUInt32LE(entry + 12), ico.readUInt32LE(entry + 12) + ico.readUInt32LE(entry + 8))
      if (image[0] === 0x89) assert.deepEqual(pngSize(image), { width: size, height: size })
      else assert.deepEqual([image.readUInt32LE(0), image.readInt32LE(4), image.readInt32LE(8), image.readUInt16LE(14)], [40, size, size * 2, 32], `${icon}: ${size} px BMP`)
      sizes.push(size)
    }
    assert.deepEqual(sizes, [16, 24, 32, 48, 64, 128, 256], String(icon))
  }
  // The window and notification icon the shell loads (electron/shell/main.ts).
  assert.deepEqual(pngSize(readFileSync(path.join(ROOT, 'assets', 'icon.png'))), { width: 512, height: 512 })
})

test('every app icon is rendered from assets/icon.svg: make-icons.mjs --check finds none out of date', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'assets', 'make-icons.mjs'), '--check'], { encoding: 'utf8' })
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`)
  assert.match(r.stdout, /all \d+ icons match their sources/)
})

test('the icons the shell loads at run time are packaged; the icon sources are not', () => {
  const main = readFileSync(path.join(ROOT, 'electron', 'shell', 'main.ts'), 'utf8')
  assert.match(main, /const ASSETS_DIR = path\.join\(ROOT, 'assets'\)/, 'the shell reads its icons from assets/ next to package.json')
  const needed = ['assets/icon.png', ...readdirSync(path.join(ROOT, 'assets')).filter((f) => /^tray-.*\.png$/.test(f)).map((f) => `assets/${f}`)]
  assert.ok(needed.length > 8, needed.join(', '))
  const packagingOnly = ['assets/icon.svg', 'assets/make-icons.mjs', 'assets/icon.icns', 'assets/icon.ico', 'assets/icons/512x512.png']
  for (const m of matchersFor(loadConfig())) {
    for (const p of needed) assert.ok(m.included(p), `${p} is packaged`)
    for (const p of packagingOnly) assert.ok(!m.included(p), `${p} is left out of the app`)
  }
})
