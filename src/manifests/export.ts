/**
 * `model-canary export`: an experiment as manifests for GitOps, for three targets.
 *
 * builtin — the Model Canary stack itself (router + MLServer per variant), the same objects
 *   `model-canary promote` applies. Everything maps. Without a model URI base the models come
 *   from the kind node's /models mount (a stack for the local kind cluster).
 *
 * seldon — Seldon Core v2 (`mlops.seldon.io/v1alpha1`): a `Model` per model version
 *   (`storageUri` = <model URI base>/<model folder>, `requirements: [sklearn]`, so the default
 *   MLServer `Server` loads it) and an `Experiment` whose `candidates` are the variants with their
 *   weights, `default` the baseline's model (requests to it go through the experiment) and
 *   `mirror` the shadow with its percent.
 *   Does not map: the sticky header (Seldon makes a session sticky with its own `x-seldon-route`
 *   response header, which the client sends back); the business metric, feedback, report, drift
 *   and guardrails (Seldon has its own feedback and Alibi Detect); rollout steps. Weights are
 *   integers in Seldon (rounded). Clients call `/v2/models/<experiment>.experiment/infer` or the
 *   baseline model's name; gRPC clients the seldon-mesh Service with `seldon-model` metadata.
 *
 * kserve — KServe (`serving.kserve.io/v1beta1`): one `InferenceService` named after the endpoint,
 *   served by the MLServer runtime (`runtime: kserve-mlserver`, `modelFormat: sklearn`,
 *   `protocolVersion: v2`). KServe's canary is a rollout of a new revision: apply
 *   `*-1-baseline.yaml` (the baseline's storageUri), wait until it is Ready, then apply
 *   `*-2-canary.yaml` (the candidate's storageUri with `canaryTrafficPercent` = its share).
 *   Does not map: more than one candidate (only the first is exported), the shadow (no mirroring
 *   in KServe), the sticky header, the business metric, report, drift and guardrails, and
 *   rollout steps (raise canaryTrafficPercent yourself). canaryTrafficPercent needs KServe's
 *   Serverless (Knative) mode; RawDeployment mode ignores it.
 *
 * prometheus, grafana — monitoring for the router's metrics: rules and a dashboard
 *   (./monitoringExport, docs/monitoring.md).
 */
import { stringify } from 'yaml';
import type { Experiment } from '../core/spec/experiment';
import type { RouterBundle } from '../shared/routerFiles';
import {
  GRAPHS_LOCALLY,
  graphVariants,
  modelFormat,
  refuseGraphs,
  requirements,
  seldonPipelineObjects,
} from './graphExport';
import { dnsName, stackLabels } from './labels';
import { buildStack, DEFAULT_RELEASE, type ExperimentInput, type ModelRef, type StackOptions } from './stack';
import { MONITORING_DOCS, grafanaFiles, prometheusFiles } from './monitoringExport';
import type { RuleOptions } from './prometheusRules';
import type { KubeObject } from './types';

export type ExportTarget = 'builtin' | 'seldon' | 'kserve' | 'prometheus' | 'grafana';
export const EXPORT_TARGETS: readonly ExportTarget[] = [
  'builtin',
  'seldon',
  'kserve',
  'prometheus',
  'grafana',
];
/** Targets that serve the models (and so need to know where they are); the others are monitoring. */
export const SERVING_TARGETS: readonly ExportTarget[] = ['builtin', 'seldon', 'kserve'];

/** What each target is and what does not map; printed by `export --help` and written into each file. */
export const EXPORT_DOCS: Record<ExportTarget, string> = {
  builtin: [
    'builtin: the Model Canary stack (the router as a StatefulSet, one event log per replica, +',
    'one MLServer Deployment per variant, with budgets and CPU autoscalers), the objects',
    '`model-canary promote` applies. Everything maps. Without --model-uri-base the models come from',
    "the kind node's /models mount; with it an init container downloads each model folder over HTTP(S).",
    'gRPC clients call inference.GRPCInferenceService/ModelInfer (model_name = the endpoint) on the',
    "router Service's port grpc (8091; on kind NodePort 30091, mapped to 127.0.0.1:<router port + 1>).",
    "Not included: the router's admin and ingest tokens (feedback and labels need the latter). Create",
    'them once per namespace (the router waits for them):',
    '  kubectl -n <namespace> create secret generic model-canary-router-admin --from-literal=token=$(openssl rand -hex 24) --from-literal=ingest-token=$(openssl rand -hex 24)',
    'Graph variants run too: one MLServer Deployment per step of each graph variant, the graph in the router config.',
  ].join('\n'),
  seldon: [
    'seldon: Seldon Core v2 (mlops.seldon.io/v1alpha1) — a Model per model version (storageUri =',
    '<model URI base>/<model folder>, requirements [sklearn]) and an Experiment: candidates = the',
    'variants with their weights, default = the baseline model, mirror = the shadow.',
    'Does not map: the sticky header (Seldon uses its own x-seldon-route header), the business',
    'metric, feedback, report, drift and guardrails, rollout steps. Weights are rounded to integers.',
    'Clients call /v2/models/<experiment>.experiment/infer (or the baseline model name). gRPC clients',
    "call inference.GRPCInferenceService/ModelInfer on the seldon-mesh Service's gRPC port (h2c) with",
    'the metadata seldon-model: <experiment>.experiment and model_name = the baseline model.',
    'With a graph variant every variant becomes a Pipeline <experiment>-<variant> (steps, inputs,',
    'tensorMap, output one to one) and the Experiment runs over the pipelines (resourceType pipeline).',
  ].join('\n'),
  kserve: [
    'kserve: KServe (serving.kserve.io/v1beta1) — one InferenceService named after the endpoint on',
    'the MLServer runtime (kserve-mlserver, sklearn, protocol v2). Apply *-1-baseline.yaml, wait',
    'until Ready, then *-2-canary.yaml: the first candidate with canaryTrafficPercent = its share.',
    'Does not map: a second candidate, the shadow, the sticky header, the business metric, report,',
    'drift and guardrails, rollout steps. canaryTrafficPercent needs Serverless (Knative) mode.',
    'gRPC: Knative exposes one port per InferenceService, HTTP by default. For gRPC clients add a',
    "port named h2c at the runtime's MLServer gRPC port under predictor.model.ports, and call",
    'inference.GRPCInferenceService/ModelInfer at the ingress with the authority <name>.<namespace>.<domain>.',
    'Graph variants are refused (KServe has no graph object): nothing is written.',
  ].join('\n'),
  ...MONITORING_DOCS,
};

export interface ExportOptions {
  target: ExportTarget;
  namespace?: string;
  /** Where model folders are published: http(s) for builtin; also s3://, gs:// for Seldon and KServe. */
  modelUriBase?: string;
  /** builtin: the router bundle (dist/router.js and the dashboard's assets), unless routerImage is set. */
  routerBundle?: RouterBundle;
  routerImage?: string;
  /** builtin: more stack options (images, resources). */
  stack?: Partial<StackOptions>;
  /** Export even when the target cannot carry every arm of the experiment (the dropped ones are listed). */
  allowLossy?: boolean;
  /** prometheus and grafana: the rate window, how long before an alert fires, the runbook page. */
  monitoring?: RuleOptions;
}

/** The target cannot carry every arm: exporting would silently send traffic elsewhere than the experiment says. */
export class LossyExportError extends Error {
  override readonly name = 'LossyExportError';
  constructor(
    readonly target: ExportTarget,
    readonly dropped: string[],
  ) {
    super(
      `${target} cannot carry ${dropped.join(' and ')} of this experiment — export with --allow-lossy (Export Anyway in VS Code) to leave them out, or choose --target builtin, which keeps every arm`,
    );
  }
}

export interface ExportFile {
  name: string;
  content: string;
}

export interface ExportResult {
  files: ExportFile[];
  /** What of this experiment the target cannot express. */
  notes: string[];
}

/** Builds the files of one export. */
export function exportExperiment(input: ExperimentInput, opts: ExportOptions): ExportResult {
  const exp = input.experiment;
  switch (opts.target) {
    case 'builtin': {
      const namespace = opts.namespace ?? DEFAULT_RELEASE;
      const objects = buildStack([input], {
        ...opts.stack,
        namespace,
        platform: opts.modelUriBase ? 'remote' : 'kind',
        ...(opts.modelUriBase ? { modelSource: { kind: 'http', baseUrl: opts.modelUriBase } } : {}),
        router: { ...opts.stack?.router, image: opts.routerImage, bundle: opts.routerBundle },
      });
      const notes =
        exp.spec.drift && input.referenceCsv === undefined
          ? ['the drift reference was not found, so the report in the cluster has no drift section']
          : [];
      return { files: [file(`${exp.metadata.name}-builtin.yaml`, 'builtin', objects, notes)], notes };
    }
    case 'seldon': {
      const base = requireUriBase(opts);
      const { objects, notes } = graphVariants(exp).length
        ? seldonPipelineObjects(
            input,
            (m) => modelUri(base, input.models, m, exp),
            labelsFor(exp),
            opts.namespace,
          )
        : seldonObjects(input, base, opts.namespace);
      return { files: [file(`${exp.metadata.name}-seldon.yaml`, 'seldon', objects, notes)], notes };
    }
    case 'kserve': {
      refuseGraphs(
        exp,
        'KServe (it has no graph object)',
        `export to --target seldon (a Pipeline per variant), or ${GRAPHS_LOCALLY}`,
      );
      const { baseline, canary, notes, dropped } = kserveObjects(input, requireUriBase(opts), opts.namespace);
      if (dropped.length && !opts.allowLossy) throw new LossyExportError('kserve', dropped);
      const name = exp.metadata.name;
      return {
        files: [
          file(`${name}-kserve-1-baseline.yaml`, 'kserve', [baseline], notes),
          ...(canary ? [file(`${name}-kserve-2-canary.yaml`, 'kserve', [canary], notes)] : []),
        ],
        notes,
      };
    }
    case 'prometheus':
      return { files: prometheusFiles(exp, opts.monitoring ?? {}, opts.namespace), notes: [] };
    case 'grafana':
      return { files: grafanaFiles(exp, opts.monitoring ?? {}), notes: [] };
  }
}

function requireUriBase(opts: ExportOptions): string {
  if (!opts.modelUriBase)
    throw new Error(
      `--model-uri-base is needed for ${opts.target}: the URI under which each model folder (model-settings.json and the artifact) is published, e.g. gs://my-bucket/models`,
    );
  return opts.modelUriBase.replace(/\/+$/, '');
}

function labelsFor(exp: Experiment): Record<string, string> {
  return stackLabels({
    name: exp.spec.endpoint,
    instance: exp.metadata.name,
    component: 'model-server',
    experiment: exp.metadata.name,
  });
}

function modelUri(base: string, models: readonly ModelRef[], model: string, exp: Experiment): string {
  const ref = models.find((m) => m.name === model);
  if (!ref) throw new Error(`experiment ${exp.metadata.name}: no model "${model}" in the workspace`);
  return ref.folder === '.' ? base : `${base}/${ref.folder}`;
}

/** Normalised weights in percent of the routed traffic. */
function percentages(input: ExperimentInput): Map<string, number> {
  const variants = input.experiment.spec.variants;
  const weight = (name: string, w: number): number => input.weights?.[name] ?? w;
  const total = variants.reduce((s, v) => s + weight(v.name, v.weight), 0);
  return new Map(variants.map((v) => [v.name, total > 0 ? (100 * weight(v.name, v.weight)) / total : 0]));
}

/** Seldon Core v2: a Model per served model version and an Experiment over them. */
export function seldonObjects(
  input: ExperimentInput,
  uriBase: string,
  namespace?: string,
): { objects: KubeObject[]; notes: string[] } {
  const exp = input.experiment;
  const labels = labelsFor(exp);
  const notes: string[] = [];
  const ns = namespace ? { namespace } : {};
  const modelName = (m: string): string => dnsName([m]);
  const mirror = exp.spec.routing?.mirror;
  const models = [...new Set([...exp.spec.variants.map((v) => v.model), ...(mirror ? [mirror.model] : [])])];
  const objects: KubeObject[] = models.map((m) => ({
    apiVersion: 'mlops.seldon.io/v1alpha1',
    kind: 'Model',
    metadata: { name: modelName(m), ...ns, labels },
    spec: {
      storageUri: modelUri(uriBase, input.models, m, exp),
      requirements: requirements(input.models.find((r) => r.name === m)),
    },
  }));
  const baseline = exp.spec.variants.find((v) => v.role === 'baseline') ?? exp.spec.variants[0]!;
  const weights = exp.spec.variants.map((v) => ({
    name: modelName(v.model),
    weight: input.weights?.[v.name] ?? v.weight,
  }));
  const rounded = weights.map((w) => ({ ...w, weight: Math.round(w.weight) }));
  if (rounded.some((w, i) => w.weight !== weights[i]!.weight))
    notes.push(`weights rounded to integers: ${rounded.map((w) => `${w.name}=${w.weight}`).join(', ')}`);
  if (mirror && Math.round(mirror.percent) !== mirror.percent)
    notes.push(`mirror rounded to an integer percent: ${mirror.percent}% → ${Math.round(mirror.percent)}%`);
  if (exp.spec.routing?.sticky)
    notes.push(
      `sticky header "${exp.spec.routing.sticky.header}" does not map: Seldon keeps a session on one candidate with its x-seldon-route header instead`,
    );
  notes.push(
    'the business metric, feedback, report, drift and guardrails stay with Model Canary (not mapped)',
  );
  objects.push({
    apiVersion: 'mlops.seldon.io/v1alpha1',
    kind: 'Experiment',
    metadata: { name: exp.metadata.name, ...ns, labels },
    spec: {
      default: modelName(baseline.model),
      candidates: rounded,
      ...(mirror ? { mirror: { name: modelName(mirror.model), percent: Math.round(mirror.percent) } } : {}),
    },
  });
  return { objects, notes };
}

/** KServe: the baseline InferenceService, then the same with the first candidate as its canary. */
export function kserveObjects(
  input: ExperimentInput,
  uriBase: string,
  namespace?: string,
): { baseline: KubeObject; canary?: KubeObject; notes: string[]; dropped: string[] } {
  const exp = input.experiment;
  const notes: string[] = [];
  const dropped: string[] = [];
  const shares = percentages(input);
  const baseline = exp.spec.variants.find((v) => v.role === 'baseline') ?? exp.spec.variants[0]!;
  const candidates = exp.spec.variants.filter((v) => v !== baseline);
  if (candidates.length > 1) dropped.push(...candidates.slice(1).map((c) => `the candidate ${c.name}`));
  if (exp.spec.routing?.mirror) dropped.push(`the shadow ${exp.spec.routing.mirror.variant}`);
  if (candidates.length > 1)
    notes.push(
      `KServe canaries one revision at a time: only ${candidates[0]!.name} is exported; not mapped: ${candidates
        .slice(1)
        .map((c) => c.name)
        .join(', ')}`,
    );
  if (exp.spec.routing?.mirror)
    notes.push(`the shadow ${exp.spec.routing.mirror.variant} does not map (KServe has no mirroring)`);
  if (exp.spec.routing?.sticky) notes.push(`sticky header "${exp.spec.routing.sticky.header}" does not map`);
  notes.push(
    'the business metric, feedback, report, drift and guardrails stay with Model Canary (not mapped)',
  );
  const isvc = (model: string, canaryPercent?: number): KubeObject => ({
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: {
      name: exp.spec.endpoint,
      ...(namespace ? { namespace } : {}),
      labels: labelsFor(exp),
      annotations: { 'serving.kserve.io/deploymentMode': 'Serverless' },
    },
    spec: {
      predictor: {
        ...(canaryPercent !== undefined ? { canaryTrafficPercent: canaryPercent } : {}),
        model: {
          modelFormat: modelFormat(input.models.find((r) => r.name === model)),
          protocolVersion: 'v2',
          runtime: 'kserve-mlserver',
          storageUri: modelUri(uriBase, input.models, model, exp),
        },
      },
    },
  });
  const first = candidates[0];
  return {
    baseline: isvc(baseline.model),
    ...(first ? { canary: isvc(first.model, Math.round(shares.get(first.name) ?? 0)) } : {}),
    notes,
    dropped,
  };
}

/** Objects as one multi-document YAML file with a header comment. */
export function toYamlDocuments(objects: readonly KubeObject[], header?: string): string {
  const comment = header
    ? `${header
        .split('\n')
        .map((l) => (l ? `# ${l}` : '#'))
        .join('\n')}\n`
    : '';
  return comment + objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
}

function file(name: string, target: ExportTarget, objects: KubeObject[], notes: string[]): ExportFile {
  const header = [
    `Generated by model-canary export --target ${target}.`,
    '',
    EXPORT_DOCS[target],
    ...(notes.length ? ['', 'For this experiment:', ...notes.map((n) => `- ${n}`)] : []),
  ].join('\n');
  return { name, content: toYamlDocuments(objects, header) };
}
