#!/usr/bin/env node
// Draws the tray icons and the app icon as PNGs with nothing but node:zlib, so they can be
// regenerated on any machine without an image editor. Run: node assets/make-icons.mjs
// Shapes are described in a 0..1 square and sampled 4×4 per pixel for anti-aliasing.
import { Buffer } from 'node:buffer'
import { writeFileSync } from 'node:fs'
import { deflateSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const OUT = path.dirname(fileURLToPath(import.meta.url))
const SAMPLES = 4

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
const roundRect = (x0, y0, x1, y1, r) => (x, y) => {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false
  const dx = Math.max(x0 + r - x, 0, x - (x1 - r))
  const dy = Math.max(y0 + r - y, 0, y - (y1 - r))
  return dx * dx + dy * dy <= r * r
}
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
  writeFileSync(path.join(OUT, name), encodePng(size, render(size, paint)))
}

for (const state of Object.keys(GLYPHS)) {
  for (const size of [16, 32]) {
    write(`tray-${state}-${size}.png`, size, colored(state))
    write(`tray-${state}-${size}@2x.png`, size * 2, colored(state))
  }
  write(`tray-${state}Template.png`, 16, template(state))
  write(`tray-${state}Template@2x.png`, 32, template(state))
}

// App icon: a blue rounded square, the "drop" arrow, and three dots for the fleet it reaches.
const tile = roundRect(0.06, 0.06, 0.94, 0.94, 0.2)
const dropArrow = arrow(0.5, 1, 0.42, 0.16, 0.64)
const fleet = union(disc(0.3, 0.79, 0.06), disc(0.5, 0.79, 0.06), disc(0.7, 0.79, 0.06))
write('icon.png', 512, (x, y) => {
  if (!tile(x, y)) return null
  if (dropArrow(x, y) || fleet(x, y)) return [255, 255, 255, 255]
  // A gentle top-to-bottom gradient keeps the flat tile from looking like a placeholder.
  const t = y
  return [Math.round(0x2f + (0x1a - 0x2f) * t), Math.round(0x81 + (0x4f - 0x81) * t), Math.round(0xf7 + (0xc4 - 0xf7) * t), 255]
})
console.log(`icons written to ${OUT}`)
