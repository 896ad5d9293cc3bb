/**
 * The serving stack as Kubernetes objects, built from an experiment, the workspace's models and
 * a target — pure data, no I/O, so it is unit-tested and used by the runtime, promotion and
 * export alike.
 *
 * Per namespace (a "release", default `model-canary`):
 * - the router: ServiceAccount, Role + RoleBinding (get/list/watch its config ConfigMap only),
 *   a PVC for its event log, a Deployment (the official Node image running the router bundle
 *   unpacked from a ConfigMap, or a configured router image), a Service (NodePort 30090 on kind,
 *   mapped to 127.0.0.1:<router port> by the cluster config; ClusterIP elsewhere);
 * - the router's config (`<release>-router-config`, key `router.yaml`), watched by the router
 *   through the API server: weights change by changing it;
 * - the router's admin token: the Secret `<release>-router-admin` (key `token`) mounted into the
 *   router and named by the config's `adminTokenFile`. It is not one of these objects — its value
 *   is random, made once per namespace by `ensureAdminToken` (src/kube/adminToken.ts) before the
 *   router is applied, so re-applying and diffing the stack never touch or show it. Exported
 *   manifests leave creating it to the user (see src/manifests/export.ts);
 * - `<release>-experiments`: each experiment's file (with its drift reference beside it), mounted
 *   into the router so reports get the experiment's metrics, guardrails and drift settings.
 * Per experiment and variant (the shadow too): an MLServer Deployment and its Service.
 *
 * Models come from the kind node's `/models` mount (the workspace folder, see src/kind) or, on
 * other clusters, from an HTTP(S) base URL: an init container (curl) downloads
 * `<modelUriBase>/<model folder>/model-settings.json` and the artifact it names into an emptyDir.
 * A bucket works through its HTTPS endpoint (public or presigned), e.g.
 * `https://storage.googleapis.com/<bucket>/<prefix>` or `https://<bucket>.s3.amazonaws.com/<prefix>`.
 */
import { createHash } from 'node:crypto';
import { posix, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import type { Experiment } from '../core/spec/experiment';
import { ROUTER_NODE_PORT } from '../kind/commands';
import type { RouterConfigInput } from '../core/spec/routerConfig';
import type { ModelVersion } from '../core/workspace/discover';
import { DEFAULT_IMAGES, assertPinned, type StackImages } from './images';
import {
  ANNOTATION_BUNDLE_SHA,
  ANNOTATION_MODEL,
  dnsName,
  selectorLabels,
  stackLabels,
  type LabelInput,
} from './labels';
import type { KubeObject } from './types';

export const DEFAULT_RELEASE = 'model-canary';
export const DEFAULT_NAMESPACE = 'model-canary';
export const ROUTER_CONTAINER_PORT = 8090;
export { ROUTER_NODE_PORT };
export const MLSERVER_HTTP_PORT = 8080;
/** Where the kind node sees the workspace (src/kind mounts it there). */
export const KIND_MODELS_ROOT = '/models';
/** The config key of the router's ConfigMap. */
export const ROUTER_CONFIG_KEY = 'router.yaml';
/** ConfigMaps hold at most 1 MiB; keep room for metadata. */
export const CONFIGMAP_LIMIT_BYTES = 1_000_000;

const EXPERIMENTS_DIR = '/etc/model-canary/experiments';
const BUNDLE_DIR = '/etc/model-canary/bundle';
const APP_DIR = '/opt/model-canary';
const DATA_DIR = '/var/lib/model-canary';
const ADMIN_DIR = '/etc/model-canary/admin';
/** The key of the admin token in the `<release>-router-admin` Secret. */
export const ADMIN_TOKEN_KEY = 'token';
const BUNDLE_KEY = 'router.js.gz';

/** A model version as the cluster sees it. */
export interface ModelRef {
  /** MLServer's model name (model-settings.json `name`). */
  name: string;
  /** The model folder relative to the workspace, with `/` separators. */
  folder: string;
  /** Files a remote cluster downloads, relative to the folder: model-settings.json and the artifact. */
  files: string[];
}

/** The workspace's models as the manifests refer to them. */
export function modelRefs(root: string, models: readonly ModelVersion[]): ModelRef[] {
  return models.map((m) => {
    const folder = relative(root, m.dir).split(sep).join('/');
    const files = ['model-settings.json'];
    if (m.artifact) files.push(relative(m.dir, m.artifact).split(sep).join('/'));
    return { name: m.name, folder: folder || '.', files };
  });
}

export type ModelSource =
  /** A hostPath under the node's mount of the workspace (kind). */
  | { kind: 'node-mount'; root?: string }
  /** An HTTP(S) base URL; the model folder is appended. */
  | { kind: 'http'; baseUrl: string };

export interface Resources {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface StackOptions {
  namespace: string;
  /** Prefix of the shared objects' names and `app.kubernetes.io/instance`. */
  release?: string;
  /** kind: NodePort router, models from the node mount. remote: ClusterIP, models over HTTP(S). */
  platform: 'kind' | 'remote';
  /** Default: the node mount on kind; required (http) on remote clusters. */
  modelSource?: ModelSource;
  images?: Partial<StackImages>;
  router?: {
    /** A router image with the bundle at /opt/model-canary/router.js; else the Node image + bundle ConfigMap. */
    image?: string;
    /** dist/router.js, required without `image`. */
    bundle?: string;
    port?: number;
    nodePort?: number;
    serviceType?: 'NodePort' | 'ClusterIP';
    storage?: { size?: string; storageClassName?: string };
    resources?: Resources;
  };
  modelResources?: Resources;
  /**
   * Where the router's volumes are mounted (and so where its config points). The defaults suit
   * the Pod; a router run outside a Pod against the same API server (the tests) uses others.
   */
  paths?: { experimentsDir?: string; dataDir?: string; adminDir?: string };
  /** Added to every object (e.g. modelcanary.dev/promoted-from). */
  annotations?: Record<string, string>;
}

/** One experiment to deploy. */
export interface ExperimentInput {
  experiment: Experiment;
  models: readonly ModelRef[];
  /** The drift reference CSV; without it the cluster's report has no drift section. */
  referenceCsv?: string;
  /** Weights to deploy with instead of the file's (a promotion plan, the live split). */
  weights?: Record<string, number>;
}

/** Names of the shared objects of a release. */
export function stackNames(release = DEFAULT_RELEASE): {
  router: string;
  routerConfig: string;
  experiments: string;
  bundle: string;
  data: string;
  adminToken: string;
} {
  return {
    router: dnsName([release, 'router']),
    routerConfig: dnsName([release, 'router-config']),
    experiments: dnsName([release, 'experiments']),
    bundle: dnsName([release, 'router-bundle']),
    data: dnsName([release, 'router-data']),
    adminToken: dnsName([release, 'router-admin']),
  };
}

/** The Deployment/Service name of an experiment's variant. */
export function modelServerName(experiment: string, variant: string): string {
  return dnsName([experiment, variant]);
}

const resolved = (opts: StackOptions) => {
  const release = opts.release ?? DEFAULT_RELEASE;
  const images = { ...DEFAULT_IMAGES, ...opts.images };
  return {
    release,
    names: stackNames(release),
    images,
    // Only the model servers need it, so only they fail without one.
    modelSource: (): ModelSource =>
      opts.modelSource ?? (opts.platform === 'kind' ? { kind: 'node-mount' } : missingModelSource()),
    port: opts.router?.port ?? ROUTER_CONTAINER_PORT,
    experimentsDir: opts.paths?.experimentsDir ?? EXPERIMENTS_DIR,
    dataDir: opts.paths?.dataDir ?? DATA_DIR,
    adminDir: opts.paths?.adminDir ?? ADMIN_DIR,
  };
};

function missingModelSource(): never {
  throw new Error(
    'a remote cluster cannot see your workspace: set a model URI base (--model-uri-base), an HTTP(S) URL under which each model folder is published',
  );
}

function meta(
  opts: StackOptions,
  name: string,
  labels: LabelInput,
  namespaced = true,
  annotations: Record<string, string> = {},
): KubeObject['metadata'] {
  const all = { ...annotations, ...opts.annotations };
  return {
    name,
    ...(namespaced ? { namespace: opts.namespace } : {}),
    labels: stackLabels(labels),
    ...(Object.keys(all).length ? { annotations: all } : {}),
  };
}

const routerLabels = (release: string): LabelInput => ({
  name: 'model-canary-router',
  instance: release,
  component: 'router',
  experiment: '',
});

/** The labels that select the router's Pods. */
export function routerSelector(release = DEFAULT_RELEASE): Record<string, string> {
  return selectorLabels(routerLabels(release));
}

/** The variants of an experiment that get a model server: routed variants and the shadow. */
export function servedVariants(exp: Experiment): { variant: string; model: string }[] {
  const routed = exp.spec.variants.map((v) => ({ variant: v.name, model: v.model }));
  const mirror = exp.spec.routing?.mirror;
  return mirror ? [...routed, { variant: mirror.variant, model: mirror.model }] : routed;
}

/** The router's entry for one experiment, with in-cluster upstream URLs. */
export function routerExperimentEntry(
  input: ExperimentInput,
  opts: StackOptions,
): NonNullable<RouterConfigInput['experiments']>[number] {
  const exp = input.experiment;
  const name = exp.metadata.name;
  const url = (variant: string): string =>
    `http://${modelServerName(name, variant)}.${opts.namespace}.svc:${MLSERVER_HTTP_PORT}`;
  const mirror = exp.spec.routing?.mirror;
  return {
    name,
    endpoint: exp.spec.endpoint,
    experimentFile: `${resolved(opts).experimentsDir}/${name}.yaml`,
    variants: exp.spec.variants.map((v) => ({
      name: v.name,
      url: url(v.name),
      model: v.model,
      weight: input.weights?.[v.name] ?? v.weight,
      role: v.role,
    })),
    ...(exp.spec.routing?.sticky ? { sticky: { header: exp.spec.routing.sticky.header } } : {}),
    ...(mirror
      ? {
          mirror: {
            variant: mirror.variant,
            url: url(mirror.variant),
            model: mirror.model,
            percent: mirror.percent,
          },
        }
      : {}),
  };
}

/** The router config for a set of experiment entries. */
export function routerConfig(
  entries: NonNullable<RouterConfigInput['experiments']>,
  opts: StackOptions,
): RouterConfigInput {
  const { port, dataDir, adminDir } = resolved(opts);
  return {
    listen: `0.0.0.0:${port}`,
    dataDir: `${dataDir}/data`,
    adminTokenFile: `${adminDir}/${ADMIN_TOKEN_KEY}`,
    experiments: [...entries].sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** Router config as the ConfigMap holds it (deterministic, so re-applying changes nothing). */
export function routerConfigText(config: RouterConfigInput): string {
  return `# Generated by model-canary. The router watches this ConfigMap and applies a change within a second.\n${stringify(config)}`;
}

export function routerConfigMap(config: RouterConfigInput, opts: StackOptions): KubeObject {
  const { names, release } = resolved(opts);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(opts, names.routerConfig, routerLabels(release)),
    data: { [ROUTER_CONFIG_KEY]: routerConfigText(config) },
  };
}

/** The Secret holding the router's admin token (made once per namespace, never re-applied). */
export function adminTokenSecret(token: string, opts: StackOptions): KubeObject {
  const { names, release } = resolved(opts);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(opts, names.adminToken, routerLabels(release)),
    type: 'Opaque',
    stringData: { [ADMIN_TOKEN_KEY]: token },
  };
}

/** The files one experiment puts into the experiments ConfigMap (keys are flat file names; the drift reference is renamed beside it). */
export function experimentFiles(input: ExperimentInput): Record<string, string> {
  const exp = input.experiment;
  const name = exp.metadata.name;
  const referenceKey = `${name}.reference.csv`;
  const drift =
    exp.spec.drift && input.referenceCsv !== undefined
      ? { ...exp.spec.drift, reference: referenceKey }
      : undefined;
  // The file as written: the weights that route live in the router config only, so a change of
  // weights never touches this ConfigMap.
  const spec: Record<string, unknown> = { ...exp.spec };
  if (drift) spec.drift = drift;
  else delete spec.drift;
  const doc = { apiVersion: exp.apiVersion, kind: exp.kind, metadata: exp.metadata, spec };
  return {
    [`${name}.yaml`]: `# Copied by model-canary from ${posix.basename(exp.file.split(sep).join('/'))}.\n${stringify(doc)}`,
    ...(drift ? { [referenceKey]: input.referenceCsv ?? '' } : {}),
  };
}

/** Every experiment file the router reads, as one ConfigMap. */
export function experimentsConfigMap(files: Record<string, string>, opts: StackOptions): KubeObject {
  const { names, release } = resolved(opts);
  const size = Object.entries(files).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v), 0);
  if (size > CONFIGMAP_LIMIT_BYTES)
    throw new Error(
      `the experiment files and drift references come to ${(size / 1e6).toFixed(2)} MB, over the 1 MiB a ConfigMap holds — use a smaller drift reference sample (a few thousand rows is plenty)`,
    );
  const sorted = Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(opts, names.experiments, routerLabels(release)),
    data: sorted,
  };
}

/** The gzipped router bundle: dist/router.js is 1–1.5 MB, over a ConfigMap's 1 MiB; gzip brings it to about a third. */
export function routerBundleConfigMap(
  bundle: string,
  opts: StackOptions,
): { configMap: KubeObject; sha256: string } {
  const { names, release } = resolved(opts);
  const gz = gzipSync(Buffer.from(bundle, 'utf8'), { level: 9 });
  if (gz.length > CONFIGMAP_LIMIT_BYTES)
    throw new Error(
      `the router bundle is ${(gz.length / 1e6).toFixed(2)} MB gzipped, over the 1 MiB a ConfigMap holds — build it minified (node esbuild.mjs), or configure a router image (--router-image)`,
    );
  const sha256 = createHash('sha256').update(bundle).digest('hex');
  return {
    sha256,
    configMap: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(opts, names.bundle, routerLabels(release), true, {
        [ANNOTATION_BUNDLE_SHA]: sha256,
      }),
      binaryData: { [BUNDLE_KEY]: gz.toString('base64') },
    },
  };
}

// Node writes the unpacked bundle; no shell in the image is needed for it.
const UNPACK_SCRIPT = `const fs=require('node:fs'),zlib=require('node:zlib');fs.writeFileSync('${APP_DIR}/router.js',zlib.gunzipSync(fs.readFileSync('${BUNDLE_DIR}/${BUNDLE_KEY}')));`;

const restricted = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
};

/** The namespace and the router with everything it needs (its config included). */
export function routerObjects(
  config: RouterConfigInput,
  experimentFilesData: Record<string, string>,
  opts: StackOptions,
): KubeObject[] {
  const { names, release, images, port, experimentsDir, dataDir, adminDir } = resolved(opts);
  const labels = routerLabels(release);
  const routerImage = opts.router?.image;
  if (routerImage) assertPinned(routerImage, 'router');
  else assertPinned(images.node, 'Node');
  if (!routerImage && opts.router?.bundle === undefined)
    throw new Error(
      'the router bundle (dist/router.js) is needed when no router image is configured — run `node esbuild.mjs` first',
    );
  const bundle = routerImage ? undefined : routerBundleConfigMap(opts.router?.bundle ?? '', opts);
  const serviceType = opts.router?.serviceType ?? (opts.platform === 'kind' ? 'NodePort' : 'ClusterIP');

  const namespaceLabels: LabelInput = { ...labels, name: 'model-canary', component: 'namespace' };
  const namespace: KubeObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      ...meta(opts, opts.namespace, namespaceLabels, false),
      // The API server sets this label itself; owning it too keeps re-applies free of changes.
      labels: { ...stackLabels(namespaceLabels), 'kubernetes.io/metadata.name': opts.namespace },
    },
  };
  const serviceAccount: KubeObject = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(opts, names.router, labels),
  };
  const role: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: meta(opts, names.router, labels),
    rules: [
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: [names.routerConfig],
        verbs: ['get', 'list', 'watch'],
      },
    ],
  };
  const roleBinding: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(opts, names.router, labels),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: names.router },
    subjects: [{ kind: 'ServiceAccount', name: names.router, namespace: opts.namespace }],
  };
  const storage = opts.router?.storage;
  const pvc: KubeObject = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta(opts, names.data, labels),
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: storage?.size ?? '1Gi' } },
      ...(storage?.storageClassName ? { storageClassName: storage.storageClassName } : {}),
    },
  };
  const selector = selectorLabels(labels);
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(opts, names.router, labels),
    spec: {
      replicas: 1,
      // One writer of the event log on a ReadWriteOnce volume: stop the old Pod before the new one starts.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: stackLabels(labels),
          ...(bundle ? { annotations: { [ANNOTATION_BUNDLE_SHA]: bundle.sha256 } } : {}),
        },
        spec: {
          serviceAccountName: names.router,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            fsGroup: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          terminationGracePeriodSeconds: 30,
          ...(bundle
            ? {
                initContainers: [
                  {
                    name: 'unpack-router',
                    image: images.node,
                    command: ['node', '-e', UNPACK_SCRIPT],
                    volumeMounts: [
                      { name: 'bundle', mountPath: BUNDLE_DIR, readOnly: true },
                      { name: 'app', mountPath: APP_DIR },
                    ],
                    resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
                    securityContext: { ...restricted, readOnlyRootFilesystem: true },
                  },
                ],
              }
            : {}),
          containers: [
            {
              name: 'router',
              image: routerImage ?? images.node,
              command: [
                'node',
                `${APP_DIR}/router.js`,
                '--kube-configmap',
                `${opts.namespace}/${names.routerConfig}`,
                '--kube-configmap-key',
                ROUTER_CONFIG_KEY,
              ],
              ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
              readinessProbe: {
                httpGet: { path: '/v2/health/ready', port: 'http' },
                periodSeconds: 5,
                failureThreshold: 3,
              },
              livenessProbe: {
                httpGet: { path: '/v2/health/live', port: 'http' },
                periodSeconds: 10,
                failureThreshold: 3,
              },
              // Replaying a large event log takes a while; liveness waits for it.
              startupProbe: {
                httpGet: { path: '/v2/health/live', port: 'http' },
                periodSeconds: 2,
                failureThreshold: 150,
              },
              resources: opts.router?.resources ?? {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { memory: '512Mi' },
              },
              volumeMounts: [
                ...(bundle ? [{ name: 'app', mountPath: APP_DIR, readOnly: true }] : []),
                { name: 'data', mountPath: dataDir },
                { name: 'experiments', mountPath: experimentsDir, readOnly: true },
                { name: 'admin', mountPath: adminDir, readOnly: true },
              ],
              securityContext: { ...restricted, readOnlyRootFilesystem: true },
            },
          ],
          volumes: [
            ...(bundle
              ? [
                  { name: 'bundle', configMap: { name: names.bundle } },
                  { name: 'app', emptyDir: { sizeLimit: '64Mi' } },
                ]
              : []),
            { name: 'data', persistentVolumeClaim: { claimName: names.data } },
            { name: 'experiments', configMap: { name: names.experiments, optional: true } },
            // Not optional: without the Secret the Pod waits, and its events name the Secret.
            { name: 'admin', secret: { secretName: names.adminToken, defaultMode: 0o440 } },
          ],
        },
      },
    },
  };
  const nodePort = opts.router?.nodePort ?? ROUTER_NODE_PORT;
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(opts, names.router, labels),
    spec: {
      type: serviceType,
      selector,
      ports: [
        {
          name: 'http',
          port,
          targetPort: 'http',
          protocol: 'TCP',
          ...(serviceType === 'NodePort' ? { nodePort } : {}),
        },
      ],
    },
  };
  return [
    namespace,
    serviceAccount,
    role,
    roleBinding,
    pvc,
    ...(bundle ? [bundle.configMap] : []),
    experimentsConfigMap(experimentFilesData, opts),
    routerConfigMap(config, opts),
    service,
    deployment,
  ];
}

/** An experiment's model servers: per served variant a Deployment and a Service. */
export function modelServerObjects(input: ExperimentInput, opts: StackOptions): KubeObject[] {
  const { release, images } = resolved(opts);
  const modelSource = resolved(opts).modelSource();
  assertPinned(images.mlserver, 'MLServer');
  const exp = input.experiment;
  const byName = new Map(input.models.map((m) => [m.name, m]));
  const out: KubeObject[] = [];
  for (const { variant, model } of servedVariants(exp)) {
    const ref = byName.get(model);
    if (!ref)
      throw new Error(
        `experiment ${exp.metadata.name}: no model "${model}" in the workspace (known: ${[...byName.keys()].join(', ') || 'none'})`,
      );
    const name = modelServerName(exp.metadata.name, variant);
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
              securityContext: { ...restricted, readOnlyRootFilesystem: true },
            },
          ]
        : [];
    out.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(opts, name, labels, true, annotations),
      spec: {
        replicas: 1,
        selector: { matchLabels: selectorLabels(labels) },
        template: {
          metadata: { labels: stackLabels(labels), annotations },
          spec: {
            automountServiceAccountToken: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              fsGroup: 1000,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            ...(fetch.length ? { initContainers: fetch } : {}),
            containers: [
              {
                name: 'mlserver',
                image: images.mlserver,
                env: [
                  // One process: the router is the parallelism, and a worker pool only doubles memory.
                  { name: 'MLSERVER_PARALLEL_WORKERS', value: '0' },
                  { name: 'MLSERVER_MODELS_DIR', value: '/mnt/models' },
                  { name: 'MLSERVER_HTTP_PORT', value: String(MLSERVER_HTTP_PORT) },
                ],
                ports: [
                  { name: 'http', containerPort: MLSERVER_HTTP_PORT, protocol: 'TCP' },
                  { name: 'grpc', containerPort: 8081, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 8082, protocol: 'TCP' },
                ],
                readinessProbe: {
                  httpGet: { path: '/v2/health/ready', port: 'http' },
                  periodSeconds: 5,
                  failureThreshold: 3,
                },
                livenessProbe: {
                  httpGet: { path: '/v2/health/live', port: 'http' },
                  periodSeconds: 10,
                  failureThreshold: 3,
                },
                startupProbe: {
                  httpGet: { path: '/v2/health/live', port: 'http' },
                  periodSeconds: 2,
                  failureThreshold: 90,
                },
                resources: opts.modelResources ?? {
                  requests: { cpu: '100m', memory: '512Mi' },
                  limits: { memory: '1Gi' },
                },
                volumeMounts: [{ name: 'model', mountPath: '/mnt/models', readOnly: true }],
                securityContext: restricted,
              },
            ],
            volumes: [volume],
          },
        },
      },
    });
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(opts, name, labels, true, annotations),
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(labels),
        ports: [{ name: 'http', port: MLSERVER_HTTP_PORT, targetPort: 'http', protocol: 'TCP' }],
      },
    });
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

/** The whole stack for a set of experiments, in the order it is applied. */
export function buildStack(inputs: readonly ExperimentInput[], opts: StackOptions): KubeObject[] {
  const config = routerConfig(
    inputs.map((i) => routerExperimentEntry(i, opts)),
    opts,
  );
  const files = Object.assign({}, ...inputs.map(experimentFiles)) as Record<string, string>;
  return [...routerObjects(config, files, opts), ...inputs.flatMap((i) => modelServerObjects(i, opts))];
}
