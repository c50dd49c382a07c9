/**
 * Minimal, strict bencode (BEP 3). Dictionaries are encoded with keys sorted by raw bytes, as the
 * spec requires, so the same info dictionary always hashes to the same info-hash.
 */
export type BValue = number | bigint | Buffer | string | RawBencode | BValue[] | BDict

/** Already-encoded bytes, spliced in verbatim: keeps a stored info dictionary (and its hash) exact. */
export class RawBencode {
  constructor(readonly bytes: Buffer) {}
}
export interface BDict {
  [key: string]: BValue | undefined
}

export function bencode(value: BValue): Buffer {
  const writer = new Writer()
  writer.value(value)
  return writer.result()
}

/**
 * Builds the encoding as a latin1 string (one character per byte) and copies it into the buffer
 * in large pieces: a folder of 10,000 files makes tens of thousands of tiny values, and a native
 * write (or a Buffer) per value made encoding a visible part of `create`.
 */
class Writer {
  private buf = Buffer.allocUnsafe(64 * 1024)
  private pos = 0
  private pending = ''

  result(): Buffer {
    this.flush()
    return this.buf.subarray(0, this.pos)
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  private flush(): void {
    if (this.pending.length === 0) return
    this.reserve(this.pending.length)
    this.pos += this.buf.write(this.pending, this.pos, 'latin1')
    this.pending = ''
  }

  private raw(bytes: Buffer): void {
    this.flush()
    this.reserve(bytes.length)
    this.pos += bytes.copy(this.buf, this.pos)
  }

  private string(text: string): void {
    // eslint-disable-next-line no-control-regex
    if (/^[\x00-\x7f]*$/.test(text)) {
      this.pending += `${text.length}:${text}`
    } else {
      const bytes = Buffer.from(text, 'utf8')
      this.pending += `${bytes.length}:${bytes.toString('latin1')}`
    }
    if (this.pending.length > 256 * 1024) this.flush()
  }

  value(value: BValue): void {
    if (typeof value === 'number' || typeof value === 'bigint') {
      if (typeof value === 'number' && !Number.isInteger(value)) throw new TypeError(`bencode: ${value} is not an integer`)
      this.pending += `i${value}e`
    } else if (typeof value === 'string') {
      this.string(value)
    } else if (value instanceof RawBencode) {
      this.raw(value.bytes)
    } else if (Buffer.isBuffer(value)) {
      this.pending += `${value.length}:`
      this.raw(value)
    } else if (Array.isArray(value)) {
      this.pending += 'l'
      for (const item of value) this.value(item)
      this.pending += 'e'
    } else {
      this.pending += 'd'
      for (const key of sortedKeys(value)) {
        this.string(key)
        this.value(value[key] as BValue)
      }
      this.pending += 'e'
    }
  }
}

/** Keys in raw byte order, as BEP 3 requires; plain string order is the same for ASCII keys. */
function sortedKeys(dict: BDict): string[] {
  const keys = Object.keys(dict).filter((k) => dict[k] !== undefined)
  // eslint-disable-next-line no-control-regex
  if (keys.every((k) => /^[\x00-\x7f]*$/.test(k))) return keys.sort()
  return keys
    .map((k) => ({ k, b: Buffer.from(k, 'utf8') }))
    .sort((a, b) => Buffer.compare(a.b, b.b))
    .map((e) => e.k)
}

/** Decoded values keep strings as Buffers: torrent strings are bytes, not always UTF-8. */
export type Decoded = bigint | Buffer | Decoded[] | DecodedDict
export interface DecodedDict {
  [key: string]: Decoded
}

export interface DecodeResult {
  value: Decoded
  /** Byte ranges of every dictionary value by key path (top level only), e.g. "info". */
  spans: Map<string, [number, number]>
}

export function bdecode(data: Buffer): DecodeResult {
  const spans = new Map<string, [number, number]>()
  let pos = 0
  const fail = (what: string): never => {
    throw new Error(`bencode: ${what} at byte ${pos}`)
  }
  const read = (depth: number): Decoded => {
    if (depth > 64) fail('nesting too deep')
    const c = data[pos]
    if (c === undefined) return fail('unexpected end')
    if (c === 0x69 /* i */) {
      const end = data.indexOf(0x65, pos)
      if (end < 0) fail('unterminated integer')
      const text = data.toString('latin1', pos + 1, end)
      if (!/^-?(0|[1-9][0-9]*)$/.test(text) || text === '-0') fail(`bad integer "${text}"`)
      pos = end + 1
      return BigInt(text)
    }
    if (c === 0x6c /* l */) {
      pos++
      const list: Decoded[] = []
      while (data[pos] !== 0x65) {
        if (pos >= data.length) fail('unterminated list')
        list.push(read(depth + 1))
      }
      pos++
      return list
    }
    if (c === 0x64 /* d */) {
      pos++
      const dict: DecodedDict = Object.create(null) as DecodedDict
      while (data[pos] !== 0x65) {
        if (pos >= data.length) fail('unterminated dictionary')
        const key = read(depth + 1)
        if (!Buffer.isBuffer(key)) return fail('dictionary key is not a string')
        const start = pos
        dict[key.toString('utf8')] = read(depth + 1)
        if (depth === 0) spans.set(key.toString('utf8'), [start, pos])
      }
      pos++
      return dict
    }
    if (c >= 0x30 && c <= 0x39) {
      const colon = data.indexOf(0x3a, pos)
      if (colon < 0) fail('bad string length')
      const len = Number(data.toString('latin1', pos, colon))
      if (!Number.isSafeInteger(len) || colon + 1 + len > data.length) fail('string runs past the end')
      const value = data.subarray(colon + 1, colon + 1 + len)
      pos = colon + 1 + len
      return value
    }
    return fail(`unexpected byte 0x${c.toString(16)}`)
  }
  const value = read(0)
  if (pos !== data.length) fail('trailing data')
  return { value, spans }
}
