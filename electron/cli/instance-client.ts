/**
 * How `publish`, `status` and `retire` reach the running `serve` (or desktop app) of a data dir:
 * its admin port from instance.json, the per-install token, and the contract over the WebSocket.
 */
import WebSocket from 'ws'
import { connectWs, type WebSocketConstructor, type WsApi } from '../../shared/ws-client.js'
import type { CommandName, CommandRequest, CommandResponse } from '../../shared/contract.js'
import { SwarmdropError } from '../../shared/errors.js'
import { PROTOCOL_VERSION } from '../../shared/ws-protocol.js'
import { adminToken, readInstance, resolveDataDir } from '../engine/data-dir.js'

export interface InstanceConnection {
  api: WsApi
  dataDir: string
  /** Calls a command; a failure comes back as a thrown SwarmdropError with the core's message. */
  call<K extends CommandName>(command: K, request: CommandRequest<K>): Promise<CommandResponse<K>>
  close(): void
}

export async function connectInstance(dataDirFlag: string | undefined): Promise<InstanceConnection> {
  const dataDir = resolveDataDir(dataDirFlag)
  const instance = await readInstance(dataDir)
  const notRunning = (detail: string): SwarmdropError =>
    new SwarmdropError('NOT_RUNNING', `no Swarmdrop is running for ${dataDir}${detail}; start it with "swarmdrop serve${dataDirFlag ? ` --data-dir ${dataDir}` : ''}"`)
  if (!instance) throw notRunning('')
  if (instance.protocolVersion !== PROTOCOL_VERSION) {
    const theirs = instance.protocolVersion === null ? 'an older admin protocol' : `admin protocol ${instance.protocolVersion}`
    throw new SwarmdropError(
      'VERSION_MISMATCH',
      `the Swarmdrop running for ${dataDir} (pid ${instance.pid}) speaks ${theirs}, and this swarmdrop command speaks ${PROTOCOL_VERSION}; run the swarmdrop command that came with the running app, or restart the app with this version`,
    )
  }
  let api: WsApi
  try {
    api = await connectWs(`http://127.0.0.1:${instance.adminPort}`, await adminToken(dataDir), WebSocket as unknown as WebSocketConstructor)
  } catch (err) {
    throw notRunning(` (pid ${instance.pid} did not answer on port ${instance.adminPort}: ${(err as Error).message})`)
  }
  async function call<K extends CommandName>(command: K, request: CommandRequest<K>): Promise<CommandResponse<K>> {
    const result = await api.call(command, request)
    if (!result.ok) throw new SwarmdropError(result.error.code, result.error.message)
    return result.value
  }
  return { api, dataDir, call, close: () => api.close() }
}
