/**
 * The fleet benchmark's pure pieces: the Kumar–Ross bound it judges rollouts by, the table it
 * prints, and the progress plot it draws from the fleet view's samples.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { cpuUse, describeCpuUse, describeLinkUse, describeStarts, judgedMs, kumarRossBound, linkUse, renderProgressSvg, renderRoundsTable, renderTable, type CpuSample, type CpuUse, type FleetOutcome, type LinkSample } from '../../bench/fleet-report.js'

const MIB = 2 ** 20

describe('kumarRossBound', () => {
  test('equal links everywhere: one copy over one link, whatever N (issue 11: 200 MiB at 95.9 Mbit/s is 17.5 s)', () => {
    const r = 95.9e6 / 8
    for (const servers of [1, 4, 8, 100]) {
      const t = kumarRossBound({ size: 200 * MIB, servers, publisherUp: r, serverUp: r, serverDown: r })
      assert.equal(t.toFixed(1), '17.5', `N=${servers}`)
    }
  })

  test('each of the three terms can be the one that binds', () => {
    // A slow publisher: it must send at least one copy.
    assert.equal(kumarRossBound({ size: 1000, servers: 100, publisherUp: 1, serverUp: 10, serverDown: 100 }), 1000)
    // A slow download: the slowest server must receive one copy.
    assert.equal(kumarRossBound({ size: 1000, servers: 2, publisherUp: 100, serverUp: 100, serverDown: 5 }), 200)
    // Slow server uploads and many servers: N copies through the total upload capacity.
    assert.equal(kumarRossBound({ size: 1000, servers: 100, publisherUp: 10, serverUp: 1, serverDown: 100 }), (100 * 1000) / (10 + 100))
  })

  test('nothing to send or nobody to send it to takes no time', () => {
    assert.equal(kumarRossBound({ size: 0, servers: 4, publisherUp: 1, serverUp: 1, serverDown: 1 }), 0)
    assert.equal(kumarRossBound({ size: 1000, servers: 0, publisherUp: 1, serverUp: 1, serverDown: 1 }), 0)
  })
})

const outcome = (over: Partial<FleetOutcome>): FleetOutcome => ({
  fleet: '4 × aria2',
  servers: 4,
  fleetViewMs: 20_300,
  clientsMs: 19_800,
  boundMs: 17_500,
  copiesEngine: 1.08,
  copiesVeth: 1.09,
  httpMs: 70_035,
  ...over,
})

describe('renderTable', () => {
  test('a row: times in seconds, × bound from both times, × HTTP from the fleet view time', () => {
    const lines = renderTable([outcome({})]).split('\n')
    assert.equal(lines.length, 3)
    assert.match(lines[0] ?? '', /^\| fleet \| all complete \(fleet view\) \|.*\| vs HTTP \| handed out after \|$/)
    assert.equal(lines[2], '| 4 × aria2 | 20.3 s | 19.8 s | 1.16 | 1.13 | 1.08 | 1.09 | 70.0 s | 3.45× | - |')
    assert.match(renderTable([outcome({ handOutMs: 640 })]).split('\n')[2] ?? '', /\| 0\.6 s \|$/, "the bench's own delay before the clients hear of it")
  })

  test('when the fleet view missed a completion the clients\' time is used, and an unfinished fleet has no ratios', () => {
    const missed = outcome({ fleetViewMs: null, clientsMs: 35_000 })
    assert.equal(judgedMs(missed), 35_000)
    const [, , row1, row2] = renderTable([missed, outcome({ fleetViewMs: null, clientsMs: null, copiesEngine: null, httpMs: null })]).split('\n')
    assert.equal(row1, '| 4 × aria2 | - | 35.0 s | 2.00 | 2.00 | 1.08 | 1.09 | 70.0 s | 2.00× | - |')
    assert.equal(row2, '| 4 × aria2 | - | - | - | - | - | 1.09 | - | - | - |')
  })
})

describe('renderRoundsTable', () => {
  test('one row per fleet: the median with the range, copies and × HTTP the same way', () => {
    const lines = renderRoundsTable([
      outcome({ fleetViewMs: 21_000, copiesEngine: 1.02 }),
      outcome({ fleetViewMs: 17_500, copiesEngine: 1.01, httpMs: 70_000 }),
      outcome({ fleetViewMs: 24_500, copiesEngine: 1.06, httpMs: 49_000 }),
      outcome({ fleet: 'mixed, N=4', fleetViewMs: 35_000, boundMs: 17_500, copiesEngine: 1.5, httpMs: null }),
    ]).split('\n')
    assert.equal(lines.length, 4)
    assert.match(lines[0] ?? '', /^\| fleet \| runs \| unfinished \| all complete, median \(range\) \|/)
    // 70 035 / 21 000 = 3.335 (printed 3.33), 70 000 / 17 500 = 4.00, 49 000 / 24 500 = 2.00.
    assert.equal(lines[2], '| 4 × aria2 | 3 | 0 | 21.0 s (17.5–24.5) | 1.20 (1.00–1.40) | 1.02 (1.01–1.06) | 3.33 (2.00–4.00)× |')
    assert.equal(lines[3], '| mixed, N=4 | 1 | 0 | 35.0 s | 2.00 | 1.50 | - |')
  })

  test('an even count takes the mean of the middle two; an unfinished round is counted, not averaged', () => {
    const lines = renderRoundsTable([
      outcome({ fleetViewMs: 20_000 }),
      outcome({ fleetViewMs: null, clientsMs: null, copiesEngine: 1.3 }),
      outcome({ fleetViewMs: 22_000 }),
    ]).split('\n')
    assert.equal(lines[2], '| 4 × aria2 | 3 | 1 | 21.0 s (20.0–22.0) | 1.20 (1.14–1.26) | 1.08 (1.08–1.30) | 3.34 (3.18–3.50)× |')
    assert.equal(renderRoundsTable([outcome({ fleetViewMs: null, clientsMs: null })]).split('\n')[2], '| 4 × aria2 | 1 | 1 | - | - | 1.08 | - |')
  })
})

describe('renderProgressSvg', () => {
  const svg = renderProgressSvg({
    title: 'mixed <N=2> & more',
    boundSeconds: 17.5,
    series: [
      { label: '10.77.0.11 qBittorrent', points: [[0, 0], [10, 0.5], [21, 1]] },
      { label: '10.77.0.12 rTorrent & co', points: [[0, 0], [30, 1]] },
      { label: '10.77.0.13 never started', points: [] },
    ],
  })

  test('one line per server with points, a legend entry per server, text escaped', () => {
    assert.equal(svg.match(/<polyline /g)?.length, 2)
    assert.ok(svg.includes('10.77.0.12 rTorrent &amp; co'))
    assert.ok(svg.includes('10.77.0.13 never started'))
    assert.ok(svg.includes('mixed &lt;N=2&gt; &amp; more'))
    assert.ok(!/<[^>]*<[^>]*>/.test(svg.replace(/<text[^>]*>[^<]*<\/text>/g, '')), 'no markup inside markup')
  })

  test('the axis spans the slowest server, and every point lies inside the plot area', () => {
    assert.ok(svg.includes('>30</text>'), 'a tick at 30 s, where the last server finished')
    const viewBox = /viewBox="0 0 (\d+) (\d+)"/.exec(svg)
    const [w, h] = [Number(viewBox?.[1]), Number(viewBox?.[2])]
    for (const m of svg.matchAll(/points="([^"]+)"/g)) {
      for (const pair of (m[1] ?? '').split(' ')) {
        const [x, y] = pair.split(',').map(Number)
        assert.ok((x ?? -1) >= 0 && (x ?? w + 1) <= w && (y ?? -1) >= 0 && (y ?? h + 1) <= h, `${pair} inside ${w}x${h}`)
      }
    }
  })

  test('the bound is a dashed vertical line at its time: between 0 s and the 30 s of the last server', () => {
    const bound = /<line x1="([\d.]+)" y1="(\d+)" x2="([\d.]+)" y2="(\d+)" stroke="#000" stroke-dasharray/.exec(svg)
    assert.ok(bound, 'a dashed bound line')
    const zero = Number(/<line x1="([\d.]+)"[^>]*stroke="#eee"/.exec(svg)?.[1])
    const thirty = Number(new RegExp(`<line x1="([\\d.]+)"[^>]*stroke="#eee"/>\\n<text[^>]*>30</text>`).exec(svg)?.[1])
    const x = Number(bound[1])
    assert.equal(bound[1], bound[3])
    assert.ok(Math.abs(x - (zero + ((thirty - zero) * 17.5) / 30)) < 0.2, `bound at x=${x}, 0 s at ${zero}, 30 s at ${thirty}`)
  })
})

describe('linkUse', () => {
  const RATES = { publisherUp: 1000, serverUp: 1000, serverDown: 1000 }
  // The publisher sends at the link rate from 1 s to 5 s; s1 takes 800/s from 1 s to 6 s and gives 500/s meanwhile; s2 takes 600/s from 2 s to 6 s.
  const at = (t: number): LinkSample => {
    const span = (from: number, to: number, rate: number): number => Math.max(0, Math.min(t, to) - from) * rate
    return {
      t,
      hosts: {
        pub: { up: span(1, 5, 1000) + 3 * t, down: 0 },
        s1: { up: span(1, 6, 500), down: span(1, 6, 800) },
        s2: { up: 0, down: span(2, 6, 600) },
      },
    }
  }
  const samples = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(at)

  test('each host over its own busy span, a trickle below a tenth of the link left out', () => {
    const u = linkUse(samples, 'pub', ['s1', 's2'], RATES)
    assert.deepEqual(u.publisherSpan, [1, 5])
    assert.ok(Math.abs((u.publisherUp ?? 0) - 1.003) < 1e-9, `publisher ${u.publisherUp}`)
    assert.ok(Math.abs((u.serversDown ?? 0) - 0.7) < 1e-9, `down ${u.serversDown}`)
    assert.equal(u.serversDownMin, 0.6)
    assert.ok(Math.abs((u.serversUp ?? 0) - 0.25) < 1e-9, `up ${u.serversUp}`)
    assert.match(describeLinkUse(u), /publisher's upload 100 % of the link from \+1\.0 s to \+5\.0 s; servers' downloads 70 % \(lowest 60 %\), their uploads meanwhile 25 %/)
  })

  test('no traffic, or no counters for a host: nothing to say, not zero', () => {
    const idle = linkUse([at(0), at(0.5)], 'pub', ['s1', 'missing'], RATES)
    assert.deepEqual(idle, { publisherUp: null, publisherSpan: null, serversDown: null, serversDownMin: null, serversUp: null })
  })
})

describe('describeStarts', () => {
  test("when the servers began, and each one's time from its own start against the bound", () => {
    const line = describeStarts(
      [
        { startedS: 0.62, doneS: 19.2 },
        { startedS: 0.98, doneS: 19.5 },
      ],
      17_300,
    )
    assert.equal(line, 'servers began +0.62–0.98 s after the publish; from its start each took 18.5–18.6 s (1.07 × bound)')
  })

  test('a server never seen starting is counted out, not taken for zero; none seen is said so', () => {
    assert.equal(describeStarts([{ startedS: 0.7, doneS: null }, { startedS: null, doneS: null }], 17_300), '1 of 2 servers began +0.70 s after the publish')
    assert.equal(describeStarts([{ startedS: null, doneS: 20 }], 17_300), "no server's start seen")
  })
})

test('CPU use over a rollout: busy and softirq shares of the span, and how much of it the CPUs were saturated', () => {
  // Two CPUs at 100 ticks a second, sampled every half second: 100 ticks per interval.
  const at = (t: number, busy: number, softirq: number, total = t * 200): CpuSample => ({ t, total, busy, softirq })
  const samples = [at(-0.5, 0, 0), at(0, 50, 5), at(0.5, 150, 25), at(1, 248, 45), at(1.5, 298, 50), at(2, 398, 70), at(9, 1000, 100)]
  const use = cpuUse(samples, 0, 2) as CpuUse
  assert.ok(use)
  assert.equal(use.busy, (398 - 50) / 400)
  assert.equal(use.softirq, (70 - 5) / 400)
  assert.equal(use.saturated, 3 / 4, 'intervals at 100, 98, 50 and 100 busy ticks of 100')
  assert.equal(cpuUse(samples, 20, 30), null, 'no samples in the span')
  assert.equal(cpuUse([at(0, 5, 0, 10), at(1, 5, 0, 10)], 0, 1), null, 'counters that did not move')
  assert.match(describeCpuUse(use, 2), /^2 CPUs 87 % busy over the rollout \(softirq 16 %\), at 95 % or more for 75 % of it$/)
  assert.equal(describeCpuUse(null, 2), 'CPU use not sampled')
})
