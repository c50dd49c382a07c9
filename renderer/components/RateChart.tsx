import type { RateSample } from '../store.js'
import { formatRate } from '../../shared/format.js'

const WIDTH = 600
const HEIGHT = 140

/** Rounds the axis top up to 1, 2 or 5 × 10^n of a binary unit (KiB/s, MiB/s…): a readable, steady label. */
function niceMax(value: number): number {
  if (value <= 1024) return 1024
  const unit = Math.pow(1024, Math.floor(Math.log(value) / Math.log(1024)))
  const inUnit = value / unit
  const exp = Math.pow(10, Math.floor(Math.log10(inUnit)))
  for (const step of [1, 2, 5, 10]) if (inUnit <= step * exp) return step * exp * unit
  return 10 * exp * unit
}

function linePoints(samples: RateSample[], pick: (s: RateSample) => number, start: number, span: number, max: number): string {
  return samples
    .map((s) => `${(((s.at - start) / span) * WIDTH).toFixed(1)},${(HEIGHT - (pick(s) / max) * HEIGHT).toFixed(1)}`)
    .join(' ')
}

/** Upload and download rate over the last few minutes, one sample per snapshot. */
export function RateChart({ samples, seconds = 300 }: { samples: RateSample[]; seconds?: number }) {
  const last = samples[samples.length - 1]
  const end = last?.at ?? 0
  const span = seconds * 1000
  const start = end - span
  const visible = samples.filter((s) => s.at >= start)
  const max = niceMax(Math.max(0, ...visible.map((s) => Math.max(s.up, s.down))))
  return (
    <figure className="rate-chart">
      <figcaption>
        <span className="legend up">Upload {last ? formatRate(last.up) : '–'}</span>
        <span className="legend down">Download {last ? formatRate(last.down) : '–'}</span>
      </figcaption>
      <div className="chart-frame">
        <span className="chart-max">{formatRate(max)}</span>
        <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={`Upload and download rate over the last ${Math.round(seconds / 60)} minutes`}>
          <line className="grid" x1="0" x2={WIDTH} y1={HEIGHT / 2} y2={HEIGHT / 2} />
          {visible.length > 1 ? (
            <>
              <polyline className="series up" points={linePoints(visible, (s) => s.up, start, span, max)} />
              <polyline className="series down" points={linePoints(visible, (s) => s.down, start, span, max)} />
            </>
          ) : null}
        </svg>
        <div className="chart-axis">
          <span>{Math.round(seconds / 60)} min ago</span>
          <span>now</span>
        </div>
      </div>
    </figure>
  )
}
