/**
 * Turning names from a URL into names on disk without ever leaving a folder: percent-decoding
 * happens once, and anything that could mean more than itself ("..", ".", "", NUL, either slash)
 * is refused rather than resolved. The dashboard files, browser uploads and the web seed all
 * go through here.
 */
import path from 'node:path'

/** One percent-encoded URL segment, decoded; null when it is not valid encoding. */
export function decodeSegment(raw: string): string | null {
  try {
    return decodeURIComponent(raw)
  } catch {
    return null
  }
}

/** One path component that cannot mean anything but itself on any OS. */
export function isPlainSegment(segment: string): boolean {
  return segment !== '' && segment !== '.' && segment !== '..' && !segment.includes('/') && !segment.includes('\\') && !segment.includes('\u0000')
}

/**
 * A URL path ("/a/b%20c") as a relative file path that cannot leave its folder, or null. Empty
 * segments (doubled slashes) are ignored; "/" alone names nothing, and callers map it themselves.
 */
export function safeRelativePath(urlPath: string): string | null {
  const parts: string[] = []
  for (const raw of urlPath.split('/')) {
    if (raw === '') continue
    const segment = decodeSegment(raw)
    if (segment === null || !isPlainSegment(segment)) return null
    parts.push(segment)
  }
  return parts.length === 0 ? null : parts.join(path.sep)
}
