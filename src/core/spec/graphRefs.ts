/**
 * The references of a graph's steps (src/core/spec/graph.ts), without the schema: the views of
 * the extension read them at activation, where the schema library is not loaded
 * (src/vscode/engine.ts).
 */

/** The name that stands for the graph's own inputs (Seldon: the pipeline's name). */
export const REQUEST = 'request';

/** A parsed reference: whose tensors (a step or the request), which side, which tensor. */
export interface TensorRef {
  source: string;
  side: 'inputs' | 'outputs';
  /** Undefined: every tensor of that side. */
  tensor?: string;
}

export function parseRef(ref: string): TensorRef {
  const match = /^(.+?)(?:\.(inputs|outputs)(?:\.(.+))?)?$/.exec(ref)!;
  const source = match[1]!;
  const side = (match[2] as TensorRef['side'] | undefined) ?? (source === REQUEST ? 'inputs' : 'outputs');
  return { source, side, ...(match[3] ? { tensor: match[3] } : {}) };
}

/** The steps a step reads from (not the request), in the order it names them. */
export function dependencies(step: { inputs?: readonly string[] }): string[] {
  return [...new Set((step.inputs ?? []).map((r) => parseRef(r).source).filter((s) => s !== REQUEST))];
}
