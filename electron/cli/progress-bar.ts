/** A one-line progress bar with rate and ETA for stderr; it draws only on a TTY. */
import { etaSeconds, formatBytes, formatDuration, formatRate } from '../../shared/format.js'

export class ProgressBar {
  private lastDraw = 0
  private readonly enabled: boolean

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = Boolean(stream.isTTY)
  }

  update(done: number, total: number, rate: number): void {
    if (!this.enabled) return
    const now = Date.now()
    if (now - this.lastDraw < 100 && done < total) return
    this.lastDraw = now
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 60))
    const frac = total > 0 ? Math.min(1, done / total) : 0
    const filled = Math.round(frac * width)
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled)
    const pct = `${(frac * 100).toFixed(0).padStart(3)}%`
    const eta = formatDuration(etaSeconds(done, total, rate))
    this.stream.write(`\r${this.label} ${bar} ${pct} ${formatBytes(done)}/${formatBytes(total)} ${formatRate(rate)} ETA ${eta}\x1b[K`)
  }

  done(): void {
    if (this.enabled) this.stream.write('\r\x1b[K')
  }
}
