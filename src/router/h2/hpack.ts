/**
 * HPACK (RFC 7541), the header compression of HTTP/2, for the router's own HTTP/2 connections
 * (connection.ts): a decoder with the full dynamic table, and a stateless encoder.
 *
 * Why our own: node:http2 (nghttp2 behind a JS session) costs more CPU per call than the rest of a
 * pass-through, and a raw connection layer needs HPACK. The decoder is on every call: a gRPC
 * client sends its first block as Huffman-coded literals it indexes, then mostly one-byte
 * references to its dynamic table plus a fresh `grpc-timeout`. So the decoder's common path is an
 * indexed field that returns the strings already in the table (no allocation, and the same string
 * objects call after call, which keeps the caller's Map lookups on cached hashes).
 *
 * Why the encoder is stateless: an encoder that indexes must keep its table in step with the
 * peer's (SETTINGS_HEADER_TABLE_SIZE, size updates, ordering of blocks across streams). The
 * router's answers are a handful of short fields, most of them exact static-table hits
 * (`:status 200`) or static names; a plain literal costs a few bytes on a local link and no state.
 */
import { HuffmanError, huffmanDecode, type Latin1Buffer } from './huffman';
import { STATIC_BY_NAME, STATIC_COUNT, STATIC_NAMES, STATIC_VALUES } from './staticTable';

/** A malformed header block: the connection must end with GOAWAY(COMPRESSION_ERROR) (RFC 9113 4.3). */
export class HpackError extends Error {
  /**
   * True when the block was well-formed but its fields add up to more than `maxHeaderListBytes`:
   * the table is still in step, so the connection may refuse just the stream (RFC 9113 10.5.1:
   * 431 or RST_STREAM) instead of sending GOAWAY.
   */
  tooLarge = false;
  override name = 'HpackError';
}

/** RFC 7541 4.1: an entry's size is its name's and value's octets plus 32. */
const ENTRY_OVERHEAD = 32;
/** The largest integer accepted: more than any length or index a 64 KiB-bounded block can carry. */
const MAX_INT = 0x7fffffff;
/** Continuation bytes after a full prefix: 5 carry 35 bits, enough for MAX_INT with leading 0x80s' slack. */
const MAX_CONTINUATIONS = 5;

export class HpackDecoder {
  /** Our SETTINGS_HEADER_TABLE_SIZE: the ceiling of any size update. */
  private readonly maxTableSize: number;
  private readonly maxHeaderListBytes: number;
  /** The table's current maximum size, as last set by a size update (starts at the ceiling). */
  private capacity: number;
  /** The sum of the entries' sizes. */
  private size = 0;
  /** The entries as a ring: the newest at `(next - 1) & mask`, `count` of them going back. */
  private names: string[] = new Array<string>(16).fill('');
  private values: string[] = new Array<string>(16).fill('');
  private mask = 15;
  private next = 0;
  private count = 0;
  /** The read position in the block being decoded: a field so helpers need not return pairs. */
  private pos = 0;

  constructor(options?: { maxTableSize?: number; maxHeaderListBytes?: number }) {
    this.maxTableSize = options?.maxTableSize ?? 4096;
    this.maxHeaderListBytes = options?.maxHeaderListBytes ?? 65536;
    this.capacity = this.maxTableSize;
  }

  /**
   * Decodes one complete header block into [name0, value0, name1, value1, ...]. Strings are latin1
   * (one char per octet), so any bytes round-trip; validating names and values against RFC 9113
   * 8.2.1 is the connection's job. Throws HpackError on any malformed input; on a well-formed block
   * whose fields are larger than `maxHeaderListBytes`, throws HpackError with `tooLarge` set after
   * applying the whole block to the table.
   */
  decode(bytes: Uint8Array): string[] {
    // A Buffer reads latin1 strings in one native call (latin1Slice); the connection passes
    // Buffers, so the view is only made for other Uint8Arrays.
    const block = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out: string[] = [];
    const end = block.length;
    let listBytes = 0;
    let fields = 0;
    this.pos = 0;
    while (this.pos < end) {
      const first = block[this.pos]!;
      let name: string;
      let value: string;
      if (first >= 0x80) {
        // 6.1 Indexed Header Field.
        const index = this.integer(block, 0x7f);
        if (index === 0) throw new HpackError('HPACK: indexed field with index 0');
        if (index <= STATIC_COUNT) {
          name = STATIC_NAMES[index]!;
          value = STATIC_VALUES[index]!;
        } else {
          const slot = this.slot(index);
          name = this.names[slot]!;
          value = this.values[slot]!;
        }
      } else if (first >= 0x40) {
        // 6.2.1 Literal Header Field with Incremental Indexing.
        name = this.literalName(block, 0x3f);
        value = this.string(block);
        this.insert(name, value);
      } else if (first >= 0x20) {
        // 6.3 Dynamic Table Size Update: only before the block's first field (4.2).
        if (fields !== 0) throw new HpackError('HPACK: dynamic table size update after a header field');
        const max = this.integer(block, 0x1f);
        if (max > this.maxTableSize)
          throw new HpackError(`HPACK: dynamic table size update to ${max} above ${this.maxTableSize}`);
        this.capacity = max;
        this.evictTo(max);
        continue;
      } else {
        // 6.2.2 Literal without Indexing (0000) and 6.2.3 Never Indexed (0001): the same to a decoder.
        name = this.literalName(block, 0x0f);
        value = this.string(block);
      }
      fields++;
      // Past the limit the block is still decoded (the table must stay in step) but not kept.
      listBytes += name.length + value.length + ENTRY_OVERHEAD;
      if (listBytes <= this.maxHeaderListBytes) out.push(name, value);
    }
    if (listBytes > this.maxHeaderListBytes) {
      const error = new HpackError(
        `HPACK: header list of ${listBytes} bytes exceeds the limit of ${this.maxHeaderListBytes}`,
      );
      error.tooLarge = true;
      throw error;
    }
    return out;
  }

  /** The ring slot of a dynamic-table index (62 = newest); throws past the table's end. */
  private slot(index: number): number {
    const back = index - STATIC_COUNT - 1;
    if (back >= this.count)
      throw new HpackError(`HPACK: index ${index} is past the table (${STATIC_COUNT + this.count} entries)`);
    return (this.next - 1 - back) & this.mask;
  }

  /** A literal's name: indexed (the prefix is non-zero) or a string that follows (prefix 0). */
  private literalName(block: Buffer, prefixMask: number): string {
    const first = block[this.pos]!;
    if ((first & prefixMask) === 0) {
      this.pos++;
      return this.string(block);
    }
    const index = this.integer(block, prefixMask);
    return index <= STATIC_COUNT ? STATIC_NAMES[index]! : this.names[this.slot(index)]!;
  }

  /**
   * 5.1: an integer with an N-bit prefix (`prefixMask` = 2^N - 1) at `pos`, then 7 bits per
   * continuation byte, least significant first. Bounded in bytes and value so a hostile block can
   * neither loop long nor overflow into a negative or imprecise number.
   */
  private integer(block: Buffer, prefixMask: number): number {
    let value = block[this.pos++]! & prefixMask;
    if (value < prefixMask) return value;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i === MAX_CONTINUATIONS) throw new HpackError('HPACK: integer too long');
      if (this.pos >= block.length) throw new HpackError('HPACK: integer past the end of the block');
      const byte = block[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 128;
    }
    if (value > MAX_INT) throw new HpackError(`HPACK: integer ${value} too large`);
    return value;
  }

  /** 5.2: a string literal at `pos`: H flag, 7-bit-prefix length, octets (Huffman-coded when H). */
  private string(block: Buffer): string {
    if (this.pos >= block.length) throw new HpackError('HPACK: string literal past the end of the block');
    const huffman = block[this.pos]! >= 0x80;
    const length = this.integer(block, 0x7f);
    const start = this.pos;
    const stop = start + length;
    if (stop > block.length) throw new HpackError('HPACK: string literal past the end of the block');
    this.pos = stop;
    if (!huffman) return (block as Latin1Buffer).latin1Slice(start, stop);
    try {
      return huffmanDecode(block, start, stop);
    } catch (e) {
      if (e instanceof HuffmanError) throw new HpackError(`HPACK: ${e.message}`);
      throw e;
    }
  }

  /** 4.4: evicts oldest entries to make room; an entry larger than the table empties it and is not added. */
  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.capacity) {
      this.evictTo(0);
      return;
    }
    this.evictTo(this.capacity - size);
    if (this.count === this.names.length) this.grow();
    this.names[this.next] = name;
    this.values[this.next] = value;
    this.next = (this.next + 1) & this.mask;
    this.count++;
    this.size += size;
  }

  /** Drops the oldest entries until the table's size is at most `max`. */
  private evictTo(max: number): void {
    while (this.size > max) {
      const oldest = (this.next - this.count) & this.mask;
      this.size -= this.names[oldest]!.length + this.values[oldest]!.length + ENTRY_OVERHEAD;
      this.names[oldest] = '';
      this.values[oldest] = '';
      this.count--;
    }
  }

  /** Doubles the ring, oldest entry first. At most capacity / 32 entries, so this stops early. */
  private grow(): void {
    const length = this.names.length * 2;
    const names = new Array<string>(length).fill('');
    const values = new Array<string>(length).fill('');
    for (let i = 0; i < this.count; i++) {
      const from = (this.next - this.count + i) & this.mask;
      names[i] = this.names[from]!;
      values[i] = this.values[from]!;
    }
    this.names = names;
    this.values = values;
    this.mask = length - 1;
    this.next = this.count;
  }
}

export class HpackEncoder {
  /**
   * Encodes [name0, value0, ...] (names lowercase, values latin1: a char code above 255 keeps only
   * its low byte) without touching any dynamic table: an exact static match as an indexed field,
   * a static name as a literal without indexing with that name's index, anything else as a literal
   * without indexing with a new name. Strings are plain (H = 0).
   */
  encode(fields: readonly string[]): Buffer {
    if (fields.length % 2 !== 0) throw new TypeError('HPACK: fields must be name, value pairs');
    // First pass: each field's static index (exact match positive, name only negative, none 0)
    // and the exact size, so the answer is allocated once at its length and never sliced.
    const pairs = fields.length >>> 1;
    if (plan.length < pairs) plan = new Int32Array(Math.max(pairs, plan.length * 2));
    let size = 0;
    for (let p = 0; p < pairs; p++) {
      const name = fields[2 * p]!;
      const value = fields[2 * p + 1]!;
      const known = STATIC_BY_NAME.get(name);
      if (known !== undefined) {
        const exact = known.values.get(value);
        if (exact !== undefined) {
          plan[p] = exact;
          size += 1; // every static index fits the 7-bit prefix
          continue;
        }
        plan[p] = -known.index;
        size += integerLength(known.index, 0x0f);
      } else {
        plan[p] = 0;
        size += 1 + integerLength(name.length, 0x7f) + name.length;
      }
      size += integerLength(value.length, 0x7f) + value.length;
    }
    const out = Buffer.allocUnsafe(size);
    let n = 0;
    for (let p = 0; p < pairs; p++) {
      const index = plan[p]!;
      if (index > 0) {
        out[n++] = 0x80 | index;
        continue;
      }
      if (index < 0) {
        n = writeInteger(out, n, 0x00, 0x0f, -index);
      } else {
        out[n++] = 0x00;
        n = writeString(out, n, fields[2 * p]!);
      }
      n = writeString(out, n, fields[2 * p + 1]!);
    }
    return out;
  }
}

/** The encoder's per-field plan, reused across calls (encode is synchronous). */
let plan = new Int32Array(16);

/** 5.1: the octets `value` takes after an N-bit prefix (`prefixMask` = 2^N - 1). */
function integerLength(value: number, prefixMask: number): number {
  if (value < prefixMask) return 1;
  let length = 2;
  for (value -= prefixMask; value >= 0x80; value = Math.floor(value / 128)) length++;
  return length;
}

/** 5.1: `value` with an N-bit prefix (`prefixMask` = 2^N - 1) after the `flags` bits. */
function writeInteger(out: Buffer, n: number, flags: number, prefixMask: number, value: number): number {
  if (value < prefixMask) {
    out[n++] = flags | value;
    return n;
  }
  out[n++] = flags | prefixMask;
  value -= prefixMask;
  while (value >= 0x80) {
    out[n++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[n++] = value;
  return n;
}

/** 5.2 with H = 0: the length, then the octets. */
function writeString(out: Buffer, n: number, s: string): number {
  n = writeInteger(out, n, 0x00, 0x7f, s.length);
  if (s.length > 64) return n + out.write(s, n, 'latin1');
  for (let i = 0; i < s.length; i++) out[n++] = s.charCodeAt(i);
  return n;
}
