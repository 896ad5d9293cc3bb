/**
 * The check of `drift.modelInput` (docs/graphs.md, "Drift after the transformer"): the tensor is
 * one tensor of a step that a graph variant runs, and its reference CSV exists.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Experiment } from '../spec/experiment';
import { REQUEST, parseRef } from '../spec/graph';

/** Problems, each at its path in the experiment file. */
export function modelInputDriftProblems(exp: Experiment): { path: (string | number)[]; message: string }[] {
  const modelInput = exp.spec.drift?.modelInput;
  if (!modelInput) return [];
  const problems: { path: (string | number)[]; message: string }[] = [];
  const at = ['spec', 'drift', 'modelInput'];
  const steps = [...new Set(exp.spec.variants.flatMap((v) => v.graph?.steps.map((s) => s.name) ?? []))];
  const { source, side, tensor } = parseRef(modelInput.tensor);
  if (steps.length === 0)
    problems.push({
      path: [...at, 'tensor'],
      message:
        'no variant is a graph: drift on the model input needs a graph variant (drift.reference covers single models)',
    });
  else if (source === REQUEST || tensor === undefined || !steps.includes(source))
    problems.push({
      path: [...at, 'tensor'],
      message: `"${modelInput.tensor}" must name one tensor of a graph step, <step>.outputs.<tensor> or <step>.inputs.<tensor> (steps: ${steps.join(', ')}), e.g. ${steps[0]}.${side}.<tensor>`,
    });
  if (!existsSync(resolve(dirname(exp.file), modelInput.reference)))
    problems.push({
      path: [...at, 'reference'],
      message: `the reference file ${modelInput.reference} does not exist (paths are relative to the experiment file)`,
    });
  return problems;
}
