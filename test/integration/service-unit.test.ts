/**
 * The unit `swarmdrop service install` writes, checked by systemd's own tools (offline: systemd
 * need not be running, and nothing is installed on this machine): `systemd-analyze verify` reads
 * it as systemd would and must have nothing to say (an unknown or misspelt key is a warning there,
 * not an exit code), `systemd-analyze security --offline` rates its sandbox, and
 * `systemd-sysusers --dry-run` accepts the user entry.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { runCli, runProcess } from '../support/run-cli.js'
import { tempDir } from '../support/temp.js'
import { toolPath } from '../support/tools.js'

test('systemd-analyze verify and security, and systemd-sysusers, accept what service install writes', async () => {
  const analyze = toolPath('systemd-analyze')
  const sysusers = toolPath('systemd-sysusers')
  const { dir, cleanup } = await tempDir()
  try {
    for (const flags of [[], ['--user', 'deploy', '--data-dir', '/var/lib/swarmdrop/prod', '--no-reverse-dns'], ['--data-dir', '/srv/swarmdrop']]) {
      const root = path.join(dir, flags.join('_') || 'default')
      const r = await runCli(['service', 'install', '--root', root, ...flags])
      assert.equal(r.code, 0, r.stderr)
      const unitFile = path.join(root, 'etc/systemd/system/swarmdrop.service')

      const verified = await runProcess(analyze, ['verify', unitFile])
      assert.equal(verified.code, 0, verified.stderr)
      assert.equal(`${verified.stdout}${verified.stderr}`.trim(), '', `systemd-analyze verify ${flags.join(' ')} has warnings`)

      const security = await runProcess(analyze, ['security', '--offline=true', '--no-pager', unitFile])
      const exposure = /Overall exposure level for swarmdrop\.service: (\d+\.\d+) (\w+)/.exec(security.stdout)
      assert.ok(exposure, security.stdout + security.stderr)
      // 0 (locked down) .. 10 (unprotected); a network daemon that must reach the LAN cannot reach 0.
      assert.ok(Number(exposure[1]) <= 2.0, `exposure ${exposure[1]} ${exposure[2]}:\n${security.stdout}`)
      for (const key of ['ProtectSystem=', 'ProtectHome=', 'NoNewPrivileges=', 'PrivateTmp=']) {
        assert.match(security.stdout, new RegExp(`✓ ${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), `${key} counts as set`)
      }

      const users = await runProcess(sysusers, [`--root=${root}`, '--dry-run', path.join(root, 'etc/sysusers.d/swarmdrop.conf')])
      assert.equal(users.code, 0, users.stderr)
      assert.match(`${users.stdout}${users.stderr}`, new RegExp(`Creating user '${flags.includes('deploy') ? 'deploy' : 'swarmdrop'}' \\(Swarmdrop publisher\\)`))
    }

    // The check is live: a misspelt key is reported (as a warning, with exit 0: hence the empty-output rule above).
    const unitFile = path.join(dir, 'default/etc/systemd/system/swarmdrop.service')
    const typo = path.join(dir, 'typo.service')
    await writeFile(typo, (await readFile(unitFile, 'utf8')).replace('ProtectSystem=strict', 'ProtectSystm=strict'))
    const bad = await runProcess(analyze, ['verify', typo])
    assert.match(bad.stderr, /Unknown key 'ProtectSystm'/)
  } finally {
    await cleanup()
  }
})
