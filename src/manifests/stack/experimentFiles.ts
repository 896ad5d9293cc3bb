/**
 * `<release>-experiments`: each experiment's file (with its drift reference beside it), mounted
 * into the router so reports get the experiment's metrics, guardrails and drift settings.
 */
import { posix, sep } from 'node:path';
import { stringify } from 'yaml';
import type { KubeObject } from '../types';
import { objectMetadata, routerLabels } from './metadata';
import {
  CONFIGMAP_LIMIT_BYTES,
  resolveStackOptions,
  type ExperimentInput,
  type StackOptions,
} from './options';

/** The files one experiment puts into the experiments ConfigMap (keys are flat file names; the drift reference is renamed beside it). */
export function experimentFiles(input: ExperimentInput): Record<string, string> {
  const exp = input.experiment;
  const name = exp.metadata.name;
  const referenceKey = `${name}.reference.csv`;
  const modelInputKey = `${name}.model-input.csv`;
  // drift.modelInput only with its reference beside it (docs/graphs.md, "Graphs on Kubernetes").
  const { modelInput, ...rawDrift } = exp.spec.drift ?? { modelInput: undefined };
  const shipModelInput = modelInput && input.modelInputCsv !== undefined;
  const drift =
    exp.spec.drift && input.referenceCsv !== undefined
      ? {
          ...rawDrift,
          reference: referenceKey,
          ...(shipModelInput ? { modelInput: { ...modelInput, reference: modelInputKey } } : {}),
        }
      : undefined;
  // The file as written: the weights that route live in the router config only, so a change of
  // weights never touches this ConfigMap.
  const spec: Record<string, unknown> = { ...exp.spec };
  // A graph variant's `model` is derived when the file is read; the file gives `graph` alone.
  spec.variants = exp.spec.variants.map((v) => {
    if (!v.graph) return v;
    const { model: _model, ...graph } = v;
    return graph;
  });
  if (drift) spec.drift = drift;
  else delete spec.drift;
  // The local environment's MLServer processes: the stack sizes model servers its own way, and
  // without it the router's report counts one replica per arm (core/spec/serving.ts).
  delete spec.serving;
  const doc = { apiVersion: exp.apiVersion, kind: exp.kind, metadata: exp.metadata, spec };
  return {
    [`${name}.yaml`]: `# Copied by model-canary from ${posix.basename(exp.file.split(sep).join('/'))}.\n${stringify(doc)}`,
    ...(drift ? { [referenceKey]: input.referenceCsv ?? '' } : {}),
    ...(drift && shipModelInput ? { [modelInputKey]: input.modelInputCsv ?? '' } : {}),
  };
}

/** Every experiment file the router reads, as one ConfigMap. */
export function experimentsConfigMap(files: Record<string, string>, opts: StackOptions): KubeObject {
  const { names, release } = resolveStackOptions(opts);
  const size = Object.entries(files).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v), 0);
  if (size > CONFIGMAP_LIMIT_BYTES)
    throw new Error(
      `the experiment files and drift references come to ${(size / 1e6).toFixed(2)} MB, over the 1 MiB a ConfigMap holds — use a smaller drift reference sample (a few thousand rows is plenty)`,
    );
  const sorted = Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMetadata(opts, names.experiments, routerLabels(release)),
    data: sorted,
  };
}
