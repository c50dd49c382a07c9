/**
 * The upload limit for bytes that leave through HTTP (the web seed): one token bucket shared by
 * every response, so the limit is a total, not per download. The BitTorrent side is throttled by
 * webtorrent with the same setting.
 */
import { Transform } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'

/** Slices small enough that one response cannot take the whole second's budget at once. */
const SLICE = 16 * 1024

export class UploadBucket {
  private tokens = 0
  private last = Date.now()

  /** `rate`: bytes per second, read on every slice so a settings change applies at once; 0 = unlimited. */
  constructor(private readonly rate: () => number) {}

  get limited(): boolean {
    return this.rate() > 0
  }

  /** A pass-through stream that paces what flows through it to the shared rate. */
  stream(): Transform {
    const take = (n: number): Promise<void> => this.take(n)
    return new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        void (async () => {
          for (let offset = 0; offset < chunk.length; offset += SLICE) {
            const part = chunk.subarray(offset, offset + SLICE)
            await take(part.length)
            this.push(part)
          }
        })().then(() => callback(), callback)
      },
    })
  }

  private async take(n: number): Promise<void> {
    for (;;) {
      const rate = this.rate()
      if (rate <= 0) return
      const now = Date.now()
      // At most one second of burst: an idle minute does not buy a minute at full speed.
      this.tokens = Math.min(rate, this.tokens + ((now - this.last) * rate) / 1000)
      this.last = now
      if (this.tokens >= n || (n > rate && this.tokens >= rate)) {
        this.tokens -= n
        return
      }
      await sleep(Math.max(1, Math.ceil(((n - this.tokens) * 1000) / rate)))
    }
  }
}
