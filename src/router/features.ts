/**
 * What the router records for drift: a request's features and the model's class and score.
 *
 * One request is one sample: the features and outputs of its FIRST row are recorded. Recording
 * every row would let one batch client fill the drift window on its own and would make the event
 * count differ from the request count the split and the error rate are computed on.
 *
 * Features come from named V2 inputs (one input per column, as MLServer's pandas codec sends
 * them) under their own names, and from the columns of a 2-D input tensor, named by the
 * configured `features` list or the drift reference CSV's header, in order.
 *
 * Outputs: the class is the `predict` output; the score is the positive-class column (column 1)
 * of `predict_proba` for two classes, and the highest probability for more. Without `predict`
 * the class is the index of the highest probability.
 */
import { flatten, type V2InferRequest } from './v2';

export interface RecordedOutputs {
  predict?: number | string;
  proba?: number;
}

export const PREDICT = 'predict';
export const PREDICT_PROBA = 'predict_proba';

/** The features of the first row, by name. */
export function firstRowFeatures(
  req: V2InferRequest,
  columns: readonly string[] | undefined,
): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const input of req.inputs) {
    const shape = input.shape;
    const flat = flatten(input.data) ?? [];
    // A row of a 3-D (or deeper) tensor is not a list of features: nothing to record.
    if (flat.length === 0 || shape.length > 2) continue;
    const width = shape.length === 2 ? (shape[1] ?? 1) : 1;
    if (width === 1) {
      const v = scalar(flat[0]);
      if (v !== undefined) out[input.name] = v;
      continue;
    }
    for (let j = 0; j < width; j++) {
      const v = scalar(flat[j]);
      if (v !== undefined) out[columns?.[j] ?? `${input.name}_${j}`] = v;
    }
  }
  return out;
}

// Non-finite numbers (NaN, ±Infinity: only a gRPC answer's floats can hold them) count as absent, as in JSON.
function scalar(v: unknown): number | string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

interface V2Output {
  name?: unknown;
  shape?: unknown;
  data?: unknown;
}

/** Class and score of the first row of a V2 inference response (parsed JSON). */
export function firstRowOutputs(response: unknown): RecordedOutputs {
  const outputs = (response as { outputs?: unknown } | null)?.outputs;
  if (!Array.isArray(outputs)) return {};
  const result: RecordedOutputs = {};
  let probaRow: number[] | undefined;
  for (const o of outputs as V2Output[]) {
    if (!Array.isArray(o.data)) continue;
    const flat = flatten(o.data) ?? [];
    if (o.name === PREDICT) {
      const v = scalar(flat[0]);
      if (v !== undefined) result.predict = v;
    } else if (o.name === PREDICT_PROBA) {
      const shape = Array.isArray(o.shape) ? (o.shape as number[]) : [];
      const classes = shape.length >= 2 ? (shape[1] ?? 1) : 1;
      const row = flat
        .slice(0, classes)
        .filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
      if (row.length === classes && classes > 0) probaRow = row;
    }
  }
  if (probaRow) {
    result.proba = probaRow.length === 2 ? probaRow[1]! : Math.max(...probaRow);
    if (result.predict === undefined) result.predict = probaRow.indexOf(Math.max(...probaRow));
  }
  return result;
}

/**
 * The client's body with an `outputs` member spliced in after its opening brace — cheaper than
 * re-serialising it, and only used on bodies without one (so no key is duplicated).
 */
export function withOutputs(body: Buffer, names: readonly string[]): Buffer {
  const open = body.indexOf(0x7b); // '{'
  let member = members.get(names);
  if (!member) {
    member = Buffer.from(`{"outputs":${JSON.stringify(names.map((name) => ({ name })))},`);
    members.set(names, member);
  }
  return Buffer.concat([member, body.subarray(open + 1)], member.length + body.length - open - 1);
}

// The spliced member of each list of names: route.ts asks with the same list per variant.
const members = new WeakMap<readonly string[], Buffer>();
