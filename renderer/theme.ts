/**
 * Light, dark or follow the system. The choice lives in localStorage and on <html data-theme>;
 * the stylesheet does the rest (prefers-color-scheme when the choice is "system").
 */
import { useCallback, useEffect, useState } from 'react'

export type ThemeChoice = 'system' | 'light' | 'dark'
const KEY = 'swarmdrop.theme'
const ORDER: ThemeChoice[] = ['system', 'light', 'dark']

function stored(): ThemeChoice {
  try {
    const value = globalThis.localStorage?.getItem(KEY)
    return value === 'light' || value === 'dark' ? value : 'system'
  } catch {
    return 'system'
  }
}

export function useTheme(): { theme: ThemeChoice; next: () => void } {
  const [theme, setTheme] = useState<ThemeChoice>(stored)
  useEffect(() => {
    document.documentElement.dataset.theme = theme
    try {
      globalThis.localStorage?.setItem(KEY, theme)
    } catch {
      // Storage can be disabled; the theme still applies for this session.
    }
  }, [theme])
  const next = useCallback(() => setTheme((t) => ORDER[(ORDER.indexOf(t) + 1) % ORDER.length] ?? 'system'), [])
  return { theme, next }
}
