/**
 * `swarmdrop service install`: the systemd unit it writes, key by key, through the real command
 * line (--print, and --root into a temp dir so nothing on this machine is touched). systemd's own
 * checks of the same file (systemd-analyze verify and security) are in
 * test/integration/service-unit.test.ts, since they need the systemd package.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execArg, systemdUnit } from '../../electron/cli/service-command.js'
import { runCli } from '../support/run-cli.js'
import { parseUnit } from '../support/systemd-unit.js'
import { tempDir } from '../support/temp.js'

function one(unit: Map<string, Map<string, string[]>>, section: string, key: string): string {
  const values = unit.get(section)?.get(key)
  assert.ok(values && values.length === 1, `[${section}] ${key} is set once: ${JSON.stringify(values)}`)
  return values[0] as string
}

const ENTRY = fileURLToPath(new URL('../../../bin/swarmdrop.js', import.meta.url))

test('the default unit: a dedicated user, the data dir in /var/lib/swarmdrop, restart on failure, the sandbox keys', async () => {
  const printed = await runCli(['service', 'install', '--print'])
  assert.equal(printed.code, 0, printed.stderr)
  const unit = parseUnit(printed.stdout)
  assert.deepEqual([...unit.keys()], ['Unit', 'Service', 'Install'])

  assert.equal(one(unit, 'Service', 'User'), 'swarmdrop')
  assert.equal(one(unit, 'Service', 'Group'), 'swarmdrop')
  assert.equal(one(unit, 'Service', 'ExecStart'), `${process.execPath} --openssl-legacy-provider ${ENTRY} serve --data-dir /var/lib/swarmdrop`, 'reverse DNS stays on by default')
  assert.equal(one(unit, 'Service', 'StateDirectory'), 'swarmdrop')
  assert.equal(one(unit, 'Service', 'StateDirectoryMode'), '0700')
  assert.equal(one(unit, 'Service', 'ReadWritePaths'), '/var/lib/swarmdrop')
  // serve exits 70 after a fatal error (engine/fatal.ts): on-failure restarts it; a usage error (2) would loop.
  assert.equal(one(unit, 'Service', 'Restart'), 'on-failure')
  assert.equal(one(unit, 'Service', 'RestartPreventExitStatus'), '2')
  assert.equal(one(unit, 'Service', 'Environment'), 'MALLOC_MMAP_THRESHOLD_=131072', "glibc returns freed piece buffers")
  const sandbox: Record<string, string> = {
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    PrivateDevices: 'yes',
    ProtectKernelTunables: 'yes',
    ProtectKernelModules: 'yes',
    ProtectControlGroups: 'yes',
    RestrictSUIDSGID: 'yes',
    CapabilityBoundingSet: '',
    AmbientCapabilities: '',
    SystemCallFilter: '@system-service',
    SystemCallErrorNumber: 'EPERM',
    UMask: '0077',
  }
  for (const [key, value] of Object.entries(sandbox)) assert.equal(one(unit, 'Service', key), value, key)
  // Node's JIT needs writable+executable memory: this key would stop the service at its first function.
  assert.equal(unit.get('Service')?.has('MemoryDenyWriteExecute'), false)
  assert.equal(unit.get('Service')?.has('DynamicUser'), false, 'a fixed user, so the data dir and its token keep their owner')
  assert.equal(one(unit, 'Unit', 'After'), 'network-online.target')
  assert.equal(one(unit, 'Install', 'WantedBy'), 'multi-user.target')
})

test('--user, --data-dir and --no-reverse-dns; --root writes the unit and the sysusers entry there', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const r = await runCli(['service', 'install', '--root', dir, '--user', 'deploy', '--data-dir', '/var/lib/swarmdrop/prod/', '--no-reverse-dns'])
    assert.equal(r.code, 0, r.stderr)
    const unitFile = path.join(dir, 'etc/systemd/system/swarmdrop.service')
    assert.match(r.stdout, new RegExp(`wrote ${unitFile}\\n`))
    assert.match(r.stdout, /systemctl enable --now swarmdrop/)
    const unit = parseUnit(await readFile(unitFile, 'utf8'))
    assert.equal(one(unit, 'Service', 'User'), 'deploy')
    assert.equal(one(unit, 'Service', 'ExecStart'), `${process.execPath} --openssl-legacy-provider ${ENTRY} serve --data-dir /var/lib/swarmdrop/prod --no-reverse-dns`)
    assert.equal(one(unit, 'Service', 'ReadWritePaths'), '/var/lib/swarmdrop/prod')
    assert.equal(one(unit, 'Service', 'StateDirectory'), 'swarmdrop/prod')
    assert.equal((await stat(unitFile)).mode & 0o777, 0o644)
    assert.equal(await readFile(path.join(dir, 'etc/sysusers.d/swarmdrop.conf'), 'utf8'), '# Swarmdrop: the user "swarmdrop serve" runs as (see swarmdrop.service).\nu deploy - "Swarmdrop publisher" /var/lib/swarmdrop/prod\n')

    // Outside /var/lib there is no StateDirectory (systemd would not create it there): the admin does.
    const srv = parseUnit(systemdUnit({ user: 'swarmdrop', dataDir: '/srv/swarmdrop', reverseDns: true, node: '/usr/bin/node', script: '/opt/swarmdrop/bin/swarmdrop.js' }))
    assert.equal(srv.get('Service')?.has('StateDirectory'), false)
    assert.equal(one(srv, 'Service', 'ReadWritePaths'), '/srv/swarmdrop')
  } finally {
    await cleanup()
  }
})

test('a wrong command line is a usage error (exit 2) and writes nothing', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    for (const [args, message] of [
      [['service'], /service takes one action: install/],
      [['service', 'install', '--user', 'root'], /--user root would run the service with every privilege/],
      [['service', 'install', '--user', 'Bad Name'], /is not a valid system user name/],
      [['service', 'install', '--data-dir', 'relative/dir'], /--data-dir must be an absolute path/],
      [['service', 'install', '--data-dir', '/var/lib/a b'], /--data-dir must be an absolute path/],
      [['service', 'install', '--data-dir', '/var/lib/%n'], /--data-dir must be an absolute path/],
    ] as const) {
      const r = await runCli([...args, '--root', dir])
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, message)
    }
    assert.deepEqual(await import('node:fs/promises').then((fs) => fs.readdir(dir)), [])
  } finally {
    await cleanup()
  }
})

test('ExecStart words: systemd\'s specifiers and variables stay literal, spaces are quoted', () => {
  assert.equal(execArg('/usr/bin/node'), '/usr/bin/node')
  assert.equal(execArg('/opt/My Apps/swarmdrop.js'), '"/opt/My Apps/swarmdrop.js"')
  assert.equal(execArg('/opt/50%/x'), '/opt/50%%/x')
  assert.equal(execArg('/opt/$HOME/x'), '"/opt/$$HOME/x"')
  assert.equal(execArg('/opt/a"b\\c'), '"/opt/a\\"b\\\\c"')
  assert.throws(() => execArg('/opt/a\nb'), /line break/)
})
