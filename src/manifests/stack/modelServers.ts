/**
 * The model servers: per experiment and served variant (the shadow too) an MLServer Deployment
 * and its Service. Models come from the kind node's `/models` mount (the workspace folder, see
 * src/kind) or, on other clusters, from an HTTP(S) base URL: an init container (curl) downloads
 * `<modelUriBase>/<model folder>/model-settings.json` and the artifact it names into an emptyDir.
 * A bucket works through its HTTPS endpoint (public or presigned), e.g.
 * `https://storage.googleapis.com/<bucket>/<prefix>` or `https://<bucket>.s3.amazonaws.com/<prefix>`.
 */
import { posix, relative, sep } from 'node:path';
import type { Experiment } from '../../core/spec/experiment';
import type { ModelVersion } from '../../core/workspace/discover';
import { assertPinned, runtimeImage } from '../images';
import { ANNOTATION_MODEL, selectorLabels, stackLabels, type LabelInput } from '../labels';
import type { KubeObject } from '../types';
import { modelServerName, objectMetadata } from './metadata';
import { v2HealthProbes } from './probes';
import {
  KIND_MODELS_ROOT,
  MLSERVER_GRPC_PORT,
  MLSERVER_HTTP_PORT,
  resolveStackOptions,
  type ExperimentInput,
  type ModelRef,
  type StackOptions,
} from './options';
import { RESTRICTED_CONTAINER_SECURITY } from './podSecurity';
import { autoscalingMode, disruptionBudget, modelServerAutoscaler, topologySpread } from './autoscaling';
import { customStepFiles, customStepServer, requirementsInitContainer } from './customSteps';
import { modelRuntimeOf } from '../../core/workspace/modelRuntimes';

/** The workspace's models as the manifests refer to them. */
export function modelRefs(root: string, models: readonly ModelVersion[]): ModelRef[] {
  return models.map((m) => {
    const folder = relative(root, m.dir).split(sep).join('/');
    const files = ['model-settings.json'];
    if (m.artifact) files.push(relative(m.dir, m.artifact).split(sep).join('/'));
    if (!modelRuntimeOf(m.implementation)) files.push(...customStepFiles(m.implementation, !!m.requirements));
    return {
      name: m.name,
      folder: folder || '.',
      files,
      ...(m.implementation ? { implementation: m.implementation } : {}),
      ...(m.requirements ? { requirements: true } : {}),
    };
  });
}

/** The variants of an experiment that get a model server: routed variants and the shadow. */
export function servedVariants(exp: Experiment): { variant: string; model: string }[] {
  const routed = exp.spec.variants.map((v) => ({ variant: v.name, model: v.model }));
  const mirror = exp.spec.routing?.mirror;
  return mirror ? [...routed, { variant: mirror.variant, model: mirror.model }] : routed;
}

/**
 * One model server per served variant, and per step of a graph variant (`<variant>-<step>`, the
 * variant's own: a step two graphs share scales with each variant's traffic, as single models do).
 * `key` names the Deployment and Service (modelServerName), `label` is its variant label.
 */
export function servedModels(exp: Experiment): { key: string; label: string; model: string }[] {
  const graphs = new Map(exp.spec.variants.flatMap((v) => (v.graph ? [[v.name, v.graph] as const] : [])));
  return servedVariants(exp).flatMap(({ variant, model }) => {
    const graph = graphs.get(variant);
    if (!graph) return [{ key: variant, label: variant, model }];
    return graph.steps.map((s) => ({
      key: graphStepKey(variant, s.name),
      label: `${variant}.${s.name}`,
      model: s.name,
    }));
  });
}

/** The model-server key of a graph variant's step (modelServerName(experiment, key)). */
export function graphStepKey(variant: string, step: string): string {
  return `${variant}-${step}`;
}

/** An experiment's model servers: per served variant a Deployment and a Service. */
export function modelServerObjects(input: ExperimentInput, opts: StackOptions): KubeObject[] {
  const { release, images } = resolveStackOptions(opts);
  const modelSource = resolveStackOptions(opts).modelSource();
  assertPinned(images.mlserver, 'MLServer');
  const exp = input.experiment;
  const byName = new Map(input.models.map((m) => [m.name, m]));
  const out: KubeObject[] = [];
  for (const { key, label: variant, model } of servedModels(exp)) {
    const ref = byName.get(model);
    if (!ref)
      throw new Error(
        `experiment ${exp.metadata.name}: no model "${model}" in the workspace (known: ${[...byName.keys()].join(', ') || 'none'})`,
      );
    const name = modelServerName(exp.metadata.name, key);
    const labels: LabelInput = {
      name: 'mlserver',
      instance: release,
      component: 'model-server',
      experiment: exp.metadata.name,
      variant,
    };
    const annotations = { [ANNOTATION_MODEL]: model };
    const volume =
      modelSource.kind === 'node-mount'
        ? {
            name: 'model',
            hostPath: {
              path: posix.join(modelSource.root ?? KIND_MODELS_ROOT, ref.folder),
              type: 'Directory',
            },
          }
        : { name: 'model', emptyDir: { sizeLimit: '2Gi' } };
    const fetch =
      modelSource.kind === 'http'
        ? [
            {
              name: 'fetch-model',
              image: images.fetcher,
              command: ['curl'],
              args: [
                '--fail',
                '--silent',
                '--show-error',
                '--location',
                '--retry',
                '5',
                '--create-dirs',
                '--output-dir',
                '/mnt/models',
                ...ref.files.flatMap((f) => [
                  '--output',
                  f,
                  modelFileUrl(modelSource.baseUrl, ref.folder, f),
                ]),
              ],
              volumeMounts: [{ name: 'model', mountPath: '/mnt/models' }],
              resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '128Mi' } },
              securityContext: { ...RESTRICTED_CONTAINER_SECURITY, readOnlyRootFilesystem: true },
            },
          ]
        : [];
    const image = runtimeImage(images.mlserver, ref.implementation);
    const custom = ref.requirements ? customStepServer() : undefined;
    const initContainers = [...fetch, ...(custom ? [requirementsInitContainer(image)] : [])];
    out.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: objectMetadata(opts, name, labels, true, annotations),
      spec: {
        // Under an HPA the replicas are its to set: applying them would undo its scaling.
        ...(autoscalingMode(opts) === 'off' ? { replicas: 1 } : {}),
        selector: { matchLabels: selectorLabels(labels) },
        template: {
          metadata: { labels: stackLabels(labels), annotations },
          spec: {
            automountServiceAccountToken: false,
            topologySpreadConstraints: topologySpread(selectorLabels(labels)),
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              fsGroup: 1000,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            ...(initContainers.length ? { initContainers } : {}),
            containers: [
              {
                name: 'mlserver',
                image,
                ...(custom ? { command: custom.command } : {}),
                env: [
                  // One process: the router is the parallelism, and a worker pool only doubles memory.
                  { name: 'MLSERVER_PARALLEL_WORKERS', value: '0' },
                  // scikit-learn's OpenMP pool spins every core: one thread keeps predictions in milliseconds.
                  { name: 'OMP_NUM_THREADS', value: '1' },
                  { name: 'MLSERVER_MODELS_DIR', value: '/mnt/models' },
                  { name: 'MLSERVER_HTTP_PORT', value: String(MLSERVER_HTTP_PORT) },
                ],
                ports: [
                  { name: 'http', containerPort: MLSERVER_HTTP_PORT, protocol: 'TCP' },
                  { name: 'grpc', containerPort: MLSERVER_GRPC_PORT, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 8082, protocol: 'TCP' },
                ],
                // Loading a model may take up to 3 minutes before liveness applies.
                ...v2HealthProbes(90),
                resources: opts.modelResources ?? {
                  requests: { cpu: '100m', memory: '512Mi' },
                  limits: { memory: '1Gi' },
                },
                volumeMounts: [
                  { name: 'model', mountPath: '/mnt/models', readOnly: true },
                  ...(custom ? [custom.volumeMount] : []),
                ],
                securityContext: RESTRICTED_CONTAINER_SECURITY,
              },
            ],
            volumes: [volume, ...(custom ? [custom.volume] : [])],
          },
        },
      },
    });
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: objectMetadata(opts, name, labels, true, annotations),
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(labels),
        ports: [
          { name: 'http', port: MLSERVER_HTTP_PORT, targetPort: 'http', protocol: 'TCP' },
          { name: 'grpc', port: MLSERVER_GRPC_PORT, targetPort: 'grpc', protocol: 'TCP' },
        ],
      },
    });
    out.push(
      disruptionBudget(opts, name, labels),
      ...modelServerAutoscaler(opts, name, labels, variant === exp.spec.routing?.mirror?.variant),
    );
  }
  return out;
}

/** `<base>/<folder>/<file>`, each path segment escaped. */
export function modelFileUrl(base: string, folder: string, file: string): string {
  if (!/^https?:\/\//i.test(base))
    throw new Error(
      `model URI base "${base}" must be an http(s) URL — for a bucket use its HTTPS endpoint (public or presigned), e.g. https://storage.googleapis.com/<bucket>/<prefix>`,
    );
  const path = [...folder.split('/'), ...file.split('/')]
    .filter((s) => s && s !== '.')
    .map(encodeURIComponent)
    .join('/');
  return `${base.replace(/\/+$/, '')}/${path}`;
}
