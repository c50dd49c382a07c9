#!/usr/bin/env node
// Draws the tray icons and the app icons with nothing but node:zlib, so they can be regenerated
// on any machine without an image editor or an SVG library.
//   node assets/make-icons.mjs            writes them into assets/
//   node assets/make-icons.mjs --check    exits 1 naming every file that differs from what it
//                                         would write (test/unit/electron-builder-config.test.ts)
// The app icon comes from ONE source, assets/icon.svg, read by the small renderer below (the
// subset of SVG that file uses); every size and format is rendered from it: icon.png (the window
// and notifications), icons/NxN.png (Linux), icon.icns (macOS), icon.ico (Windows). The tray
// glyphs are drawn from shapes in code (they need per-state and template variants).
// Shapes are described in a 0..1 square and sampled 4×4 per pixel for anti-aliasing.
import { Buffer } from 'node:buffer'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { deflateSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const OUT = path.dirname(fileURLToPath(import.meta.url))
const SAMPLES = 4
const CHECK = process.argv.includes('--check')
/** name (relative to assets/) -> bytes, written (or compared) at the end. */
const files = new Map()

// ---- PNG encoding (RGBA, 8 bit, no interlace) ----
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
function crc32(buf) {
  let c = 0xffffffff
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
function chunk(type, data) {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}
function encodePng(size, rgba) {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header[8] = 8 // bit depth
  header[9] = 6 // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1))
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0 // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4)
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

// ---- shapes: (x, y) in 0..1 -> inside? ----
const disc = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r
const ring = (cx, cy, r, w) => (x, y) => Math.abs(Math.hypot(x - cx, y - cy) - r) <= w / 2
const rect = (x0, y0, x1, y1) => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1
function triangle(ax, ay, bx, by, cx, cy) {
  const sign = (px, py, qx, qy, rx, ry) => (px - rx) * (qy - ry) - (qx - rx) * (py - ry)
  return (x, y) => {
    const d1 = sign(x, y, ax, ay, bx, by)
    const d2 = sign(x, y, bx, by, cx, cy)
    const d3 = sign(x, y, cx, cy, ax, ay)
    return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0))
  }
}
const union = (...shapes) => (x, y) => shapes.some((s) => s(x, y))

/** A vertical arrow centred on cx, pointing up (dir -1) or down (dir 1), of the given width. */
function arrow(cx, dir, width, top = 0.2, bottom = 0.8) {
  const shaft = width * 0.3
  const headLength = width * 0.75
  const tip = dir < 0 ? top : bottom
  const base = tip - dir * headLength
  const tail = dir < 0 ? bottom : top
  return union(
    triangle(cx, tip, cx - width / 2, base, cx + width / 2, base),
    rect(cx - shaft / 2, Math.min(base, tail), cx + shaft / 2, Math.max(base, tail)),
  )
}

const GLYPHS = {
  idle: arrow(0.5, 1, 0.44),
  seeding: arrow(0.5, -1, 0.44),
  transferring: union(arrow(0.35, -1, 0.27, 0.22, 0.78), arrow(0.65, 1, 0.27, 0.22, 0.78)),
  error: union(rect(0.435, 0.2, 0.565, 0.6), disc(0.5, 0.755, 0.07)),
}
const COLORS = {
  idle: [0x7d, 0x85, 0x90],
  seeding: [0x2e, 0xa0, 0x43],
  transferring: [0x1f, 0x6f, 0xeb],
  error: [0xd1, 0x24, 0x2f],
}

/** Renders a painter: (x, y) -> [r, g, b, a] or null, averaged over SAMPLES² points per pixel. */
function render(size, paint) {
  const out = Buffer.alloc(size * size * 4)
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const c = paint((px + (sx + 0.5) / SAMPLES) / size, (py + (sy + 0.5) / SAMPLES) / size)
          if (!c) continue
          // Premultiply, so edges between colours blend instead of darkening.
          r += c[0] * c[3]; g += c[1] * c[3]; b += c[2] * c[3]; a += c[3]
        }
      }
      const i = (py * size + px) * 4
      const n = SAMPLES * SAMPLES
      out[i + 3] = Math.round(a / n)
      if (a > 0) {
        out[i] = Math.round(r / a); out[i + 1] = Math.round(g / a); out[i + 2] = Math.round(b / a)
      }
    }
  }
  return out
}

const body = disc(0.5, 0.5, 0.47)
/** Coloured: a filled disc in the state colour with a white glyph. */
const colored = (state) => (x, y) => (GLYPHS[state](x, y) ? [255, 255, 255, 255] : body(x, y) ? [...COLORS[state], 255] : null)
/**
 * macOS template: black and alpha only, so the menu bar tints it. The glyph is knocked out of a
 * black disc; idle is an outline with a black glyph, so "nothing happening" reads lighter.
 */
const template = (state) => {
  if (state === 'idle') {
    const outline = ring(0.5, 0.5, 0.42, 0.1)
    return (x, y) => (outline(x, y) || GLYPHS.idle(x, y) ? [0, 0, 0, 255] : null)
  }
  return (x, y) => (body(x, y) && !GLYPHS[state](x, y) ? [0, 0, 0, 255] : null)
}

function write(name, size, paint) {
  files.set(name, encodePng(size, render(size, paint)))
}

for (const state of Object.keys(GLYPHS)) {
  for (const size of [16, 32]) {
    write(`tray-${state}-${size}.png`, size, colored(state))
    write(`tray-${state}-${size}@2x.png`, size * 2, colored(state))
  }
  write(`tray-${state}Template.png`, 16, template(state))
  write(`tray-${state}Template@2x.png`, 32, template(state))
}


// ---- the app icon, from assets/icon.svg ----
// A renderer for the subset of SVG the icon uses, nothing more: <svg viewBox>, <defs>,
// <linearGradient gradientUnits="userSpaceOnUse"> with <stop>s, and <rect> (rx), <circle> and
// <polygon> filled with "#rgb", "#rrggbb" or "url(#gradient)". Any other element or attribute
// stops it with an error: drawing something else than a browser would is worse than refusing.

const ALLOWED = {
  svg: ['xmlns', 'width', 'height', 'viewBox'],
  defs: [],
  linearGradient: ['id', 'gradientUnits', 'x1', 'y1', 'x2', 'y2'],
  stop: ['offset', 'stop-color'],
  rect: ['x', 'y', 'width', 'height', 'rx', 'ry', 'fill'],
  circle: ['cx', 'cy', 'r', 'fill'],
  polygon: ['points', 'fill'],
}

function parseSvg(text) {
  const body = text.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?xml[\s\S]*?\?>/, '')
  const elements = []
  for (const m of body.matchAll(/<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+\s*=\s*"[^"]*")*)\s*(\/?)>/g)) {
    const [, closing, name, attrText] = m
    if (closing) continue
    if (!(name in ALLOWED)) throw new Error(`icon.svg: <${name}> is not in the subset make-icons.mjs renders (${Object.keys(ALLOWED).join(', ')})`)
    const attrs = {}
    for (const a of attrText.matchAll(/([\w:-]+)\s*=\s*"([^"]*)"/g)) {
      if (!ALLOWED[name].includes(a[1])) throw new Error(`icon.svg: <${name} ${a[1]}="..."> is not supported by make-icons.mjs`)
      attrs[a[1]] = a[2]
    }
    elements.push({ name, attrs })
  }
  // Anything left between tags that is not whitespace (text, a malformed tag) is not understood.
  const leftover = body.replace(/<\/?[A-Za-z][\w:-]*(?:\s+[\w:-]+\s*=\s*"[^"]*")*\s*\/?>/g, '').trim()
  if (leftover) throw new Error(`icon.svg: cannot read "${leftover.slice(0, 40)}"`)
  return elements
}

const num = (el, key, fallback) => {
  const v = el.attrs[key]
  if (v === undefined) {
    if (fallback === undefined) throw new Error(`icon.svg: <${el.name}> needs ${key}`)
    return fallback
  }
  if (!/^-?\d+(\.\d+)?$/.test(v.trim())) throw new Error(`icon.svg: ${el.name} ${key}="${v}" must be a plain number (no units or %)`)
  return Number(v)
}

function hexColor(v) {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(v.trim())
  if (!m) throw new Error(`icon.svg: colour "${v}" must be #rgb or #rrggbb`)
  const h = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1]
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16))
}

/** The scene: the viewBox, and shapes bottom to top, each `inside(x, y)` and `color(x, y)` in user units. */
function scene(text) {
  const elements = parseSvg(text)
  const root = elements[0]
  if (root?.name !== 'svg') throw new Error('icon.svg: the first element must be <svg>')
  const [vx, vy, vw, vh] = (root.attrs.viewBox ?? '').trim().split(/[\s,]+/).map(Number)
  if (![vx, vy, vw, vh].every(Number.isFinite) || vw !== vh) throw new Error('icon.svg: needs a square viewBox="x y w h"')
  const gradients = new Map()
  const shapes = []
  let gradient = null
  for (const el of elements.slice(1)) {
    if (el.name === 'defs') continue
    if (el.name === 'linearGradient') {
      if (el.attrs.gradientUnits !== 'userSpaceOnUse') throw new Error('icon.svg: a linearGradient must say gradientUnits="userSpaceOnUse"')
      gradient = { x1: num(el, 'x1'), y1: num(el, 'y1'), x2: num(el, 'x2'), y2: num(el, 'y2'), stops: [] }
      gradients.set(el.attrs.id, gradient)
      continue
    }
    if (el.name === 'stop') {
      if (!gradient) throw new Error('icon.svg: <stop> outside a linearGradient')
      gradient.stops.push({ offset: num(el, 'offset'), color: hexColor(el.attrs['stop-color'] ?? '') })
      continue
    }
    shapes.push({ inside: shapeOf(el), color: paintOf(el.attrs.fill, gradients) })
  }
  return { x: vx, y: vy, size: vw, shapes }
}

function shapeOf(el) {
  if (el.name === 'rect') {
    const x0 = num(el, 'x', 0), y0 = num(el, 'y', 0)
    const x1 = x0 + num(el, 'width'), y1 = y0 + num(el, 'height')
    const rx = num(el, 'rx', el.attrs.ry === undefined ? 0 : num(el, 'ry'))
    if (num(el, 'ry', rx) !== rx) throw new Error('icon.svg: a rect with rx different from ry is not supported')
    const r = Math.min(rx, (x1 - x0) / 2, (y1 - y0) / 2)
    return (x, y) => {
      if (x < x0 || x > x1 || y < y0 || y > y1) return false
      const dx = Math.max(x0 + r - x, 0, x - (x1 - r))
      const dy = Math.max(y0 + r - y, 0, y - (y1 - r))
      return dx * dx + dy * dy <= r * r
    }
  }
  if (el.name === 'circle') {
    const cx = num(el, 'cx', 0), cy = num(el, 'cy', 0), r = num(el, 'r')
    return (x, y) => Math.abs(x - cx) <= r && Math.abs(y - cy) <= r && (x - cx) ** 2 + (y - cy) ** 2 <= r * r
  }
  if (el.name === 'polygon') {
    const coords = (el.attrs.points ?? '').trim().split(/[\s,]+/).map(Number)
    if (coords.length < 6 || coords.length % 2 !== 0 || !coords.every(Number.isFinite)) throw new Error('icon.svg: polygon points must be x,y pairs')
    const pts = []
    for (let i = 0; i < coords.length; i += 2) pts.push([coords[i], coords[i + 1]])
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1])
    const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]
    // SVG's default fill-rule, nonzero: the winding number of the edges around the point.
    return (x, y) => {
      if (x < minX || x > maxX || y < minY || y > maxY) return false
      let winding = 0
      for (let i = 0; i < pts.length; i++) {
        const [ax, ay] = pts[i]
        const [bx, by] = pts[(i + 1) % pts.length]
        const side = (bx - ax) * (y - ay) - (x - ax) * (by - ay)
        if (ay <= y && by > y && side > 0) winding++
        else if (ay > y && by <= y && side < 0) winding--
      }
      return winding !== 0
    }
  }
  throw new Error(`icon.svg: <${el.name}> is not a shape`)
}

function paintOf(fill, gradients) {
  if (fill === undefined || fill === 'none') throw new Error('icon.svg: every shape needs a fill (a colour or url(#gradient))')
  const ref = /^url\(#([\w-]+)\)$/.exec(fill.trim())
  if (!ref) {
    const c = [...hexColor(fill), 255]
    return () => c
  }
  const g = gradients.get(ref[1])
  if (!g || g.stops.length === 0) throw new Error(`icon.svg: no gradient "${ref[1]}" with stops`)
  const dx = g.x2 - g.x1, dy = g.y2 - g.y1
  const len2 = dx * dx + dy * dy
  // One array reused for every sample (render() reads it at once): millions of samples at 1024 px.
  const out = [0, 0, 0, 255]
  return (x, y) => {
    const t = Math.max(0, Math.min(1, ((x - g.x1) * dx + (y - g.y1) * dy) / len2))
    let a = g.stops[0], b = g.stops[g.stops.length - 1]
    for (let i = 0; i + 1 < g.stops.length; i++) if (t >= g.stops[i].offset && t <= g.stops[i + 1].offset) { a = g.stops[i]; b = g.stops[i + 1] }
    const f = b.offset > a.offset ? Math.max(0, Math.min(1, (t - a.offset) / (b.offset - a.offset))) : 0
    for (let i = 0; i < 3; i++) out[i] = Math.round(a.color[i] + (b.color[i] - a.color[i]) * f)
    return out
  }
}

/** A painter for render(): the top-most shape at a point (the fills are opaque), in 0..1 coordinates. */
function svgPainter(s) {
  const top = [...s.shapes].reverse()
  return (u, v) => {
    const x = s.x + u * s.size, y = s.y + v * s.size
    for (const shape of top) if (shape.inside(x, y)) return shape.color(x, y)
    return null
  }
}

/** Apple's .icns: PNGs under the types macOS 10.7+ reads, 16 to 1024 pixels (the @2x ones included). */
function encodeIcns(pngBySize) {
  const types = [['icp4', 16], ['icp5', 32], ['icp6', 64], ['ic07', 128], ['ic08', 256], ['ic09', 512], ['ic10', 1024], ['ic11', 32], ['ic12', 64], ['ic13', 256], ['ic14', 512]]
  const entries = types.map(([type, size]) => {
    const png = pngBySize.get(size)
    const head = Buffer.alloc(8)
    head.write(type, 0, 'ascii')
    head.writeUInt32BE(8 + png.length, 4)
    return Buffer.concat([head, png])
  })
  const head = Buffer.alloc(8)
  head.write('icns', 0, 'ascii')
  head.writeUInt32BE(8 + entries.reduce((n, e) => n + e.length, 0), 4)
  return Buffer.concat([head, ...entries])
}

/**
 * Windows .ico: 256 px as PNG (Vista and later), the smaller sizes as 32-bit BMPs with their AND
 * mask, which every icon reader (NSIS's and rcedit's included) takes.
 */
function encodeIco(images) {
  const header = Buffer.alloc(6)
  header.writeUInt16LE(0, 0)
  header.writeUInt16LE(1, 2) // icon
  header.writeUInt16LE(images.length, 4)
  const blobs = images.map(({ size, rgba, png }) => (size >= 256 ? png : bmpIcon(size, rgba)))
  let offset = 6 + 16 * images.length
  const dir = images.map(({ size }, i) => {
    const e = Buffer.alloc(16)
    e[0] = size >= 256 ? 0 : size // 0 means 256
    e[1] = size >= 256 ? 0 : size
    e.writeUInt16LE(1, 4) // colour planes
    e.writeUInt16LE(32, 6) // bits per pixel
    e.writeUInt32LE(blobs[i].length, 8)
    e.writeUInt32LE(offset, 12)
    offset += blobs[i].length
    return e
  })
  return Buffer.concat([header, ...dir, ...blobs])
}

function bmpIcon(size, rgba) {
  const maskRow = Math.ceil(size / 32) * 4
  const info = Buffer.alloc(40)
  info.writeUInt32LE(40, 0)
  info.writeInt32LE(size, 4)
  info.writeInt32LE(size * 2, 8) // colour rows, then the mask's
  info.writeUInt16LE(1, 12)
  info.writeUInt16LE(32, 14)
  info.writeUInt32LE(size * size * 4 + maskRow * size, 20)
  const pixels = Buffer.alloc(size * size * 4)
  const mask = Buffer.alloc(maskRow * size)
  for (let y = 0; y < size; y++) {
    const row = size - 1 - y // bottom-up
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4
      const o = (row * size + x) * 4
      pixels[o] = rgba[i + 2]; pixels[o + 1] = rgba[i + 1]; pixels[o + 2] = rgba[i]; pixels[o + 3] = rgba[i + 3]
      // Fully transparent pixels are also "transparent" in the 1-bit mask for readers without alpha.
      if (rgba[i + 3] === 0) mask[row * maskRow + (x >> 3)] |= 0x80 >> (x & 7)
    }
  }
  return Buffer.concat([info, pixels, mask])
}

const app = svgPainter(scene(readFileSync(path.join(OUT, 'icon.svg'), 'utf8')))
const rendered = new Map()
for (const size of [16, 24, 32, 48, 64, 128, 256, 512, 1024]) {
  const rgba = render(size, app)
  rendered.set(size, { size, rgba, png: encodePng(size, rgba) })
}
const pngBySize = new Map([...rendered].map(([size, r]) => [size, r.png]))
files.set('icon.png', pngBySize.get(512))
// electron-builder's Linux icon set: a folder of NxN.png (the size is read from the name).
for (const size of [16, 32, 48, 64, 128, 256, 512, 1024]) files.set(`icons/${size}x${size}.png`, pngBySize.get(size))
files.set('icon.icns', encodeIcns(pngBySize))
files.set('icon.ico', encodeIco([16, 24, 32, 48, 64, 128, 256].map((size) => rendered.get(size))))

if (CHECK) {
  const stale = [...files].filter(([name, bytes]) => {
    try {
      return !readFileSync(path.join(OUT, name)).equals(bytes)
    } catch {
      return true
    }
  })
  if (stale.length > 0) {
    console.error(`make-icons: out of date with assets/icon.svg and make-icons.mjs: ${stale.map(([n]) => n).join(', ')}; run: node assets/make-icons.mjs`)
    process.exit(1)
  }
  console.log(`make-icons: all ${files.size} icons match their sources`)
} else {
  for (const [name, bytes] of files) {
    mkdirSync(path.dirname(path.join(OUT, name)), { recursive: true })
    writeFileSync(path.join(OUT, name), bytes)
  }
  console.log(`${files.size} icons written to ${OUT}`)
}
