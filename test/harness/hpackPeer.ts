/**
 * An HPACK encoder that indexes, the way a peer like grpc-go (golang.org/x/net/http2/hpack)
 * encodes: every new field as a literal with incremental indexing, Huffman-coded when that is
 * shorter, and a later identical field as a one-byte reference to its dynamic-table entry. The
 * router's own encoder never indexes, so this is what the tests and bench/hpack.ts feed the
 * decoder to exercise its dynamic table. Its table is a plain array kept the slow, obvious way
 * (newest first, evicting from the end), independent of the decoder's ring.
 */
import { huffmanEncode, huffmanLength } from '../../src/router/h2/huffman';
import { STATIC_NAMES, STATIC_VALUES } from '../../src/router/h2/staticTable';

export interface PeerOptions {
  /** Huffman-code strings when shorter (default true). */
  huffman?: boolean;
  /** Index new fields (default true); false sends them as literals without indexing. */
  index?: boolean;
}

export class HpackPeer {
  /** [name, value] newest first. */
  readonly table: [string, string][] = [];
  private pendingSizes: number[] = [];

  constructor(
    private maxSize = 4096,
    private readonly options: PeerOptions = {},
  ) {}

  get size(): number {
    return this.table.reduce((sum, [n, v]) => sum + n.length + v.length + 32, 0);
  }

  /** Queues a dynamic table size update for the start of the next block. */
  resize(maxSize: number): void {
    this.pendingSizes.push(maxSize);
    this.maxSize = maxSize;
    this.evict(maxSize);
  }

  encode(fields: readonly string[]): Buffer {
    const bytes: number[] = [];
    for (const size of this.pendingSizes) integer(bytes, 0x20, 5, size);
    this.pendingSizes = [];
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      const exact = this.find((n, v) => n === name && v === value);
      if (exact > 0) {
        integer(bytes, 0x80, 7, exact);
        continue;
      }
      const named = this.find((n) => n === name);
      const indexing = this.options.index ?? true;
      const [flags, prefix] = indexing ? [0x40, 6] : [0x00, 4];
      integer(bytes, flags, prefix, named);
      if (named === 0) this.string(bytes, name);
      this.string(bytes, value);
      if (indexing) this.insert(name, value);
    }
    return Buffer.from(bytes);
  }

  /** The first index (static, then dynamic) whose entry matches; 0 when none. */
  private find(match: (name: string, value: string) => boolean): number {
    for (let i = 1; i < STATIC_NAMES.length; i++) if (match(STATIC_NAMES[i]!, STATIC_VALUES[i]!)) return i;
    const at = this.table.findIndex(([n, v]) => match(n, v));
    return at < 0 ? 0 : STATIC_NAMES.length + at;
  }

  private string(bytes: number[], s: string): void {
    if ((this.options.huffman ?? true) && huffmanLength(s) < s.length) {
      const coded = huffmanEncode(s);
      integer(bytes, 0x80, 7, coded.length);
      bytes.push(...coded);
    } else {
      integer(bytes, 0x00, 7, s.length);
      for (let i = 0; i < s.length; i++) bytes.push(s.charCodeAt(i) & 0xff);
    }
  }

  private insert(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.evict(this.maxSize - size);
    if (size <= this.maxSize) this.table.unshift([name, value]);
  }

  private evict(max: number): void {
    while (this.table.length > 0 && this.size > max) this.table.pop();
  }
}

/** RFC 7541 5.1. */
export function integer(bytes: number[], flags: number, prefixBits: number, value: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    bytes.push(flags | value);
    return;
  }
  bytes.push(flags | max);
  value -= max;
  while (value >= 128) {
    bytes.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  bytes.push(value);
}
