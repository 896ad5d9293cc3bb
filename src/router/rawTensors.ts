/**
 * Raw V2 tensor contents, as gRPC's `raw_*_contents` and the HTTP binary tensor extension carry
 * them: the flattened, row-major elements in little-endian without padding; a BYTES element is a
 * 4-byte little-endian length and its bytes. Hand-written because it is the protocol's own layout
 * of a dozen scalar types, which no maintained package decodes apart from a whole client
 * (tritonclient does it in Python, on numpy). FP16 goes through a float32.
 */
import { HttpError } from './http';

export type Scalar = number | boolean | string;

/** Bytes per element of each fixed-size datatype. */
export const SIZE: Record<string, number> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

/** Decodes one raw tensor: `count` little-endian elements of `datatype`. */
export function decodeRaw(buf: Buffer, datatype: string, count: number, at: string): Scalar[] {
  if (datatype === 'BYTES') {
    const out: string[] = [];
    let pos = 0;
    while (pos < buf.length) {
      if (pos + 4 > buf.length)
        throw new HttpError(400, `${at}: a BYTES element's 4-byte length is cut off at byte ${pos}`);
      const len = buf.readUInt32LE(pos);
      if (pos + 4 + len > buf.length)
        throw new HttpError(400, `${at}: a BYTES element of ${len} bytes runs past the end at byte ${pos}`);
      out.push(buf.toString('utf8', pos + 4, pos + 4 + len));
      pos += 4 + len;
    }
    if (out.length !== count)
      throw new HttpError(400, `${at}: has ${out.length} BYTES elements but the shape needs ${count}`);
    return out;
  }
  const size = SIZE[datatype];
  if (!size) throw new HttpError(400, `${at}: unknown datatype "${datatype}"`);
  if (buf.length !== count * size)
    throw new HttpError(
      400,
      `${at}: has ${buf.length} bytes but the shape needs ${count} ${datatype} elements of ${size} bytes (${count * size})`,
    );
  const out = new Array<Scalar>(count);
  for (let j = 0; j < count; j++) {
    const o = j * size;
    switch (datatype) {
      case 'BOOL':
        out[j] = buf[o] !== 0;
        break;
      case 'UINT8':
        out[j] = buf.readUInt8(o);
        break;
      case 'INT8':
        out[j] = buf.readInt8(o);
        break;
      case 'UINT16':
        out[j] = buf.readUInt16LE(o);
        break;
      case 'INT16':
        out[j] = buf.readInt16LE(o);
        break;
      case 'FP16':
        out[j] = halfToNumber(buf.readUInt16LE(o));
        break;
      case 'UINT32':
        out[j] = buf.readUInt32LE(o);
        break;
      case 'INT32':
        out[j] = buf.readInt32LE(o);
        break;
      case 'FP32':
        out[j] = buf.readFloatLE(o);
        break;
      case 'UINT64':
        out[j] = Number(buf.readBigUInt64LE(o));
        break;
      case 'INT64':
        out[j] = Number(buf.readBigInt64LE(o));
        break;
      default:
        out[j] = buf.readDoubleLE(o);
    }
  }
  return out;
}

/** Encodes elements of `datatype` as raw contents. */
export function encodeRaw(values: readonly unknown[], datatype: string): Buffer {
  if (datatype === 'BYTES') {
    const parts = values.map((v) => Buffer.from(typeof v === 'string' ? v : String(v), 'utf8'));
    const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 4 + p.length, 0));
    let pos = 0;
    for (const p of parts) {
      out.writeUInt32LE(p.length, pos);
      p.copy(out, pos + 4);
      pos += 4 + p.length;
    }
    return out;
  }
  const size = SIZE[datatype];
  if (!size) throw new Error(`unknown datatype ${datatype}`);
  const out = Buffer.alloc(values.length * size);
  values.forEach((raw, j) => {
    const v = typeof raw === 'boolean' ? Number(raw) : Number(raw);
    const o = j * size;
    switch (datatype) {
      case 'BOOL':
      case 'UINT8':
        out.writeUInt8(v & 0xff, o);
        break;
      case 'INT8':
        out.writeInt8(v, o);
        break;
      case 'UINT16':
        out.writeUInt16LE(v, o);
        break;
      case 'INT16':
        out.writeInt16LE(v, o);
        break;
      case 'FP16':
        out.writeUInt16LE(numberToHalf(v), o);
        break;
      case 'UINT32':
        out.writeUInt32LE(v, o);
        break;
      case 'INT32':
        out.writeInt32LE(v, o);
        break;
      case 'FP32':
        out.writeFloatLE(v, o);
        break;
      case 'UINT64':
        out.writeBigUInt64LE(BigInt(Math.trunc(v)), o);
        break;
      case 'INT64':
        out.writeBigInt64LE(BigInt(Math.trunc(v)), o);
        break;
      default:
        out.writeDoubleLE(v, o);
    }
  });
  return out;
}

/** IEEE 754 binary16 → number. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** number → IEEE 754 binary16, rounding to nearest, ties to even (through a float32, as numpy's cast of a float32). */
function numberToHalf(v: number): number {
  const x = new Uint32Array(new Float32Array([v]).buffer)[0]!;
  const sign = (x >> 16) & 0x8000;
  const biased = (x >> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (biased === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const exp = biased - 127 + 15;
  // Normal halves keep 10 of the 23 mantissa bits; subnormal ones fewer, with the implicit 1.
  const full = exp > 0 ? mant : biased === 0 ? 0 : mant | 0x800000;
  const shift = exp > 0 ? 13 : 14 - exp;
  if (shift > 24) return sign;
  let m = Math.floor(full / 2 ** shift);
  const rest = full - m * 2 ** shift;
  const halfway = 2 ** (shift - 1);
  if (rest > halfway || (rest === halfway && m & 1)) m++;
  // Added, not or-ed: a mantissa that rounds up carries into the exponent (up to infinity).
  const half = (exp > 0 ? exp << 10 : 0) + m;
  return sign | Math.min(half, 0x7c00);
}
