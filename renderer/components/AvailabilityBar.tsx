/**
 * Piece availability among the connected peers. Each cell is a part of the release (one piece, or a
 * run of neighbouring pieces once there are more pieces than cells) and shows how many peers hold
 * its rarest piece, so an empty cell is a part the fleet cannot finish without the publisher.
 */
export function AvailabilityBar({ cells, pieceCount }: { cells: number[]; pieceCount: number }) {
  const missing = cells.filter((c) => c === 0).length
  const rarest = cells.length > 0 ? Math.min(...cells) : 0
  const most = Math.max(1, ...cells)
  const label = caption(cells.length, pieceCount, missing, rarest)
  return (
    <figure className="availability">
      <svg viewBox={`0 0 ${Math.max(1, cells.length)} 1`} preserveAspectRatio="none" role="img" aria-label={`Piece availability: ${label}`}>
        {cells.map((count, i) => (
          <rect key={i} x={i} y={0} width={1.02} height={1} className={count === 0 ? 'cell-missing' : 'cell-have'} fillOpacity={count === 0 ? 1 : 0.35 + 0.65 * (count / most)} />
        ))}
      </svg>
      <figcaption>{label}</figcaption>
    </figure>
  )
}

/**
 * Says exactly what the cells mean. When a cell spans several pieces, an empty one only proves that
 * one of its pieces is on the publisher alone, not all of them, and the sentence must not claim more.
 */
function caption(cellCount: number, pieceCount: number, missing: number, rarest: number): string {
  if (cellCount === 0) return 'No peers connected yet'
  const perPiece = cellCount >= pieceCount
  if (missing === 0) return `Every piece is on at least ${rarest} peer${rarest === 1 ? '' : 's'}`
  const one = missing === 1
  if (perPiece) return `${missing} of ${cellCount} piece${cellCount === 1 ? '' : 's'} ${one ? 'is' : 'are'} only on the publisher`
  // Buckets differ by at most one piece; the larger size is the honest bound.
  const perCell = Math.ceil(pieceCount / cellCount)
  return `${missing} of ${cellCount} parts (up to ${perCell} pieces each) ${one ? 'includes' : 'include'} at least one piece only on the publisher`
}
