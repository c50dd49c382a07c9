/**
 * Piece availability among the connected peers, one cell per bucket of pieces. An empty cell is a
 * part only the publisher has: the fleet still depends on it for those pieces.
 */
export function AvailabilityBar({ cells }: { cells: number[] }) {
  const missing = cells.filter((c) => c === 0).length
  const rarest = cells.length > 0 ? Math.min(...cells) : 0
  const most = Math.max(1, ...cells)
  const label =
    cells.length === 0
      ? 'No peers connected yet'
      : missing > 0
        ? `${missing} of ${cells.length} parts are only on the publisher`
        : `Every part is on at least ${rarest} peer${rarest === 1 ? '' : 's'}`
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
