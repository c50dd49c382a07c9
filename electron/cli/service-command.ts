/**
 * `swarmdrop service install`: runs `swarmdrop serve` as a systemd service on a Linux publisher,
 * under a dedicated system user, with the data in /var/lib/swarmdrop and the sandbox systemd
 * offers a network daemon that reads only what it publishes and writes only its data dir.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { SwarmdropError } from '../../shared/errors.js'
import { EXIT_FATAL } from '../engine/fatal.js'
import { NATIVE_RC4_NODE_FLAG } from '../engine/peer-encryption.js'
import { PRODUCT } from '../engine/product.js'
import { UsageError } from './cli-errors.js'

export const SERVICE_USAGE = `swarmdrop service install [--user NAME] [--data-dir DIR] [--no-reverse-dns] [--print] [--root DIR]

  Writes a systemd unit that runs "swarmdrop serve" at boot (/etc/systemd/system/swarmdrop.service)
  and a sysusers.d entry for its dedicated system user (/etc/sysusers.d/swarmdrop.conf), then
  creates the user and reloads systemd. Start it with: systemctl enable --now swarmdrop
    --user NAME       the system user it runs as (default swarmdrop; created if missing, never root)
    --data-dir DIR    its data dir (default /var/lib/swarmdrop), the only place it may write
    --no-reverse-dns  do not name the fleet's servers by reverse DNS (on by default)
    --print           print the unit instead of installing anything
    --root DIR        write the files under DIR instead of / (for packaging and tests); runs nothing`

export const DEFAULT_SERVICE_USER = 'swarmdrop'
export const DEFAULT_SERVICE_DATA_DIR = '/var/lib/swarmdrop'
/** Where a data dir under it can be a StateDirectory=, which systemd creates and hands to the user. */
const STATE_ROOT = '/var/lib/'
const UNIT_PATH = 'etc/systemd/system/swarmdrop.service'
const SYSUSERS_PATH = 'etc/sysusers.d/swarmdrop.conf'
/** Exit code of a wrong command line (cli-errors.ts): restarting will not fix it. */
const EXIT_USAGE_CODE = 2

export interface UnitOptions {
  user: string
  dataDir: string
  reverseDns: boolean
  /** The Node binary and the swarmdrop entry script, absolute. */
  node: string
  script: string
}

/** The unit file's text. Pure, so tests can read every key. */
export function systemdUnit(o: UnitOptions): string {
  // OpenSSL's RC4 for encrypted peer wires, not bittorrent-protocol's JavaScript one (peer-encryption.ts).
  const exec = [o.node, NATIVE_RC4_NODE_FLAG, o.script, 'serve', '--data-dir', o.dataDir, ...(o.reverseDns ? [] : ['--no-reverse-dns'])].map(execArg).join(' ')
  const stateDirectory = o.dataDir.startsWith(STATE_ROOT) ? o.dataDir.slice(STATE_ROOT.length) : null
  return `# ${PRODUCT.name} ${PRODUCT.version}: written by "swarmdrop service install".
# Keep local changes in a drop-in ("systemctl edit swarmdrop"); a re-install rewrites this file.
# The user comes from /etc/sysusers.d/swarmdrop.conf (systemd-sysusers creates it).
[Unit]
Description=${PRODUCT.name} publisher: tracker, RSS feed and seeder for the fleet
# The LAN address goes into every feed and .torrent URL: wait until the network is up.
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=${o.user}
Group=${o.user}
ExecStart=${exec}
SyslogIdentifier=swarmdrop
# serve exits ${EXIT_FATAL} (EX_SOFTWARE) after a fatal error, with its lock released: start it again.
# A wrong command line (exit ${EXIT_USAGE_CODE}) will not fix itself.
Restart=on-failure
RestartSec=5
RestartPreventExitStatus=${EXIT_USAGE_CODE}
# On SIGTERM it announces "stopped" to the swarms and closes its ports before exiting.
TimeoutStopSec=30
# Many servers' peer connections, and up to 128 published files held open.
LimitNOFILE=65536
# Pieces of 128 KiB to 1 MiB (releases of 256 MiB to 2 GiB) go to mmap and back to the system
# when freed: glibc's own threshold rises with use and leaves them in a heap that never shrinks.
# Bigger pieces have mappings of their own either way. Memory bench, 1 GiB in 512 KiB pieces:
# median RSS 211 and 218 MiB against 249 and 228 without, at the same rate.
Environment=MALLOC_MMAP_THRESHOLD_=131072
UMask=0077
${stateDirectory ? `# Created at start, owned by ${o.user}, private to it.\nStateDirectory=${stateDirectory}\nStateDirectoryMode=0700\n` : `# Outside ${STATE_ROOT}: create ${o.dataDir} yourself, owned by ${o.user}, mode 0700.\n`}
# Sandbox. It reads the files it publishes (they must be readable by ${o.user}, and outside
# /home, /root and /run/user, which ProtectHome hides) and writes only its data dir.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${o.dataDir}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
# IPv4/IPv6 for the LAN, netlink to list the interfaces (the LAN address), unix for the resolver.
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
PrivateMounts=yes
RemoveIPC=yes
SystemCallArchitectures=native
# systemd's list for ordinary services; anything else fails with EPERM rather than killing the
# process (libuv tries io_uring first and falls back to its thread pool).
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
# The default ports (7070, 6881) need no privilege; for a port below 1024 add
# AmbientCapabilities=CAP_NET_BIND_SERVICE and CapabilityBoundingSet=CAP_NET_BIND_SERVICE in a drop-in.
CapabilityBoundingSet=
AmbientCapabilities=
# Not MemoryDenyWriteExecute: V8 compiles JavaScript to machine code at run time.

[Install]
WantedBy=multi-user.target
`
}

/** The sysusers.d line: a system user (and group) with no login shell, home in the data dir. */
export function sysusersEntry(user: string, dataDir: string): string {
  return `# ${PRODUCT.name}: the user "swarmdrop serve" runs as (see swarmdrop.service).\nu ${user} - "${PRODUCT.name} publisher" ${dataDir}\n`
}

export async function runService(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      'data-dir': { type: 'string' },
      'no-reverse-dns': { type: 'boolean' },
      print: { type: 'boolean' },
      root: { type: 'string' },
    },
  })
  const [action, ...extra] = positionals
  if (action !== 'install' || extra.length > 0) throw new UsageError('service takes one action: install')
  const user = values.user ?? DEFAULT_SERVICE_USER
  // A system user name (useradd's rule); root would undo the whole sandbox.
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new UsageError(`--user "${user}" is not a valid system user name`)
  if (user === 'root') throw new UsageError('--user root would run the service with every privilege: give it a user of its own')
  const dataDir = values['data-dir'] ?? DEFAULT_SERVICE_DATA_DIR
  // systemd splits path lists on spaces and expands %: keep the data dir a plain absolute path.
  if (!path.posix.isAbsolute(dataDir) || !/^[A-Za-z0-9_./-]+$/.test(dataDir) || dataDir.split('/').includes('..')) {
    throw new UsageError(`--data-dir must be an absolute path of letters, digits, "_", "-", "." and "/", got "${dataDir}"`)
  }
  const options: UnitOptions = {
    user,
    dataDir: path.posix.normalize(dataDir).replace(/(.)\/$/, '$1'),
    reverseDns: values['no-reverse-dns'] !== true,
    node: process.execPath,
    script: fileURLToPath(new URL('../../../bin/swarmdrop.js', import.meta.url)),
  }
  const unit = systemdUnit(options)
  for (const p of [options.node, options.script]) {
    if (/^\/(home|root|run\/user)(\/|$)/.test(p)) process.stderr.write(`swarmdrop: warning: ${p} is in a home directory, which ProtectHome hides from the service: install swarmdrop and Node elsewhere (e.g. /opt or /usr/local)\n`)
  }
  if (values.print) {
    process.stdout.write(unit)
    return 0
  }

  const root = path.resolve(values.root ?? '/')
  const real = values.root === undefined
  if (real && process.getuid?.() !== 0) throw new SwarmdropError('INVALID_ARGUMENT', 'installing a systemd service needs root: run it with sudo, or use --print to see the unit')
  const unitFile = path.join(root, UNIT_PATH)
  const sysusersFile = path.join(root, SYSUSERS_PATH)
  await mkdir(path.dirname(unitFile), { recursive: true })
  await mkdir(path.dirname(sysusersFile), { recursive: true })
  await writeFile(unitFile, unit, { mode: 0o644 })
  await writeFile(sysusersFile, sysusersEntry(options.user, options.dataDir), { mode: 0o644 })
  process.stdout.write(`wrote ${unitFile}\nwrote ${sysusersFile}\n`)
  if (real) {
    // Create the user now (so the data dir can be handed to it), then make systemd read the unit.
    run('systemd-sysusers', [sysusersFile])
    run('systemctl', ['daemon-reload'])
  }
  process.stdout.write(
    `Next: systemctl enable --now swarmdrop   (logs: journalctl -u swarmdrop)\n` +
      `Publish as its user: sudo -u ${options.user} swarmdrop publish <path> --data-dir ${options.dataDir}\n`,
  )
  return 0
}

/** Runs a system tool; a failure is an error naming the tool and what it said. */
function run(tool: string, args: string[]): void {
  const found = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => path.join(d, tool)).find((p) => existsSync(p))
  if (!found) throw new SwarmdropError('INVALID_ARGUMENT', `${tool} was not found: is this a systemd machine? The unit is written; run "${tool} ${args.join(' ')}" where systemd is.`)
  const r = spawnSync(found, args, { encoding: 'utf8' })
  if (r.status !== 0) throw new SwarmdropError('INTERNAL', `${tool} ${args.join(' ')} failed: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`)
}

/**
 * One ExecStart= word: plain when it is safe as is, else double-quoted. systemd expands "%"
 * specifiers and "$" variables in ExecStart, so both are doubled to stay literal.
 */
export function execArg(word: string): string {
  if (/[\n\r\0]/.test(word)) throw new UsageError(`a path in the service's command line has a line break: ${JSON.stringify(word)}`)
  const literal = word.replace(/%/g, '%%').replace(/\$/g, '$$$$')
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? literal : `"${literal.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}
