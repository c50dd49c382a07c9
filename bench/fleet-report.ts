/**
 * The fleet benchmark's arithmetic and drawing, kept free of processes and namespaces so it can be
 * tested on its own: the Kumar–Ross bound, the results table, and the per-fleet progress plot.
 */
import type { CpuCounters } from './fleet-link-sampler.js'
import { median } from './measure.js'

/** Rates in bytes per second, size in bytes; the result in seconds. */
export interface BoundInput {
  size: number
  servers: number
  /** The publisher's upload. */
  publisherUp: number
  /** Each server's upload and download. */
  serverUp: number
  serverDown: number
}

/**
 * The least time any distribution scheme needs to get `size` bytes to every server (Kumar and
 * Ross, 2006): the publisher must send one copy, the slowest server must receive one, and all N
 * copies must cross the total upload capacity.
 */
export function kumarRossBound(b: BoundInput): number {
  if (b.size <= 0 || b.servers <= 0) return 0
  return Math.max(b.size / b.publisherUp, b.size / b.serverDown, (b.servers * b.size) / (b.publisherUp + b.servers * b.serverUp))
}

export interface FleetOutcome {
  fleet: string
  servers: number
  /** Publish to the last completion the fleet view saw (ms), or null if it never saw them all. */
  fleetViewMs: number | null
  /** Publish to the last completion the clients themselves reported (ms), or null. */
  clientsMs: number | null
  boundMs: number
  /** Publisher's upload per the engine (swarm uploaded), in copies of the release. */
  copiesEngine: number | null
  /** Publisher's veth tx bytes (frames, so with TCP/IP headers), in copies. */
  copiesVeth: number
  /** The HTTP fan-out of the same size to the same N hosts (ms), or null if not run. */
  httpMs: number | null
  /**
   * Publish to the moment the bench handed the release to the clients (ms): the bench's own
   * delay (the publish command's round trip), inside every time above; a server's poll is longer.
   */
  handOutMs?: number | null
  note?: string
}

/** The time a fleet is judged by: the fleet view's when it saw every completion, else the clients'. */
export function judgedMs(o: FleetOutcome): number | null {
  return o.fleetViewMs ?? o.clientsMs
}

const sec = (ms: number | null): string => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`)
const fixed = (v: number | null, digits = 2): string => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(digits))

/** A Markdown table, the shape of the one in issue 11 plus the cross-check columns. */
export function renderTable(rows: FleetOutcome[]): string {
  const head = ['fleet', 'all complete (fleet view)', 'clients done', '× bound', '× bound (clients)', 'copies sent (engine)', 'copies (veth tx)', 'HTTP fan-out', 'vs HTTP', 'handed out after']
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const o of rows) {
    const t = judgedMs(o)
    const speedup = t !== null && o.httpMs !== null && t > 0 ? `${(o.httpMs / t).toFixed(2)}×` : '-'
    const clientsX = o.clientsMs === null ? null : o.clientsMs / o.boundMs
    lines.push(`| ${[o.fleet, sec(o.fleetViewMs), sec(o.clientsMs), fixed(t === null ? null : t / o.boundMs), fixed(clientsX), fixed(o.copiesEngine), fixed(o.copiesVeth), sec(o.httpMs), speedup, sec(o.handOutMs ?? null)].join(' | ')} |`)
  }
  return lines.join('\n')
}

const spread = (values: number[], digits: number): string => {
  if (values.length === 0) return '-'
  const m = median(values)
  if (values.length === 1) return m.toFixed(digits)
  return `${m.toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`
}

/**
 * One row per fleet over repeated rounds: medians with the range, since one run of a fleet is
 * noisy (8 × qBittorrent took 19.3–24.3 s on one engine). A round that never finished counts in
 * "runs" but not in the medians, and shows in "unfinished".
 */
export function renderRoundsTable(rows: FleetOutcome[]): string {
  const head = ['fleet', 'runs', 'unfinished', 'all complete, median (range)', '× bound', 'copies sent (engine)', 'vs HTTP']
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  const byFleet = new Map<string, FleetOutcome[]>()
  for (const o of rows) byFleet.set(o.fleet, [...(byFleet.get(o.fleet) ?? []), o])
  for (const [fleet, runs] of byFleet) {
    const done = runs.filter((o) => judgedMs(o) !== null)
    const times = done.map((o) => (judgedMs(o) as number) / 1000)
    const bounds = done.map((o) => (judgedMs(o) as number) / o.boundMs)
    const copies = runs.flatMap((o) => (o.copiesEngine === null ? [] : [o.copiesEngine]))
    const speedups = done.flatMap((o) => (o.httpMs === null ? [] : [o.httpMs / (judgedMs(o) as number)]))
    const timeCell = times.length === 0 ? '-' : spread(times, 1).replace(/^([\d.]+)/, '$1 s')
    lines.push(`| ${[fleet, String(runs.length), String(runs.length - done.length), timeCell, spread(bounds, 2), spread(copies, 2), speedups.length === 0 ? '-' : `${spread(speedups, 2)}×`].join(' | ')} |`)
  }
  return lines.join('\n')
}

/** Every host's link counters (bytes so far) at one moment, `t` seconds after publishing. */
export interface LinkSample {
  t: number
  hosts: Record<string, { up: number; down: number }>
}

/**
 * How busy the links were: shares of the link rate measured in the same run, each over the span
 * its host was moving bytes. The counters include some headers the measured (payload) rate does
 * not, so a full link reads about 100 %, a little over at times.
 */
export interface LinkUse {
  /** The publisher's upload, from its first busy interval to its last. */
  publisherUp: number | null
  /** That span, in seconds after publishing. */
  publisherSpan: [number, number] | null
  /** Each server's download over its own span, averaged; and the lowest. */
  serversDown: number | null
  serversDownMin: number | null
  /** Each server's upload over its download span, averaged: what it gave while it was taking. */
  serversUp: number | null
}

/** An interval counts as busy above this share of the link: a trickle of HAVEs and ACKs does not. */
const BUSY_SHARE = 0.1

/** A host's busy span by one counter: the first and last samples bounding an interval above BUSY_SHARE. */
function busySpan(samples: LinkSample[], host: string, dir: 'up' | 'down', rate: number): [LinkSample, LinkSample] | null {
  let first: LinkSample | null = null
  let last: LinkSample | null = null
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1] as LinkSample
    const b = samples[i] as LinkSample
    const from = a.hosts[host]?.[dir]
    const to = b.hosts[host]?.[dir]
    if (from === undefined || to === undefined || b.t <= a.t) continue
    if ((to - from) / (b.t - a.t) > BUSY_SHARE * rate) {
      first ??= a
      last = b
    }
  }
  return first && last ? [first, last] : null
}

function share(a: LinkSample, b: LinkSample, host: string, dir: 'up' | 'down', rate: number): number | null {
  const from = a.hosts[host]?.[dir]
  const to = b.hosts[host]?.[dir]
  if (from === undefined || to === undefined || b.t <= a.t) return null
  return (to - from) / (b.t - a.t) / rate
}

const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length)

/**
 * Where a rollout's time went. A publisher busy near the link rate from start to finish has done all it
 * can; servers whose downloads ran below it then lost the rest to their own exchange.
 */
export function linkUse(samples: LinkSample[], publisher: string, servers: string[], rates: Pick<BoundInput, 'publisherUp' | 'serverUp' | 'serverDown'>): LinkUse {
  const pub = busySpan(samples, publisher, 'up', rates.publisherUp)
  const down: number[] = []
  const up: number[] = []
  for (const s of servers) {
    const span = busySpan(samples, s, 'down', rates.serverDown)
    if (!span) continue
    const d = share(span[0], span[1], s, 'down', rates.serverDown)
    const u = share(span[0], span[1], s, 'up', rates.serverUp)
    if (d !== null) down.push(d)
    if (u !== null) up.push(u)
  }
  return {
    publisherUp: pub ? share(pub[0], pub[1], publisher, 'up', rates.publisherUp) : null,
    publisherSpan: pub ? [pub[0].t, pub[1].t] : null,
    serversDown: mean(down),
    serversDownMin: down.length === 0 ? null : Math.min(...down),
    serversUp: mean(up),
  }
}

const pct = (x: number | null): string => (x === null ? '-' : `${Math.round(100 * x)} %`)

/** One line for the log: "publisher's upload 96 % of the link from +0.6 s to +18.2 s; servers' downloads 89 % (lowest 86 %), ...". */
export function describeLinkUse(u: LinkUse): string {
  const span = u.publisherSpan ? ` from +${u.publisherSpan[0].toFixed(1)} s to +${u.publisherSpan[1].toFixed(1)} s` : ''
  return `publisher's upload ${pct(u.publisherUp)} of the link${span}; servers' downloads ${pct(u.serversDown)} (lowest ${pct(u.serversDownMin)}), their uploads meanwhile ${pct(u.serversUp)}`
}

/** The machine's CPU time counters at one moment of a rollout. */
export interface CpuSample extends CpuCounters {
  /** Seconds after publishing. */
  t: number
}

/** How busy the machine's CPUs were over a span of a rollout: every client, the publisher and the kernel's forwarding share them. */
export interface CpuUse {
  /** Busy share of all CPUs over the span. */
  busy: number
  /** Of all CPU time: softirq (packet forwarding through the veths and bridge, tc). */
  softirq: number
  /** Share of the span's sampling intervals at or above SATURATED. */
  saturated: number
}

/** An interval this busy leaves a process that wants the CPU waiting: 2 cores, 10 processes. */
const SATURATED = 0.95

/** CPU use between `from` and `to` seconds after publishing; null without two samples in it. */
export function cpuUse(samples: CpuSample[], from: number, to: number): CpuUse | null {
  const inSpan = samples.filter((s) => s.t >= from && s.t <= to)
  const first = inSpan[0]
  const last = inSpan.at(-1)
  if (!first || !last || last.total <= first.total) return null
  let intervals = 0
  let saturated = 0
  for (let i = 1; i < inSpan.length; i++) {
    const a = inSpan[i - 1] as CpuSample
    const b = inSpan[i] as CpuSample
    if (b.total <= a.total) continue
    intervals++
    if ((b.busy - a.busy) / (b.total - a.total) >= SATURATED) saturated++
  }
  const total = last.total - first.total
  return { busy: (last.busy - first.busy) / total, softirq: (last.softirq - first.softirq) / total, saturated: intervals === 0 ? 0 : saturated / intervals }
}

/** One line for the log: "CPUs 93 % busy (softirq 21 %), at 95 % or more for 70 % of the rollout". */
export function describeCpuUse(u: CpuUse | null, cpus: number): string {
  if (!u) return 'CPU use not sampled'
  return `${cpus} CPUs ${pct(u.busy)} busy over the rollout (softirq ${pct(u.softirq)}), at ${Math.round(100 * SATURATED)} % or more for ${pct(u.saturated)} of it`
}

/**
 * When the servers began (the fleet view's start of each download: its first announce with bytes
 * left, or its first piece) and how long each took from there. The bound counts from the publish,
 * but a client needs time of its own before it asks for anything: qBittorrent's new torrent waits
 * for libtorrent's auto-manage tick before it announces or takes a connection, 0.6-0.9 s.
 */
export function describeStarts(servers: { startedS: number | null; doneS: number | null }[], boundMs: number): string {
  const starts = servers.map((s) => s.startedS).filter((t): t is number => t !== null)
  if (starts.length === 0) return "no server's start seen"
  const range = (xs: number[], digits: number): string => {
    const lo = Math.min(...xs).toFixed(digits)
    const hi = Math.max(...xs).toFixed(digits)
    return lo === hi ? lo : `${lo}–${hi}`
  }
  const began = `${starts.length < servers.length ? `${starts.length} of ${servers.length} ` : ''}servers began +${range(starts, 2)} s after the publish`
  const took = servers.flatMap((s) => (s.startedS !== null && s.doneS !== null ? [s.doneS - s.startedS] : []))
  if (took.length === 0) return began
  return `${began}; from its start each took ${range(took, 1)} s (${range(took.map((t) => (t * 1000) / boundMs), 2)} × bound)`
}

export interface ProgressSeries {
  label: string
  /** [seconds since publish, fraction 0..1], in time order. */
  points: [number, number][]
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22']

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** A step that lands on a round number of seconds, about `ticks` of them across `span`. */
function tickStep(span: number, ticks: number): number {
  const raw = span / ticks
  const mag = 10 ** Math.floor(Math.log10(raw))
  return ([1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag) as number
}

/**
 * Each server's progress over time as one line, with the bound as a dashed vertical line: a
 * server's line ending right of the bound is time lost against the physical limit.
 */
export function renderProgressSvg(o: { title: string; series: ProgressSeries[]; boundSeconds: number; width?: number; height?: number }): string {
  const width = o.width ?? 800
  const height = o.height ?? 420
  const m = { left: 56, right: 190, top: 36, bottom: 44 }
  const plotW = width - m.left - m.right
  const plotH = height - m.top - m.bottom
  const lastT = Math.max(o.boundSeconds, ...o.series.flatMap((s) => s.points.map(([t]) => t)), 1)
  const step = tickStep(lastT, 8)
  const maxT = Math.ceil(lastT / step) * step
  const x = (t: number): number => m.left + (Math.max(0, t) / maxT) * plotW
  const y = (f: number): number => m.top + (1 - Math.min(1, Math.max(0, f))) * plotH
  const r = (v: number): string => v.toFixed(1)
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`)
  out.push(`<text x="${m.left}" y="22" font-size="14" font-weight="bold">${escapeXml(o.title)}</text>`)
  for (let t = 0; t <= maxT + 1e-9; t += step) {
    out.push(`<line x1="${r(x(t))}" y1="${m.top}" x2="${r(x(t))}" y2="${m.top + plotH}" stroke="#eee"/>`)
    out.push(`<text x="${r(x(t))}" y="${m.top + plotH + 16}" text-anchor="middle">${Number(t.toFixed(6))}</text>`)
  }
  for (let p = 0; p <= 100; p += 25) {
    out.push(`<line x1="${m.left}" y1="${r(y(p / 100))}" x2="${m.left + plotW}" y2="${r(y(p / 100))}" stroke="#eee"/>`)
    out.push(`<text x="${m.left - 6}" y="${r(y(p / 100) + 4)}" text-anchor="end">${p}%</text>`)
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`)
  out.push(`<text x="${m.left + plotW / 2}" y="${height - 8}" text-anchor="middle">seconds since publishing</text>`)
  const bx = r(x(o.boundSeconds))
  out.push(`<line x1="${bx}" y1="${m.top}" x2="${bx}" y2="${m.top + plotH}" stroke="#000" stroke-dasharray="5,4"/>`)
  out.push(`<text x="${r(x(o.boundSeconds) + 4)}" y="${m.top + plotH - 6}">bound ${o.boundSeconds.toFixed(1)} s</text>`)
  o.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length] as string
    if (s.points.length > 0) out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${s.points.map(([t, f]) => `${r(x(t))},${r(y(f))}`).join(' ')}"/>`)
    const ly = m.top + 10 + i * 18
    out.push(`<line x1="${m.left + plotW + 12}" y1="${ly}" x2="${m.left + plotW + 32}" y2="${ly}" stroke="${color}" stroke-width="3"/>`)
    out.push(`<text x="${m.left + plotW + 38}" y="${ly + 4}">${escapeXml(s.label)}</text>`)
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
