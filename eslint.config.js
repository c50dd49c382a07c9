import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/**
 * Layers, named for the runtime their code needs (the VS Code way), and kept honest here: an
 * import that crosses a layer fails `npm run lint`. test/unit/layers.test.ts proves each rule fires.
 *
 *   shared/            the typed contract and pure helpers: any runtime, so no Node and no DOM
 *   electron/engine/   the plain-Node engine: never Electron, the CLI, the shell or the renderer
 *   electron/cli/      the terminal front end (plain Node): never Electron, the shell or the renderer
 *   electron/shell/    the Electron main process and preload: the only code that imports electron
 *   renderer/          React in a browser or Electron window: never the engine, the CLI or the shell
 */
const ENGINE = 'electron/engine/**'
const CLI = 'electron/cli/**'
const SHELL = 'electron/shell/**'
const RENDERER = 'renderer/**'
const SHARED = 'shared/**'

/** Untyped libraries, each behind one typed adapter module that nothing else bypasses. */
const ADAPTERS = {
  webtorrent: 'electron/engine/seeder.ts',
  'bittorrent-tracker': 'electron/engine/tracker.ts',
  'bittorrent-peerid': 'electron/engine/peer-client.ts',
  'bittorrent-protocol': 'electron/engine/mse-key-exchange.ts',
  'parse-torrent': 'test/support/webtorrent-parser.ts',
}
/** Raw IPC stays in the two IPC modules, which wrap it in the contract (GitHub Desktop's rule). */
const IPC_MODULES = ['electron/shell/ipc-main.ts', 'electron/shell/preload.cts']

const layerImport = (layer, why) => ({ regex: `(^|/)(electron/)?${layer}/|^\\.\\./${layer}/`, message: why })
const engineImport = { regex: '(^|/)electron/engine/|^\\.\\./engine/', message: 'The renderer talks to the engine only through the contract (shared/contract.ts) over IPC or the WebSocket.' }
const electronPackage = (who) => ({ regex: '^electron$', message: `${who} must run without Electron: only electron/shell/ imports it.` })
const nodeBuiltin = (who) => ({ regex: '^node:', message: `${who} runs in any runtime; Node built-ins belong in electron/engine/.` })
const adapterPatterns = (except) =>
  Object.entries(ADAPTERS)
    .filter(([, adapter]) => adapter !== except)
    .map(([lib, adapter]) => ({ regex: `^${lib}(/|$)`, message: `${lib} is untyped: import it only in its adapter, ${adapter}, and use that module's typed surface.` }))

/** One no-restricted-imports rule per file group: ESLint replaces, never merges, a rule's options. */
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] })

const LAYER_RULES = {
  [ENGINE]: [electronPackage('The engine'), layerImport('cli', 'The engine never imports the CLI: the CLI is a front end over it.'), layerImport('shell', 'The engine never imports the Electron shell.'), layerImport('renderer', 'The engine never imports the renderer.')],
  [CLI]: [electronPackage('The CLI'), layerImport('shell', 'The CLI never imports the Electron shell.'), layerImport('renderer', 'The CLI never imports the renderer.')],
  [SHELL]: [layerImport('cli', 'The shell never imports the CLI; both start an instance through electron/engine/instance.ts.'), layerImport('renderer', 'The shell never imports the renderer; it loads the built dashboard.')],
  [RENDERER]: [engineImport, layerImport('cli', 'The renderer never imports the CLI.'), layerImport('shell', 'The renderer never imports the shell; it reaches it through the preload API.'), electronPackage('The renderer'), nodeBuiltin('The renderer')],
  [SHARED]: [nodeBuiltin('shared/'), electronPackage('shared/'), { regex: '^\\.\\./(electron|renderer)/', message: 'shared/ is imported by every layer and imports none of them.' }],
}

const layerConfigs = []
for (const [files, patterns] of Object.entries(LAYER_RULES)) {
  layerConfigs.push({ files: [files], ignores: Object.values(ADAPTERS), rules: restrict([...patterns, ...adapterPatterns(null)]) })
}
// Adapters: their own library allowed, the layer's rules still in force.
for (const [lib, adapter] of Object.entries(ADAPTERS)) {
  const layer = Object.keys(LAYER_RULES).find((glob) => adapter.startsWith(glob.replace('/**', '/')))
  layerConfigs.push({ files: [adapter], rules: restrict([...(layer ? LAYER_RULES[layer] : []), ...adapterPatterns(adapter)]) })
  void lib
}
// Tests and benchmarks may reach any layer, but still only through the adapters.
layerConfigs.push({ files: ['test/**', 'bench/**'], ignores: Object.values(ADAPTERS), rules: restrict(adapterPatterns(null)) })

const ipcRestrictions = {
  files: ['**/*.ts', '**/*.cts', '**/*.tsx'],
  // Tests stand in for Electron's IPC pipe, so they build ipcMain/ipcRenderer mocks.
  ignores: [...IPC_MODULES, 'test/**'],
  rules: {
    'no-restricted-syntax': [
      'error',
      {
        selector: "ImportDeclaration[source.value='electron'] ImportSpecifier[imported.name=/^ipc(Main|Renderer)$/]",
        message: 'Raw ipcMain/ipcRenderer only in electron/shell/ipc-main.ts and preload.cts, which carry the typed contract.',
      },
      {
        selector: 'MemberExpression[property.name=/^ipc(Main|Renderer)$/]',
        message: 'Raw ipcMain/ipcRenderer only in electron/shell/ipc-main.ts and preload.cts, which carry the typed contract.',
      },
    ],
  },
}

const DOM_GLOBALS = ['window', 'document', 'navigator', 'location', 'localStorage', 'sessionStorage', 'HTMLElement', 'Element', 'File', 'Blob', 'fetch']

export default tseslint.config(
  { ignores: ['dist/**', 'dist-*/**', 'node_modules/**', 'release/**', 'test-artifacts/**', 'stubs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A test whose tool is missing must fail, never skip: see test/support/tools.ts.
      'no-restricted-properties': ['error', { object: 'test', property: 'skip' }, { object: 'it', property: 'skip' }],
    },
  },
  ...layerConfigs,
  ipcRestrictions,
  {
    files: [SHARED],
    rules: { 'no-restricted-globals': ['error', ...DOM_GLOBALS.map((name) => ({ name, message: 'shared/ runs in Node and in the browser: no DOM.' })), { name: 'process', message: 'shared/ runs in the browser too: no Node globals.' }, { name: 'Buffer', message: 'shared/ runs in the browser too: no Node globals.' }] },
  },
)
