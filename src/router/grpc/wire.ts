/**
 * gRPC over HTTP/2, the parts the router needs (the "gRPC over HTTP2" spec,
 * github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): the 5-byte length-prefixed message
 * frame, `grpc-timeout`, metadata as headers, and a unary answer written as one burst — headers,
 * message and trailers queued in the same turn, so they leave in one write.
 *
 * Why not @grpc/grpc-js for the router's own front and upstream calls: measured here at 300
 * req/s, a ModelInfer through a grpc-js server and grpc-js client cost the router 1.8 ms of CPU,
 * and the same pass-through on `node:http2` 0.3 ms (bench/routerGrpc.ts). And why not
 * `node:http2` any more: its streams and header objects were most of what remained
 * (bench/profiles/grpc-path.md), so the router speaks HTTP/2 itself (`../h2/`). grpc-js stays the
 * Node client of the tests.
 */
import type { H2Stream } from '../h2/stream';
import protobuf from 'protobufjs';

/** The service name clients call: `inference.GRPCInferenceService`. */
export const SERVICE = 'inference.GRPCInferenceService';

/** gRPC status codes (PROTOCOL-HTTP2.md, statuscodes.md). */
export enum Code {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

/** Response metadata: ASCII values only (the router sends no `-bin` keys). */
export type GrpcMetadata = Record<string, string>;

/** One message in a gRPC frame: flag 0 (not compressed), big-endian length, the bytes. */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/**
 * A ModelInferRequest's bytes framed for another model: `model_name` (field 1) and an empty
 * `model_version` (2) appended, and `outputs` (6) when given. A later value of a singular field
 * replaces an earlier one and a repeated field's values add up (protobuf encoding, "Last One
 * Wins"), so the client's message is neither decoded nor re-encoded. The appended bytes are
 * encoded once per model and list of outputs (the route passes the same list for a variant every
 * time): a call only allocates its frame.
 */
export function retargeted(message: Uint8Array, model: string, outputs?: readonly string[]): Buffer {
  const extra = appended(model, outputs);
  const out = Buffer.allocUnsafe(5 + message.length + extra.length);
  out[0] = 0;
  out.writeUInt32BE(message.length + extra.length, 1);
  out.set(message, 5);
  out.set(extra, 5 + message.length);
  return out;
}

const byModel = new Map<string, { none?: Uint8Array; lists: WeakMap<readonly string[], Uint8Array> }>();

function appended(model: string, outputs: readonly string[] | undefined): Uint8Array {
  let cached = byModel.get(model);
  if (!cached) byModel.set(model, (cached = { lists: new WeakMap() }));
  if (!outputs) return (cached.none ??= encodeAppended(model, undefined));
  let bytes = cached.lists.get(outputs);
  if (!bytes) cached.lists.set(outputs, (bytes = encodeAppended(model, outputs)));
  return bytes;
}

function encodeAppended(model: string, outputs: readonly string[] | undefined): Uint8Array {
  const w = protobuf.Writer.create().uint32(10).string(model).uint32(18).string('');
  for (const name of outputs ?? []) w.uint32(50).fork().uint32(10).string(name).ldelim();
  return w.finish();
}

export type Unframed = { ok: true; message: Buffer } | { ok: false; code: Code; details: string };

/**
 * The one message of a unary call's body. A compressed flag is refused (the router offers no
 * `grpc-accept-encoding`), as is a length past the end or bytes after the message.
 */
export function unframe(body: Buffer): Unframed {
  if (body.length < 5)
    return { ok: false, code: Code.INTERNAL, details: 'the request has no complete gRPC message frame' };
  if (body[0] !== 0)
    return {
      ok: false,
      code: Code.UNIMPLEMENTED,
      details: 'compressed messages are not supported: send them uncompressed (grpc-encoding identity)',
    };
  const length = body.readUInt32BE(1);
  if (length !== body.length - 5)
    return {
      ok: false,
      code: Code.INTERNAL,
      details: `the gRPC frame says ${length} bytes but ${body.length - 5} came`,
    };
  return { ok: true, message: body.subarray(5) };
}

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 1e-3, n: 1e-6 };

/** `grpc-timeout` ("100m", "5S", up to 8 digits and a unit) in ms; undefined when absent or invalid. */
export function timeoutMs(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string' || header.length < 2 || header.length > 9) return undefined;
  const unit = UNIT_MS[header[header.length - 1]!];
  if (unit === undefined) return undefined;
  let n = 0;
  for (let i = 0; i < header.length - 1; i++) {
    const d = header.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n * unit;
}

/** The same deadline as a `grpc-timeout` header for the upstream call (ms, at least 1). */
export function timeoutHeader(ms: number): string {
  return `${Math.max(1, Math.min(99_999_999, Math.ceil(ms)))}m`;
}

/** A request's headers by name (pseudo-headers included); a repeated name's values in order. */
export type RequestMetadata = Record<string, string | string[] | undefined>;

/** A header block's fields (flat: name, value, …) by name. */
export function metadataOf(fields: readonly string[]): RequestMetadata {
  const md: RequestMetadata = {};
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    const had = md[name];
    md[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return md;
}

/** The value of `name` in a header block (flat: name, value, …), the first if repeated. */
export function fieldOf(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** The first value of a text metadata key (a request header), undefined when absent. */
export function metadataText(headers: RequestMetadata, key: string): string | undefined {
  const v = headers[key];
  return typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
}

/** `grpc-message` is percent-encoded: everything outside printable ASCII and `%` itself. */
export function encodeMessage(text: string): string {
  return Buffer.from(text, 'utf8').reduce(
    (s, b) =>
      s +
      (b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`),
    '',
  );
}

/** The inverse of `encodeMessage`, tolerant of a malformed escape. */
export function decodeMessage(text: string | undefined): string {
  if (!text) return '';
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function open(stream: H2Stream): boolean {
  return !stream.closed && !stream.headersSent;
}

const OK_HEADERS = [':status', '200', 'content-type', 'application/grpc'];
const OK_TRAILERS = ['grpc-status', '0'];

function withMetadata(fields: readonly string[], metadata: GrpcMetadata): string[] {
  const out = [...fields];
  for (const key in metadata) out.push(key, metadata[key]!);
  return out;
}

/** A unary success: headers (with `metadata`), the message, then the trailer `grpc-status: 0`. */
export function answer(stream: H2Stream, message: Uint8Array, metadata: GrpcMetadata = {}): void {
  if (!open(stream)) return;
  stream.sendHeaders(withMetadata(OK_HEADERS, metadata), false);
  stream.write(frame(message), false);
  stream.sendHeaders(OK_TRAILERS, true);
}

/** A failure as a trailers-only response: the status, its message and `metadata` in one HEADERS frame. */
export function fail(stream: H2Stream, code: Code, details: string, metadata: GrpcMetadata = {}): void {
  if (!open(stream)) return;
  const fields = withMetadata(OK_HEADERS, metadata);
  fields.push('grpc-status', String(code), 'grpc-message', encodeMessage(details));
  stream.sendHeaders(fields, true);
}
