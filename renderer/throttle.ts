import { useEffect, useRef, useState } from 'react'

/**
 * The value, changing at most once per `ms`: a burst of updates shows its first value at once and
 * its latest one when the interval is up, never anything in between.
 */
export function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value)
  // The first render counts as a display: mounting with data and then updating at once would be two in a second.
  const lastShownAt = useRef(Date.now())
  useEffect(() => {
    if (Object.is(value, shown)) return
    const wait = lastShownAt.current + ms - Date.now()
    if (wait <= 0) {
      lastShownAt.current = Date.now()
      setShown(value)
      return
    }
    const timer = setTimeout(() => {
      lastShownAt.current = Date.now()
      setShown(value)
    }, wait)
    return () => clearTimeout(timer)
  }, [value, shown, ms])
  return shown
}
