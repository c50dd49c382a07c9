/**
 * Piece availability, squeezed into a bar of at most AVAILABILITY_CELLS cells. Pure and in shared/,
 * so the engine and the renderer's tests bucket pieces the same way.
 */

/** Enough resolution for a bar a few hundred pixels wide, small enough to send every snapshot. */
export const AVAILABILITY_CELLS = 256

/**
 * How many peers hold each cell's rarest piece. A cell takes the minimum over its bucket, never the
 * average or "any": the bar answers "can the fleet finish without the publisher?", and one piece
 * nobody else holds makes that answer no, however well the pieces around it have spread. So 0 means
 * at least one piece in the cell is only on the publisher, and the smallest cell is the true rarest
 * piece. With no more pieces than cells, each cell is one piece.
 *
 * `counts[i]` is how many peers hold piece i.
 */
export function availabilityCells(counts: readonly number[], cells: number = AVAILABILITY_CELLS): number[] {
  if (!Number.isInteger(cells) || cells < 1) throw new RangeError(`cells must be a positive integer, got ${cells}`)
  if (counts.length <= cells) return [...counts]
  const out: number[] = []
  for (let c = 0; c < cells; c++) {
    const from = bucketStart(c, counts.length, cells)
    const to = bucketStart(c + 1, counts.length, cells)
    // counts.length > cells, so every bucket has at least one piece and Infinity never escapes.
    let min = Infinity
    for (let i = from; i < to; i++) min = Math.min(min, counts[i] ?? 0)
    out.push(min)
  }
  return out
}

/** First piece of cell `cell` when `pieceCount` pieces are spread over `cells` cells. */
function bucketStart(cell: number, pieceCount: number, cells: number): number {
  return Math.floor((cell * pieceCount) / cells)
}
