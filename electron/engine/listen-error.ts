/**
 * What a failed listen means to a user, for every socket Swarmdrop binds (HTTP, UDP tracker,
 * peers, admin): which port, which protocol, and what to do. One mapping, so the same cause
 * always reads the same way.
 */
import { SwarmdropError } from '../../shared/errors.js'

export interface ListenTarget {
  /** How the user knows this port: "HTTP port", "UDP port", "The peer port". */
  label: string
  proto: 'TCP' | 'UDP'
  host: string
  port: number
  /** The command-line flag that moves it, if there is one. */
  flag?: string
}

export function listenError(err: NodeJS.ErrnoException, target: ListenTarget): SwarmdropError {
  const { label, proto, host, port, flag } = target
  const pick = flag ? `pick another port with ${flag}` : 'pick another port'
  switch (err.code) {
    case 'EADDRINUSE':
      return new SwarmdropError('PORT_IN_USE', `${label} ${port} is already in use by another program (${proto}). Stop it or ${pick}.`, { cause: err })
    case 'EACCES':
      return new SwarmdropError('PORT_IN_USE', `${label} ${port} (${proto}) needs administrator rights on this system. ${flag ? `Pick a port above 1023 with ${flag}` : 'Pick a port above 1023'}.`, { cause: err })
    case 'EADDRNOTAVAIL':
      return new SwarmdropError('INVALID_ARGUMENT', `Cannot listen on ${host}:${port} (${proto}): ${host} is not an address of this machine. Use one of its addresses.`, { cause: err })
    default:
      return new SwarmdropError('INTERNAL', `Cannot listen on ${host}:${port} (${proto}) for the ${label.replace(/^The /, '').toLowerCase()}: ${err.message}`, { cause: err })
  }
}
