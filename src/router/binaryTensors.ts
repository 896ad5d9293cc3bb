/**
 * The HTTP binary tensor extension (Triton's, which tritonclient's HTTP client uses by default):
 * a request body of `Inference-Header-Content-Length` bytes of JSON followed by the raw bytes of
 * every input whose `parameters.binary_data_size` is set, in input order; outputs asked for with
 * `parameters.binary_data: true` (or all of them, with the request parameter
 * `binary_data_output: true`) answered the same way. MLServer lacks it, so the router translates:
 * upstream every request is plain V2 JSON, and the client gets binary outputs when it asked.
 */
import { HttpError, parseJson } from './http';
import { decodeRaw, encodeRaw } from './rawTensors';
import { flatten } from './v2';

export const HEADER_LENGTH = 'inference-header-content-length';

/** Which outputs the client wants in binary; undefined when none. */
export interface BinaryOutputs {
  all: boolean;
  names: ReadonlySet<string>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The request as plain V2 JSON: binary inputs decoded into `data`, and the binary-output wishes
 * taken out (returned). `changed` says whether the JSON differs from the client's bytes.
 */
export function plainRequest(
  body: Buffer,
  headerLength: string | undefined,
): { json: unknown; changed: boolean; binaryOutputs: BinaryOutputs | undefined } {
  let json: unknown;
  let changed = false;
  if (headerLength === undefined) {
    json = parseJson(body);
  } else {
    const n = Number(headerLength);
    if (!Number.isSafeInteger(n) || n < 0 || n > body.length)
      throw new HttpError(
        400,
        `${HEADER_LENGTH}: must be the byte length of the JSON part (0–${body.length}), got "${headerLength}"`,
      );
    json = parseJson(body.subarray(0, n));
    decodeInputs(json, body.subarray(n));
    changed = true;
  }
  if (!isObject(json)) return { json, changed, binaryOutputs: undefined };
  let all = false;
  const names = new Set<string>();
  const params = json.parameters;
  if (isObject(params) && 'binary_data_output' in params) {
    all = params.binary_data_output === true;
    delete params.binary_data_output;
    if (Object.keys(params).length === 0) delete json.parameters;
    changed = true;
  }
  if (Array.isArray(json.outputs))
    for (const o of json.outputs) {
      const p = isObject(o) ? o.parameters : undefined;
      if (!isObject(o) || !isObject(p) || !('binary_data' in p)) continue;
      if (p.binary_data === true && typeof o.name === 'string') names.add(o.name);
      delete p.binary_data;
      if (Object.keys(p).length === 0) delete o.parameters;
      changed = true;
    }
  return { json, changed, binaryOutputs: all || names.size > 0 ? { all, names } : undefined };
}

function decodeInputs(json: unknown, bytes: Buffer): void {
  const inputs = isObject(json) && Array.isArray(json.inputs) ? json.inputs : [];
  let pos = 0;
  inputs.forEach((input: unknown, i) => {
    const params = isObject(input) ? input.parameters : undefined;
    if (!isObject(input) || !isObject(params) || params.binary_data_size === undefined) return;
    const at = `inputs[${i}].parameters.binary_data_size`;
    const size = params.binary_data_size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      throw new HttpError(400, `${at}: must be a byte count`);
    if (pos + size > bytes.length)
      throw new HttpError(400, `${at}: ${size} bytes, but only ${bytes.length - pos} follow the JSON`);
    const shape = Array.isArray(input.shape) ? input.shape.map(Number) : [];
    if (shape.some((d) => !Number.isSafeInteger(d) || d < 0))
      throw new HttpError(400, `inputs[${i}].shape: must be an array of non-negative integers`);
    const count = shape.reduce((a, b) => a * b, 1);
    input.data = decodeRaw(
      bytes.subarray(pos, pos + size),
      String(input.datatype),
      count,
      `inputs[${i}] (binary)`,
    );
    pos += size;
    delete params.binary_data_size;
    if (Object.keys(params).length === 0) delete input.parameters;
  });
  if (pos !== bytes.length)
    throw new HttpError(
      400,
      `${bytes.length - pos} bytes after the JSON belong to no input — set parameters.binary_data_size on each binary input`,
    );
}

/** A V2 JSON answer with the wanted outputs moved into binary after it; undefined if it is not V2 JSON. */
export function binaryAnswer(
  body: Buffer,
  wanted: BinaryOutputs,
): { body: Buffer; headerLength: number } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(json) || !Array.isArray(json.outputs)) return undefined;
  const parts: Buffer[] = [];
  for (const o of json.outputs as unknown[]) {
    if (!isObject(o) || !Array.isArray(o.data) || typeof o.datatype !== 'string') continue;
    if (!wanted.all && !(typeof o.name === 'string' && wanted.names.has(o.name))) continue;
    const raw = encodeRaw(flatten(o.data) ?? [], o.datatype);
    parts.push(raw);
    delete o.data;
    o.parameters = { ...(isObject(o.parameters) ? o.parameters : {}), binary_data_size: raw.length };
  }
  const head = Buffer.from(JSON.stringify(json));
  return { body: Buffer.concat([head, ...parts]), headerLength: head.length };
}
