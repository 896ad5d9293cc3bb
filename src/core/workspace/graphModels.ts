/**
 * The checks of a variant's graph that need the workspace's models: every step is a model of
 * the workspace, and every tensor a step reads from another step is one that step's model
 * produces. What a model produces: the `outputs` its model-settings.json declares, else the
 * outputs of its MLServer runtime (scikit-learn, XGBoost and LightGBM answer `predict` and
 * `predict_proba`); a custom runtime that declares none is not checked. Where both models
 * declare datatypes (model-settings.json `inputs`/`outputs`), a tensor passed between them must
 * keep its datatype.
 */
import { parseRef, REQUEST, type Graph, type GraphStep } from '../spec/graph';
import type { ModelVersion } from './discover';
import { modelRuntimeOf } from './modelRuntimes';

const RUNTIME_OUTPUTS = ['predict', 'predict_proba'];

/** The tensors a model produces, when known. */
export function modelOutputs(model: ModelVersion): string[] | undefined {
  if (model.outputs) return model.outputs;
  return modelRuntimeOf(model.implementation) ? RUNTIME_OUTPUTS : undefined;
}

/**
 * When both models declare datatypes: the tensor `ref` names as the step receives it (after its
 * tensorMap) must have the datatype the step's model declares for that input.
 */
function datatypeMismatch(
  ref: string,
  step: GraphStep,
  models: Map<string, ModelVersion>,
): string | undefined {
  const { source, side, tensor } = parseRef(ref);
  if (source === REQUEST || side !== 'outputs' || tensor === undefined) return undefined;
  const produced = models.get(source)?.datatypes?.outputs[tensor];
  const name = step.tensorMap?.[ref] ?? tensor;
  const expected = models.get(step.name)?.datatypes?.inputs[name];
  if (!produced || !expected || produced === expected) return undefined;
  return `datatype mismatch: ${ref} is ${produced} (model ${source}), but model ${step.name} declares its input "${name}" as ${expected} — convert it in ${source}, or change ${step.name}'s model-settings.json`;
}

/** Problems, each at its path under the graph. */
export function graphModelProblems(
  graph: Graph,
  models: readonly ModelVersion[],
  hint: string,
): { path: (string | number)[]; message: string }[] {
  const byName = new Map(models.map((m) => [m.name, m]));
  const problems: { path: (string | number)[]; message: string }[] = [];
  graph.steps.forEach((step, i) => {
    if (!byName.has(step.name))
      problems.push({
        path: ['steps', i, 'name'],
        message: `unknown step "${step.name}": no such model${hint}`,
      });
  });
  const check = (ref: string, path: (string | number)[]): void => {
    const { source, side, tensor } = parseRef(ref);
    if (source === REQUEST || side !== 'outputs' || tensor === undefined) return;
    const model = byName.get(source);
    const produced = model ? modelOutputs(model) : undefined;
    if (produced && !produced.includes(tensor))
      problems.push({
        path,
        message: `no step produces "${ref}": model ${source} answers ${produced.join(', ')}`,
      });
  };
  graph.steps.forEach((step, i) => {
    (step.inputs ?? []).forEach((ref, j) => {
      check(ref, ['steps', i, 'inputs', j]);
      const mismatch = datatypeMismatch(ref, step, byName);
      if (mismatch) problems.push({ path: ['steps', i, 'inputs', j], message: mismatch });
    });
    for (const key of Object.keys(step.tensorMap ?? {})) check(key, ['steps', i, 'tensorMap', key]);
  });
  graph.output?.steps.forEach((ref, j) => check(ref, ['output', 'steps', j]));
  return problems;
}
