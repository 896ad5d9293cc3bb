/**
 * Open Inference Protocol V2 request checks: the router refuses what a model server would refuse
 * anyway, early and with the field named, so a malformed request never costs an upstream call or
 * pollutes a variant's error rate.
 */

export const DATATYPES = new Set([
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
]);

export interface V2Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}

export interface V2InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: V2Tensor[];
  outputs?: { name: string; parameters?: Record<string, unknown> }[];
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates a parsed V2 inference request; the error names the first wrong field. */
export function checkInferRequest(body: unknown): Checked<V2InferRequest> {
  const fail = (error: string): Checked<V2InferRequest> => ({ ok: false, error });
  if (!isObject(body)) return fail('the request body must be a JSON object with "inputs"');
  if (body.id !== undefined && typeof body.id !== 'string') return fail('id: must be a string');
  if (body.parameters !== undefined && !isObject(body.parameters))
    return fail('parameters: must be an object');
  if (!Array.isArray(body.inputs)) return fail('inputs: must be an array of tensors');
  if (body.inputs.length === 0) return fail('inputs: must not be empty');
  for (let i = 0; i < body.inputs.length; i++) {
    const error = checkTensor(body.inputs[i], `inputs[${i}]`);
    if (error) return fail(error);
  }
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) return fail('outputs: must be an array');
    for (let i = 0; i < body.outputs.length; i++) {
      const out: unknown = body.outputs[i];
      if (!isObject(out) || typeof out.name !== 'string' || out.name === '')
        return fail(`outputs[${i}].name: must be a non-empty string`);
    }
  }
  return { ok: true, value: body as unknown as V2InferRequest };
}

function checkTensor(t: unknown, at: string): string | undefined {
  if (!isObject(t)) return `${at}: must be an object with name, shape, datatype and data`;
  if (typeof t.name !== 'string' || t.name === '') return `${at}.name: must be a non-empty string`;
  if (!Array.isArray(t.shape)) return `${at}.shape: must be an array of non-negative integers`;
  let elements = 1;
  for (const d of t.shape as unknown[]) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0)
      return `${at}.shape: must be an array of non-negative integers`;
    elements *= d;
  }
  if (typeof t.datatype !== 'string' || !DATATYPES.has(t.datatype))
    return `${at}.datatype: must be one of ${[...DATATYPES].join(', ')}`;
  if (t.parameters !== undefined && !isObject(t.parameters)) return `${at}.parameters: must be an object`;
  if (!Array.isArray(t.data)) return `${at}.data: must be an array`;
  const flat = flatten(t.data);
  if (flat === undefined) return `${at}.data: nesting is too deep`;
  if (flat.length !== elements)
    return `${at}.data: has ${flat.length} elements but shape [${(t.shape as number[]).join(', ')}] needs ${elements}`;
  const kind = t.datatype === 'BYTES' ? 'string' : t.datatype === 'BOOL' ? 'boolean' : 'number';
  for (let j = 0; j < flat.length; j++) {
    const v = flat[j];
    const ok =
      kind === 'number'
        ? typeof v === 'number'
        : kind === 'boolean'
          ? typeof v === 'boolean' || v === 0 || v === 1
          : typeof v === 'string' || typeof v === 'number';
    if (!ok) return `${at}.data[${j}]: ${t.datatype} needs ${kind}s, got ${v === null ? 'null' : typeof v}`;
  }
  return undefined;
}

/** Row-major flattening of nested V2 data (the protocol allows both); undefined when absurdly deep. */
export function flatten(data: unknown[]): unknown[] | undefined {
  let nested = false;
  for (let i = 0; i < data.length && !nested; i++) nested = Array.isArray(data[i]);
  if (!nested) return data;
  const out: unknown[] = [];
  const walk = (arr: unknown[], depth: number): boolean => {
    if (depth > 32) return false;
    for (const v of arr) {
      if (Array.isArray(v)) {
        if (!walk(v, depth + 1)) return false;
      } else out.push(v);
    }
    return true;
  };
  return walk(data, 0) ? out : undefined;
}
