/**
 * A variant's inference graph (`spec.variants[].graph`), shaped like Seldon Core v2's
 * `Pipeline` so the export maps one to one: steps named after the workspace's models, each
 * reading tensors from the request or from earlier steps (`inputs`, renamed by `tensorMap`),
 * and the steps whose outputs are the answer (`output`). docs/graphs.md.
 *
 * References, as in Seldon (with `request` where Seldon names the pipeline):
 * `<step>` or `<step>.outputs` (all its outputs), `<step>.outputs.<tensor>`,
 * `<step>.inputs[.<tensor>]` (what that step received), `request[.inputs[.<tensor>]]`.
 */
import { z } from 'zod';

import { REQUEST, dependencies, parseRef } from './graphRefs';

export { REQUEST, dependencies, parseRef, type TensorRef } from './graphRefs';

const stepName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be the name of a model of the workspace')
  .refine((s) => s !== REQUEST, `"${REQUEST}" names the graph's own inputs; a step cannot be called so`);
const reference = z
  .string()
  .regex(
    /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(\.(inputs|outputs)(\.[^.\s]+)?)?$/,
    'must be <step>, <step>.outputs.<tensor>, <step>.inputs.<tensor> or request.inputs.<tensor>',
  );

export const graphStepSchema = z.strictObject({
  /** The model this step calls (a model of the workspace, as in Seldon a step is a Model). */
  name: stepName,
  /** Where its tensors come from; none: the request's inputs. */
  inputs: z.array(reference).min(1).optional(),
  /** Renames: reference → the tensor name this step receives. */
  tensorMap: z.record(reference, z.string().min(1)).optional(),
});

export const graphSchema = z.strictObject({
  steps: z.array(graphStepSchema).min(1, 'needs at least one step'),
  /** The steps whose outputs are the answer; default the last step. */
  output: z
    .strictObject({
      steps: z.array(reference).min(1),
      tensorMap: z.record(reference, z.string().min(1)).optional(),
    })
    .optional(),
});

export type Graph = z.output<typeof graphSchema>;
export type GraphStep = z.output<typeof graphStepSchema>;

/** Every model a variant calls: its model, or each step of its graph. */
export function variantModels(v: { model: string; graph?: Graph }): string[] {
  return v.graph ? v.graph.steps.map((s) => s.name) : [v.model];
}

/** The steps the answer is made of. */
export function outputSteps(graph: Graph): string[] {
  return graph.output ? graph.output.steps.map((r) => parseRef(r).source) : [graph.steps.at(-1)!.name];
}

/**
 * The steps in waves: every step of a wave depends only on earlier waves, so a wave's steps
 * can run side by side. Assumes a valid graph (graphIssues found nothing).
 */
export function graphWaves(graph: Graph): string[][] {
  const done = new Set<string>();
  const waves: string[][] = [];
  let left = graph.steps;
  while (left.length > 0) {
    const wave = left.filter((s) => dependencies(s).every((d) => done.has(d)));
    if (wave.length === 0) throw new Error('the graph has a cycle');
    for (const s of wave) done.add(s.name);
    waves.push(wave.map((s) => s.name));
    left = left.filter((s) => !done.has(s.name));
  }
  return waves;
}

/** Problems of a graph's shape, each at its path under `at` (for the schema's superRefine). */
export function graphIssues(
  graph: Graph,
  at: (string | number)[],
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const names = new Map<string, number>();
  graph.steps.forEach((s, i) => {
    if (names.has(s.name))
      issues.push({ path: [...at, 'steps', i, 'name'], message: `duplicate step "${s.name}"` });
    else names.set(s.name, i);
  });
  const known = `the graph's steps are ${[...names.keys()].join(', ')} (and "${REQUEST}" for the request's inputs)`;
  const checkRef = (ref: string, path: (string | number)[], self?: string): void => {
    const { source, side } = parseRef(ref);
    if (source === REQUEST) {
      if (side !== 'inputs')
        issues.push({ path, message: `"${ref}": the request has only inputs (request.inputs.<tensor>)` });
    } else if (!names.has(source)) {
      issues.push({ path, message: `"${ref}" names an unknown step "${source}" — ${known}` });
    } else if (source === self) {
      issues.push({ path, message: `"${ref}": a step cannot read its own tensors` });
    }
  };
  graph.steps.forEach((s, i) => {
    (s.inputs ?? []).forEach((ref, j) => checkRef(ref, [...at, 'steps', i, 'inputs', j], s.name));
    const reads = new Set(s.inputs ?? [REQUEST]);
    for (const key of Object.keys(s.tensorMap ?? {})) {
      checkRef(key, [...at, 'steps', i, 'tensorMap', key], s.name);
      const { source } = parseRef(key);
      if (![...reads].some((r) => parseRef(r).source === source))
        issues.push({
          path: [...at, 'steps', i, 'tensorMap', key],
          message: `"${key}" is not among the inputs of step "${s.name}" — add it to its inputs or remove the mapping`,
        });
    }
  });
  graph.output?.steps.forEach((ref, j) => {
    checkRef(ref, [...at, 'output', 'steps', j]);
    if (parseRef(ref).source === REQUEST)
      issues.push({ path: [...at, 'output', 'steps', j], message: 'the output must come from a step' });
  });
  for (const key of Object.keys(graph.output?.tensorMap ?? {}))
    checkRef(key, [...at, 'output', 'tensorMap', key]);
  if (issues.length > 0) return issues;
  const cycle = findCycle(graph);
  if (cycle)
    issues.push({
      path: [...at, 'steps', names.get(cycle[0]!)!, 'inputs'],
      message: `the steps form a cycle: ${cycle.join(' → ')} — a step can only read the request or steps that do not read it`,
    });
  return issues;
}

/** A cycle of steps (first repeated at the end), or undefined. */
function findCycle(graph: Graph): string[] | undefined {
  const byName = new Map(graph.steps.map((s) => [s.name, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of dependencies(byName.get(name)!)) {
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const s of graph.steps) {
    const found = visit(s.name);
    if (found) return found.reverse();
  }
  return undefined;
}
