/**
 * Windowing for long tables (the peers table, the fleet matrix): only the rows in view, plus a
 * few either side, are rendered, so a thousand rows cost the same per update as twenty. Rows
 * have a fixed height, which makes the window a matter of arithmetic on the scroll position.
 */
import { useLayoutEffect, useRef, useState, type RefObject } from 'react'

const OVERSCAN = 6

export interface RowWindow<T> {
  /** Put on the scrolling body element. */
  body: RefObject<HTMLDivElement | null>
  /** Call from the body's onScroll with its scrollTop. */
  setScrollTop(top: number): void
  /** Index in `items` of the first row rendered. */
  first: number
  /** The rows to render. */
  rows: T[]
}

/** `fallbackViewport`: the height assumed before the first layout (and under jsdom, which has none). */
export function useRowWindow<T>(items: readonly T[], rowHeight: number, fallbackViewport: number): RowWindow<T> {
  const body = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [viewport, setViewport] = useState(fallbackViewport)
  useLayoutEffect(() => {
    const el = body.current
    if (!el) return
    if (el.clientHeight > 0) setViewport(el.clientHeight)
    if (typeof ResizeObserver === 'undefined') return
    const observer = new ResizeObserver(() => {
      if (el.clientHeight > 0) setViewport(el.clientHeight)
    })
    observer.observe(el)
    return () => observer.disconnect()
  }, [])
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN)
  const last = Math.min(items.length, Math.ceil((scrollTop + viewport) / rowHeight) + OVERSCAN)
  return { body, setScrollTop, first, rows: items.slice(first, last) }
}
