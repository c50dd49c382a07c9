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
  const chunks: Buffer[] = []
  write(value, chunks)
  return Buffer.concat(chunks)
}

function write(value: BValue, out: Buffer[]): void {
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isInteger(value)) throw new TypeError(`bencode: ${value} is not an integer`)
    out.push(Buffer.from(`i${value}e`))
  } else if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8')
    out.push(Buffer.from(`${bytes.length}:`), bytes)
  } else if (value instanceof RawBencode) {
    out.push(value.bytes)
  } else if (Buffer.isBuffer(value)) {
    out.push(Buffer.from(`${value.length}:`), value)
  } else if (Array.isArray(value)) {
    out.push(Buffer.from('l'))
    for (const item of value) write(item, out)
    out.push(Buffer.from('e'))
  } else {
    out.push(Buffer.from('d'))
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .map((k) => Buffer.from(k, 'utf8'))
      .sort(Buffer.compare)
    for (const key of keys) {
      out.push(Buffer.from(`${key.length}:`), key)
      write(value[key.toString('utf8')] as BValue, out)
    }
    out.push(Buffer.from('e'))
  }
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
