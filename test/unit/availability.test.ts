/**
 * The availability bar's buckets: a cell is the minimum over its pieces, so one piece only the
 * publisher holds empties its cell however well its neighbours have spread. Averaging (the old
 * rule) showed a half-downloaded fleet as almost fully covered.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AVAILABILITY_CELLS, availabilityCells } from '../../shared/availability.js'

const zeros = (cells: number[]): number => cells.filter((c) => c === 0).length

describe('availabilityCells', () => {
  test('1000 pieces, one peer holding exactly the first half: exactly half the cells are 0', () => {
    const counts = Array.from({ length: 1000 }, (_, i) => (i < 500 ? 1 : 0))
    const cells = availabilityCells(counts)
    assert.equal(cells.length, AVAILABILITY_CELLS)
    assert.equal(AVAILABILITY_CELLS, 256)
    assert.deepEqual(cells.slice(0, 128), new Array<number>(128).fill(1))
    assert.deepEqual(cells.slice(128), new Array<number>(128).fill(0))
  })

  test('one missing piece inside an otherwise complete bucket empties that cell, and only it', () => {
    const counts = new Array<number>(1000).fill(3)
    counts[501] = 0 // pieces 500..502 make up cell 128
    const cells = availabilityCells(counts)
    assert.equal(zeros(cells), 1)
    assert.equal(cells[128], 0)
    assert.ok(cells.every((c, i) => i === 128 || c === 3))
  })

  test('a peer at 50 % with scattered pieces leaves every cell empty, not almost none', () => {
    // Rarest-first downloads fill pieces all over the file; averaging called each cell half there.
    const counts = Array.from({ length: 1000 }, (_, i) => i % 2)
    assert.equal(zeros(availabilityCells(counts)), AVAILABILITY_CELLS)
  })

  test('each cell is its rarest piece, so the smallest cell is the rarest piece of the release', () => {
    const counts = Array.from({ length: 5000 }, (_, i) => 2 + ((i * 7919) % 5))
    counts[4321] = 1
    const cells = availabilityCells(counts)
    assert.equal(Math.min(...cells), 1)
    assert.ok(cells.every((c) => Number.isInteger(c)), 'a minimum never yields a fraction of a peer')
  })

  test('no more pieces than cells: one cell per piece, unchanged, and a copy', () => {
    const counts = [0, 2, 1, 0, 5]
    const cells = availabilityCells(counts)
    assert.deepEqual(cells, counts)
    assert.notEqual(cells, counts, 'callers may keep mutating their counts')
    const exact = Array.from({ length: 256 }, (_, i) => i % 3)
    assert.deepEqual(availabilityCells(exact), exact)
    assert.deepEqual(availabilityCells([]), [])
  })

  for (const pieceCount of [257, 1000, 1023, 4096]) {
    test(`${pieceCount} pieces: every piece lands in exactly one cell, in order, buckets differing by at most one piece`, () => {
      const hits = new Array<number>(AVAILABILITY_CELLS).fill(0)
      let previous = 0
      for (let k = 0; k < pieceCount; k++) {
        const counts = new Array<number>(pieceCount).fill(1)
        counts[k] = 0
        const cells = availabilityCells(counts)
        assert.equal(cells.length, AVAILABILITY_CELLS)
        assert.equal(zeros(cells), 1, `piece ${k} is in exactly one cell`)
        const cell = cells.indexOf(0)
        assert.ok(cell === previous || cell === previous + 1, `piece ${k} went to cell ${cell} after cell ${previous}`)
        previous = cell
        hits[cell] = (hits[cell] ?? 0) + 1
      }
      assert.equal(previous, AVAILABILITY_CELLS - 1)
      const lo = Math.floor(pieceCount / AVAILABILITY_CELLS)
      assert.ok(hits.every((h) => h === lo || h === lo + 1), `bucket sizes ${Math.min(...hits)}..${Math.max(...hits)}`)
    })
  }

  test('a cell count other than a positive integer is refused', () => {
    assert.throws(() => availabilityCells([1, 2, 3], 0), RangeError)
    assert.throws(() => availabilityCells([1, 2, 3], 1.5), RangeError)
    assert.deepEqual(availabilityCells([4, 1, 3, 2], 2), [1, 2])
  })
})
