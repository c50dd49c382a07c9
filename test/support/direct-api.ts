/**
 * Test support: the core as an in-process SwarmdropApi, with thrown errors turned into values the
 * same way the IPC and WebSocket transports do. The contract test runs one suite against this and
 * against the WebSocket, so the transports cannot drift from the core.
 */
import type { CommandName, CommandRequest, CommandResult, CoreApi, EventName, Events, SwarmdropApi } from '../../shared/contract.js'
import { toErrorInfo } from '../../shared/errors.js'

export function directApi(core: CoreApi): SwarmdropApi {
  return {
    async call<K extends CommandName>(command: K, request: CommandRequest<K>): Promise<CommandResult<K>> {
      try {
        return { ok: true, value: await core.handle(command, request) }
      } catch (err) {
        return { ok: false, error: toErrorInfo(err) }
      }
    },
    on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
      return core.on(event, listener)
    },
  }
}
