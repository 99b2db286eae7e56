/**
 * The byte layer of the customer record (format v4, customer-record-codec.ts): unsigned
 * varints, numbers that are small integers in one or two bytes and anything else as a
 * float64, and strings by reference into a table (a frozen dictionary, then the record's own
 * strings). Hand-laid rather than MessagePack: the record is written for every batch a
 * customer is in, and a generic encoder spends most of its time on key names and type tags.
 */

/** Integers up to this magnitude are varints; others (and fractions, -0, NaN) are float64. */
const MAX_VARINT_MAGNITUDE = 2 ** 49;
const FLOAT_MARK = 1;

export class RecordFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordFormatError';
  }
}

/**
 * Writes into one growing scratch buffer, reused from record to record; `finish` copies the
 * bytes out behind the string table. Not re-entrant: one record at a time (encoding is synchronous).
 */
export class RecordWriter {
  private buf = Buffer.allocUnsafe(8192);
  private pos = 0;
  private readonly local = new Map<string, number>();
  private readonly strings: string[] = [];

  constructor(private readonly dictionary: ReadonlyMap<string, number>, private readonly dictionarySize: number) {}

  reset(): void {
    this.pos = 0;
    this.local.clear();
    this.strings.length = 0;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  /** A non-negative integer (up to 2^53). */
  uint(v: number): void {
    this.room(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  /** Any number: an integer of magnitude up to 2^49 as a zig-zag varint (even), else a mark and a float64. */
  num(v: number): void {
    if (Number.isInteger(v) && v <= MAX_VARINT_MAGNITUDE && v >= -MAX_VARINT_MAGNITUDE && !Object.is(v, -0)) {
      this.uint((v >= 0 ? v * 2 : -v * 2 - 1) * 2);
      return;
    }
    this.uint(FLOAT_MARK);
    this.room(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** A string by reference: its dictionary index, or the dictionary's size plus its place in the record's table. */
  ref(s: string): void {
    this.uint(this.indexOf(s));
  }

  /** A string or null: 0 for null, the reference plus one otherwise. */
  optRef(s: string | null | undefined): void {
    this.uint(s === null || s === undefined ? 0 : this.indexOf(s) + 1);
  }

  private indexOf(s: string): number {
    let i = this.dictionary.get(s) ?? this.local.get(s);
    if (i === undefined) {
      i = this.dictionarySize + this.strings.length;
      this.local.set(s, i);
      this.strings.push(s);
    }
    return i;
  }

  /** The record: `header`, the count and bytes of the record's own strings, then the body written so far. */
  finish(header: readonly number[]): Buffer {
    const body = this.pos;
    let size = header.length + uintSize(this.strings.length);
    const encoded = this.strings.map((s) => Buffer.from(s, 'utf8'));
    for (const e of encoded) size += uintSize(e.length) + e.length;
    const out = Buffer.allocUnsafe(size + body);
    let at = 0;
    for (const b of header) out[at++] = b;
    at = writeUint(out, at, encoded.length);
    for (const e of encoded) {
      at = writeUint(out, at, e.length);
      e.copy(out, at);
      at += e.length;
    }
    this.buf.copy(out, at, 0, body);
    return out;
  }
}

function uintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

function writeUint(out: Buffer, at: number, v: number): number {
  while (v >= 0x80) {
    out[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[at++] = v;
  return at;
}

/** Reads what RecordWriter wrote; any read past the end or a reference out of range is a RecordFormatError. */
export class RecordReader {
  private pos: number;
  private readonly strings: string[];

  constructor(private readonly buf: Buffer, start: number, private readonly dictionary: readonly string[]) {
    this.pos = start;
    const count = this.uint();
    this.strings = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      const length = this.uint();
      if (this.pos + length > buf.length) throw new RecordFormatError(`string ${i} runs past the end`);
      this.strings[i] = buf.toString('utf8', this.pos, this.pos + length);
      this.pos += length;
    }
  }

  byte(): number {
    if (this.pos >= this.buf.length) throw new RecordFormatError('record ends early');
    return this.buf[this.pos++] as number;
  }

  uint(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new RecordFormatError('varint too long');
    }
  }

  num(): number {
    const v = this.uint();
    if (v === FLOAT_MARK) {
      if (this.pos + 8 > this.buf.length) throw new RecordFormatError('record ends early');
      const f = this.buf.readDoubleLE(this.pos);
      this.pos += 8;
      return f;
    }
    if (v % 2 !== 0) throw new RecordFormatError(`bad number tag ${v}`);
    const zz = v / 2;
    return zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
  }

  ref(): string {
    return this.stringAt(this.uint());
  }

  optRef(): string | null {
    const i = this.uint();
    return i === 0 ? null : this.stringAt(i - 1);
  }

  private stringAt(i: number): string {
    const s = i < this.dictionary.length ? this.dictionary[i] : this.strings[i - this.dictionary.length];
    if (s === undefined) throw new RecordFormatError(`string reference ${i} out of range`);
    return s;
  }

  /** Throws unless every byte was read: trailing bytes mean a damaged or misread record. */
  end(): void {
    if (this.pos !== this.buf.length) throw new RecordFormatError(`${this.buf.length - this.pos} bytes left after the record`);
  }
}
