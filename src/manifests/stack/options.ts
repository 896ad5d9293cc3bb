/**
 * What the stack is built from — its options, the experiments and models to deploy — with the
 * defaults, and the values every component resolves from them: the release, the names of its
 * shared objects, the images, the router's port and the router's mount paths.
 */
import { DEFAULT_IMAGES, type StackImages } from '../images';
import { dnsName } from '../labels';
import type { Experiment } from '../../core/spec/experiment';
import type { RouterBundle } from '../../shared/routerFiles';

export const DEFAULT_RELEASE = 'model-canary';
export const DEFAULT_NAMESPACE = 'model-canary';
export const ROUTER_CONTAINER_PORT = 8090;
/** The router's gRPC front (the V2 GRPCInferenceService). */
export const ROUTER_GRPC_PORT = 8091;
export const MLSERVER_HTTP_PORT = 8080;
/** MLServer's default gRPC port, which the router calls for gRPC requests. */
export const MLSERVER_GRPC_PORT = 8081;
/** Where the kind node sees the workspace (src/kind mounts it there). */
export const KIND_MODELS_ROOT = '/models';
/** The config key of the router's ConfigMap. */
export const ROUTER_CONFIG_KEY = 'router.yaml';
/** ConfigMaps hold at most 1 MiB; keep room for metadata. */
export const CONFIGMAP_LIMIT_BYTES = 1_000_000;

/** Where the router's volumes are mounted in its Pod. */
const EXPERIMENTS_DIR = '/etc/model-canary/experiments';
const DATA_DIR = '/var/lib/model-canary';
const ADMIN_DIR = '/etc/model-canary/admin';
const ALERTS_DIR = '/etc/model-canary/alerts';
/** The key of the admin token in the `<release>-router-admin` Secret. */
export const ADMIN_TOKEN_KEY = 'token';
/**
 * The key of the ingest token (feedback and labels) in the same Secret: the router listens beyond
 * loopback in its Pod, so it requires one (SECURITY.md).
 */
export const INGEST_TOKEN_KEY = 'ingest-token';
/**
 * The key of the alert secrets file (webhook URLs and tokens, docs/alerts.md) in the optional
 * Secret `<release>-router-alerts`, which the user creates; the router mounts it when it exists.
 */
export const ALERT_SECRETS_KEY = 'alerts.yaml';

/** A model version as the cluster sees it. */
export interface ModelRef {
  /** MLServer's model name (model-settings.json `name`). */
  name: string;
  /** The model folder relative to the workspace, with `/` separators. */
  folder: string;
  /** Files a remote cluster downloads, relative to the folder: model-settings.json and the artifact. */
  files: string[];
  /** model-settings.json `implementation`: which MLServer runtime image serves it (default scikit-learn). */
  implementation?: string;
  /** A custom step with a requirements.txt: an init container installs it (customSteps.ts). */
  requirements?: boolean;
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
    /**
     * A router image with the bundle and the dashboard's assets in /opt/model-canary (router.js,
     * webview.js, dashboard.css); else the Node image + bundle ConfigMap.
     */
    image?: string;
    /** dist/router.js and the dashboard's assets beside it, required without `image`. */
    bundle?: RouterBundle;
    port?: number;
    nodePort?: number;
    grpcNodePort?: number;
    serviceType?: 'NodePort' | 'ClusterIP';
    /**
     * Router replicas (a StatefulSet, each with its own event log). Default 2 on remote clusters
     * (a node drain or a rolling update keeps one serving), 1 on kind (one node: a second copy
     * only costs the laptop memory). With autoscaling on, the HPA's minimum.
     */
    replicas?: number;
    /** `size` overrides the size derived from `retention` and `expectedRps` (docs/kubernetes.md). */
    storage?: { size?: string; storageClassName?: string };
    resources?: Resources;
    /** Event-log retention per replica (the router compacts by age and size). Default 7 days or 1 GiB. */
    retention?: { maxAgeDays?: number; maxBytes?: number };
    /** The request rate the event log's volume is sized for, per replica. Default 10 req/s. */
    expectedRps?: number;
  };
  /** Horizontal autoscaling of the router and the model servers (./autoscaling.ts). */
  autoscaling?: AutoscalingOptions;
  modelResources?: Resources;
  /**
   * Where the router's volumes are mounted (and so where its config points). The defaults suit
   * the Pod; a router run outside a Pod against the same API server (the tests) uses others.
   */
  paths?: { experimentsDir?: string; dataDir?: string; adminDir?: string; alertsDir?: string };
  /** Added to every object (e.g. modelcanary.dev/promoted-from). */
  annotations?: Record<string, string>;
}

/**
 * `requests`: HPAs on requests per second per Pod from the router's Prometheus metrics, through
 * prometheus-adapter (installed with the stack unless `adapter: 'existing'`); `cpu`: HPAs on CPU
 * utilisation (metrics-server); `off`: none. Default: `cpu` on remote clusters, `off` on kind.
 */
export interface AutoscalingOptions {
  mode?: 'requests' | 'cpu' | 'off';
  /** Router replicas at most. Default: 3 × the router's replicas. */
  maxRouterReplicas?: number;
  /** Replicas of each model server at most (at least 1). Default 5. */
  maxModelReplicas?: number;
  /** `requests`: requests per second per router Pod to aim at. Default 200. */
  routerRpsPerPod?: number;
  /** `requests`: requests per second per model server Pod to aim at. Default 50. */
  modelRpsPerPod?: number;
  /** `cpu`: the CPU utilisation to aim at, percent of the request. Default 70. */
  cpuPercent?: number;
  /** `requests`: install prometheus-adapter with the stack, or use one already in the cluster. Default install. */
  adapter?: 'install' | 'existing';
  /** `requests` with `adapter: 'install'`: the adapter's image (pinned). */
  adapterImage?: string;
  /** `requests`: the Prometheus that scrapes the router. Default http://prometheus-operated.monitoring.svc:9090. */
  prometheusUrl?: string;
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
  alertSecrets: string;
  routerPeers: string;
  adapter: string;
} {
  return {
    router: dnsName([release, 'router']),
    routerConfig: dnsName([release, 'router-config']),
    experiments: dnsName([release, 'experiments']),
    bundle: dnsName([release, 'router-bundle']),
    data: dnsName([release, 'router-data']),
    adminToken: dnsName([release, 'router-admin']),
    alertSecrets: dnsName([release, 'router-alerts']),
    routerPeers: dnsName([release, 'router-peers']),
    adapter: dnsName([release, 'prometheus-adapter']),
  };
}

/** The options with their defaults filled in, as the components use them. */
export function resolveStackOptions(opts: StackOptions) {
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
    alertsDir: opts.paths?.alertsDir ?? ALERTS_DIR,
  };
}

function missingModelSource(): never {
  throw new Error(
    'a remote cluster cannot see your workspace: set a model URI base (--model-uri-base), an HTTP(S) URL under which each model folder is published',
  );
}
