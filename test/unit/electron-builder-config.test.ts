/**
 * electron-builder.yml, checked without packaging (the Electron binary cannot be downloaded here).
 * It is read, validated and matched by electron-builder's own code (its YAML parser, its schema
 * check, its file matchers), so what passes here is what `npx electron-builder` would do with it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
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
