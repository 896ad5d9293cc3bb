/**
 * V2 tensors between their two encodings: the protobuf messages of `grpc_predict_v2.proto`
 * (typed `contents`, or `raw_*_contents` decoded by `raw.ts`) and the V2 JSON the router routes,
 * records and sends upstream over HTTP.
 */
import { HttpError } from '../http';
import { DATATYPES, flatten, type V2InferRequest } from '../v2';
import { decodeRaw, encodeRaw, type Scalar } from '../rawTensors';

/** `InferParameter` as proto-loader decodes it (`oneofs: true`). */
export interface GrpcParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
  double_param?: number;
  uint64_param?: number;
}

export interface GrpcContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: number[];
  uint_contents?: number[];
  uint64_contents?: number[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

export interface GrpcTensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, GrpcParameter>;
  contents?: GrpcContents | null;
}

export interface GrpcInferRequest {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, GrpcParameter>;
  inputs: GrpcTensor[];
  outputs?: { name: string; parameters?: Record<string, GrpcParameter> }[];
  raw_input_contents?: Buffer[];
}

export interface GrpcInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, GrpcParameter>;
  outputs: GrpcTensor[];
  raw_output_contents: Buffer[];
}

/** Which typed-contents field carries a datatype (FP16 has none: raw only). */
const FIELD: Record<string, keyof GrpcContents> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

const bad = (message: string): HttpError => new HttpError(400, message);

function parametersToJson(
  params: Record<string, GrpcParameter> | undefined,
): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const k in params) {
    const p = params[k];
    const choice = p?.parameter_choice;
    if (choice) (out ??= {})[k] = p[choice];
  }
  return out;
}

function parametersToGrpc(params: unknown): Record<string, GrpcParameter> {
  const out: Record<string, GrpcParameter> = {};
  if (typeof params !== 'object' || params === null) return out;
  for (const [k, v] of Object.entries(params)) {
    // Objects (MLServer's `headers`) have no InferParameter form; they are left out.
    if (typeof v === 'boolean') out[k] = { bool_param: v };
    else if (typeof v === 'string') out[k] = { string_param: v };
    else if (typeof v === 'number') out[k] = Number.isInteger(v) ? { int64_param: v } : { double_param: v };
  }
  return out;
}

/** The ModelInferRequest as the V2 JSON request the router checks, records and sends upstream. */
export function requestToJson(msg: GrpcInferRequest): V2InferRequest {
  const raw = msg.raw_input_contents ?? [];
  const inputs = msg.inputs ?? [];
  if (inputs.length === 0) throw bad('inputs: must not be empty');
  if (raw.length > 0 && raw.length !== inputs.length)
    throw bad(
      `raw_input_contents: has ${raw.length} entries but there are ${inputs.length} inputs — send one per input, in the order of inputs`,
    );
  const json: V2InferRequest = {
    inputs: inputs.map((t, i) => {
      const at = `inputs[${i}]`;
      if (!t.name) throw bad(`${at}.name: must be a non-empty string`);
      if (!DATATYPES.has(t.datatype))
        throw bad(`${at}.datatype: must be one of ${[...DATATYPES].join(', ')}, got "${t.datatype}"`);
      const shape = (t.shape ?? []).map(Number);
      if (shape.some((d) => !Number.isSafeInteger(d) || d < 0))
        throw bad(`${at}.shape: must be non-negative integers`);
      const count = shape.reduce((a, b) => a * b, 1);
      let data: Scalar[];
      if (raw.length > 0) {
        if (hasContents(t.contents))
          throw bad(`${at}.contents: must be empty when raw_input_contents are used`);
        data = decodeRaw(raw[i]!, t.datatype, count, `raw_input_contents[${i}]`);
      } else {
        data = decodeTyped(t.contents ?? {}, t.datatype, count, `${at}.contents`);
      }
      const params = parametersToJson(t.parameters);
      return { name: t.name, shape, datatype: t.datatype, data, ...(params ? { parameters: params } : {}) };
    }),
  };
  if (msg.id) json.id = msg.id;
  const params = parametersToJson(msg.parameters);
  if (params) json.parameters = params;
  if (msg.outputs && msg.outputs.length > 0)
    json.outputs = msg.outputs.map((o, i) => {
      if (!o.name) throw bad(`outputs[${i}].name: must be a non-empty string`);
      const p = parametersToJson(o.parameters);
      return { name: o.name, ...(p ? { parameters: p } : {}) };
    });
  return json;
}

function hasContents(c: GrpcContents | null | undefined): boolean {
  return !!c && Object.values(c).some((v) => Array.isArray(v) && v.length > 0);
}

function decodeTyped(c: GrpcContents, datatype: string, count: number, at: string): Scalar[] {
  const field = FIELD[datatype];
  if (!field) throw bad(`${at}: ${datatype} has no typed contents — send it in raw_input_contents`);
  const values = (c[field] ?? []) as (number | boolean | Buffer)[];
  if (values.length !== count)
    throw bad(`${at}.${field}: has ${values.length} elements but the shape needs ${count}`);
  for (const f in c) {
    const v = c[f as keyof GrpcContents];
    if (f !== field && Array.isArray(v) && v.length > 0)
      throw bad(`${at}.${f}: a ${datatype} tensor carries its elements in ${field}`);
  }
  return datatype === 'BYTES' ? (values as Buffer[]).map((b) => b.toString('utf8')) : (values as Scalar[]);
}

interface JsonTensor {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  data?: unknown;
  parameters?: unknown;
}

/**
 * A V2 JSON inference response as a ModelInferResponse: raw contents when the client sent raw
 * inputs (as tritonclient does, and reads only raw outputs back), typed contents otherwise.
 */
export function responseFromJson(json: unknown, raw: boolean): GrpcInferResponse {
  const r = (json ?? {}) as {
    model_name?: unknown;
    model_version?: unknown;
    id?: unknown;
    parameters?: unknown;
    outputs?: unknown;
  };
  const outputs = Array.isArray(r.outputs) ? (r.outputs as JsonTensor[]) : [];
  const response: GrpcInferResponse = {
    model_name: typeof r.model_name === 'string' ? r.model_name : '',
    model_version: typeof r.model_version === 'string' ? r.model_version : '',
    id: typeof r.id === 'string' ? r.id : '',
    parameters: parametersToGrpc(r.parameters),
    outputs: [],
    raw_output_contents: [],
  };
  // FP16 has no typed field: one FP16 output makes the whole answer raw (the protocol allows no mix).
  const useRaw = raw || outputs.some((o) => o.datatype === 'FP16');
  for (const o of outputs) {
    const datatype = typeof o.datatype === 'string' ? o.datatype : 'BYTES';
    const data = Array.isArray(o.data) ? (flatten(o.data) ?? []) : [];
    const tensor: GrpcTensor = {
      name: typeof o.name === 'string' ? o.name : '',
      datatype,
      shape: Array.isArray(o.shape) ? o.shape.map(Number) : [data.length],
      parameters: parametersToGrpc(o.parameters),
    };
    if (useRaw) response.raw_output_contents.push(encodeRaw(data, datatype));
    else tensor.contents = typedContents(data, datatype);
    response.outputs.push(tensor);
  }
  return response;
}

function typedContents(data: readonly unknown[], datatype: string): GrpcContents {
  const field = FIELD[datatype] ?? 'bytes_contents';
  if (field === 'bytes_contents')
    return { bytes_contents: data.map((v) => Buffer.from(typeof v === 'string' ? v : String(v), 'utf8')) };
  if (field === 'bool_contents') return { bool_contents: data.map((v) => v === true || v === 1) };
  return { [field]: data.map(Number) };
}

/** A ModelInferResponse (from a gRPC upstream) as V2 JSON: what the router records and re-encodes. */
export function responseToJson(msg: GrpcInferResponse): Record<string, unknown> {
  const raw = msg.raw_output_contents ?? [];
  const outputs = (msg.outputs ?? []).map((t, i) => {
    const shape = (t.shape ?? []).map(Number);
    const count = shape.reduce((a, b) => a * b, 1);
    const data =
      raw.length > 0
        ? decodeRaw(raw[i] ?? Buffer.alloc(0), t.datatype, count, `raw_output_contents[${i}]`)
        : decodeTyped(t.contents ?? {}, t.datatype, count, `outputs[${i}].contents`);
    const params = parametersToJson(t.parameters);
    return { name: t.name, datatype: t.datatype, shape, data, ...(params ? { parameters: params } : {}) };
  });
  const params = parametersToJson(msg.parameters);
  return {
    model_name: msg.model_name,
    model_version: msg.model_version,
    id: msg.id,
    ...(params ? { parameters: params } : {}),
    outputs,
  };
}
