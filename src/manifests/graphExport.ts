/**
 * Exports of experiments with graph variants (docs/graphs.md).
 *
 * seldon — every variant becomes a Seldon Core v2 `Pipeline` named `<experiment>-<variant>`
 *   (a single-model variant a one-step pipeline: a Seldon Experiment's candidates are all
 *   models or all pipelines), each step a `Model`, and the `Experiment` runs over the pipelines
 *   (`resourceType: pipeline`). The graph maps one to one: steps, `inputs`, `tensorMap` and
 *   `output`, with `request` (the graph's inputs) written as the pipeline's name.
 * kserve — KServe has no graph object: an experiment with a graph variant is refused, naming it,
 *   and nothing is written.
 * builtin — carries graphs (src/manifests/stack: a model server per step, the graph in the router config).
 */
import type { Experiment } from '../core/spec/experiment';
import { REQUEST, parseRef, type Graph } from '../core/spec/graph';
import { modelRuntimeOf } from '../core/workspace/modelRuntimes';
import { dnsName } from './labels';
import type { ExperimentInput, ModelRef } from './stack';
import type { KubeObject } from './types';

/** The experiment's graph variants' names (the shadow is always one model). */
export function graphVariants(exp: Experiment): string[] {
  return exp.spec.variants.filter((v) => v.graph).map((v) => v.name);
}

/** Where graphs run today. */
export const GRAPHS_LOCALLY =
  'run graph experiments with the local environment (model-canary up, then deploy)';

/** Thrown where a target cannot carry graphs: no partial output. */
export class GraphExportError extends Error {
  override readonly name = 'GraphExportError';
}

/** Refuses a graph experiment for a target without graphs. */
export function refuseGraphs(exp: Experiment, target: string, instead: string): void {
  const graphs = graphVariants(exp);
  if (graphs.length === 0) return;
  throw new GraphExportError(
    `${target} cannot carry inference graphs: variant${graphs.length > 1 ? 's' : ''} ${graphs.join(', ')} of ${exp.metadata.name} ${graphs.length > 1 ? 'are graphs' : 'is a graph'} — ${instead}`,
  );
}

/** What Seldon's MLServer `Server` must offer for a model (its `requirements`). */
export function requirements(ref: ModelRef | undefined): string[] {
  const runtime = ref?.implementation ? modelRuntimeOf(ref.implementation) : 'sklearn';
  // A custom MLServer runtime (a MLModel subclass) needs the server's Python capability.
  return [runtime ?? 'python'];
}

/**
 * KServe's `modelFormat` for a model: its MLServer runtime (kserve-mlserver serves all three).
 * XGBoost's and LightGBM's carry no version: the runtime matches the format by name, whatever
 * major versions it lists.
 */
export function modelFormat(ref: ModelRef | undefined): { name: string; version?: string } {
  const runtime = ref?.implementation ? modelRuntimeOf(ref.implementation) : 'sklearn';
  return runtime === 'xgboost' || runtime === 'lightgbm'
    ? { name: runtime }
    : { name: 'sklearn', version: '1' };
}

/** Seldon Core v2: Models, a Pipeline per variant (and the shadow), an Experiment over the pipelines. */
export function seldonPipelineObjects(
  input: ExperimentInput,
  modelUri: (model: string) => string,
  labels: Record<string, string>,
  namespace?: string,
): { objects: KubeObject[]; notes: string[] } {
  const exp = input.experiment;
  const ns = namespace ? { namespace } : {};
  const modelName = (m: string): string => dnsName([m]);
  const pipelineName = (variant: string): string => dnsName([exp.metadata.name, variant]);
  const byName = new Map(input.models.map((m) => [m.name, m]));
  const mirror = exp.spec.routing?.mirror;
  const arms: { variant: string; graph: Graph }[] = [
    ...exp.spec.variants.map((v) => ({ variant: v.name, graph: v.graph ?? { steps: [{ name: v.model }] } })),
    ...(mirror ? [{ variant: mirror.variant, graph: { steps: [{ name: mirror.model }] } }] : []),
  ];
  const models = [...new Set(arms.flatMap((a) => a.graph.steps.map((s) => s.name)))];
  const objects: KubeObject[] = models.map((m) => ({
    apiVersion: 'mlops.seldon.io/v1alpha1',
    kind: 'Model',
    metadata: { name: modelName(m), ...ns, labels },
    spec: { storageUri: modelUri(m), requirements: requirements(byName.get(m)) },
  }));
  for (const { variant, graph } of arms) {
    const pipeline = pipelineName(variant);
    const ref = (r: string): string => {
      const { source, side, tensor } = parseRef(r);
      const name = source === REQUEST ? pipeline : modelName(source);
      return r === source ? name : `${name}.${side}${tensor === undefined ? '' : `.${tensor}`}`;
    };
    const map = (m: Record<string, string> | undefined): Record<string, string> | undefined =>
      m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [ref(k), v])) : undefined;
    const last = graph.steps.at(-1)!.name;
    objects.push({
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Pipeline',
      metadata: { name: pipeline, ...ns, labels },
      spec: {
        steps: graph.steps.map((s) => ({
          name: modelName(s.name),
          ...(s.inputs ? { inputs: s.inputs.map(ref) } : {}),
          ...(s.tensorMap ? { tensorMap: map(s.tensorMap) } : {}),
        })),
        output: {
          steps: (graph.output?.steps ?? [last]).map(ref),
          ...(graph.output?.tensorMap ? { tensorMap: map(graph.output.tensorMap) } : {}),
        },
      },
    });
  }
  const baseline = exp.spec.variants.find((v) => v.role === 'baseline') ?? exp.spec.variants[0]!;
  const candidates = exp.spec.variants.map((v) => ({
    name: pipelineName(v.name),
    weight: Math.round(input.weights?.[v.name] ?? v.weight),
  }));
  objects.push({
    apiVersion: 'mlops.seldon.io/v1alpha1',
    kind: 'Experiment',
    metadata: { name: exp.metadata.name, ...ns, labels },
    spec: {
      default: pipelineName(baseline.name),
      resourceType: 'pipeline',
      candidates,
      ...(mirror
        ? { mirror: { name: pipelineName(mirror.variant), percent: Math.round(mirror.percent) } }
        : {}),
    },
  });
  const notes = [
    `every variant is a Pipeline named <experiment>-<variant> (${candidates.map((c) => c.name).join(', ')}), the Experiment runs over them (resourceType: pipeline)`,
    'the business metric, feedback, report, drift and guardrails stay with Model Canary (not mapped)',
  ];
  if (exp.spec.routing?.sticky)
    notes.push(
      `sticky header "${exp.spec.routing.sticky.header}" does not map: Seldon keeps a session on one candidate with its x-seldon-route header instead`,
    );
  return { objects, notes };
}
