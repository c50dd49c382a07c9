import { readFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { name: string; version: string }

/** Name and version as shown in "created by", the CLI's --version and the peer id. */
export const PRODUCT = { name: 'Swarmdrop', version: pkg.version } as const
