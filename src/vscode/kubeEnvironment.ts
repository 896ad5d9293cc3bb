/**
 * A kubeconfig context as the extension's environment: the Kubernetes runtime (loaded lazily
 * from dist/kube.js by the caller) behind a thin Runtime that speaks to VS Code users. It
 * checks what the extension's settings must provide before a long operation starts, and turns
 * an unreachable or unauthenticated API server into one message that names the context, the
 * server and the fix — the runtime's own status() reads a failed list as "nothing running".
 *
 * No `vscode` and no Kubernetes client here (types only), so the unit tests run it in plain
 * mocha with a stand-in runtime and probe.
 */
import type { KubeRuntimeOptions } from '../runtime/kubeRuntime';
import {
  RuntimeError,
  type EnvironmentStatus,
  type OperationOptions,
  type Runtime,
} from '../runtime/runtime';
import type { Report, RolloutStatus } from '../shared/report';
import type { RolloutAction, RolloutOverrides, RouterClient } from '../shared/routerApi';

/** The settings a kube environment is built from (a subset of Config's Settings). */
export interface KubeSettings {
  routerPort: number;
  modelServerImage: string;
  kubeNamespace: string;
  kubeModelUriBase: string;
  /** Router replicas; 0 or absent: keep the live count (a new stack: 1 on kind, 2 elsewhere). */
  kubeRouterReplicas?: number;
}

/** What the environment knows about the context it runs on. */
export interface KubeTarget {
  context: string;
  /** The API server URL of the context's cluster (undefined when the kubeconfig names none). */
  server: string | undefined;
  platform: 'kind' | 'remote';
  namespace: string;
  /** Remote contexts: where the model servers download the model folders from (a setting). */
  modelUriBase?: string;
}

/** The answer of a cheap request to the API server (`GET /version`). */
export type ProbeResult = { ok: true } | { ok: false; status?: number; cause: string };

/** The setting names, in one place for messages and package.json's keys. */
export const KUBE_SETTING = {
  namespace: 'modelCanary.kubernetes.namespace',
  modelUriBase: 'modelCanary.kubernetes.modelUriBase',
  routerReplicas: 'modelCanary.kubernetes.routerReplicas',
} as const;

export const DEFAULT_KUBE_NAMESPACE = 'model-canary';

/** The KubeRuntime options for a context, from the extension's settings. */
export function kubeRuntimeOptions(input: {
  context: string;
  platform: 'kind' | 'remote';
  workspace: string;
  routerScript: string;
  settings: KubeSettings;
}): Omit<KubeRuntimeOptions, 'kubeconfig'> {
  const s = input.settings;
  return {
    workspace: input.workspace,
    context: input.context,
    platform: input.platform,
    namespace: s.kubeNamespace || DEFAULT_KUBE_NAMESPACE,
    routerScript: input.routerScript,
    // kind maps the router's NodePort to this host port (Create kind Cluster uses the same setting).
    ...(input.platform === 'kind' ? { hostPort: s.routerPort } : {}),
    ...(input.platform === 'remote' && s.kubeModelUriBase ? { modelUriBase: s.kubeModelUriBase } : {}),
    ...(s.modelServerImage ? { images: { mlserver: s.modelServerImage } } : {}),
    ...(s.kubeRouterReplicas ? { stack: { router: { replicas: s.kubeRouterReplicas } } } : {}),
  };
}

/** The message for an API server that did not answer, or refused the kubeconfig's credentials. */
export function unreachableMessage(target: KubeTarget, probe: Exclude<ProbeResult, { ok: true }>): string {
  const where = `the Kubernetes API server of context "${target.context}" (${target.server ?? 'no server in the kubeconfig'})`;
  if (probe.status === 401)
    return `${where} refused the credentials of your kubeconfig (HTTP 401: ${probe.cause}) — renew them (log in to your cloud CLI again, or check \`kubectl --context ${target.context} get namespaces\`), then run Model Canary: Refresh`;
  if (probe.status !== undefined)
    return `${where} answered HTTP ${probe.status}: ${probe.cause} — check \`kubectl --context ${target.context} get namespaces\`, then run Model Canary: Refresh`;
  const fix =
    target.platform === 'kind'
      ? 'is the kind cluster running? Run Model Canary: Run Doctor, or Create kind Cluster'
      : 'check that the cluster is up and reachable from this machine (VPN, proxy, firewall) with `kubectl --context ' +
        `${target.context} get namespaces\``;
  return `cannot reach ${where}: ${probe.cause} — ${fix}; or pick another environment with Model Canary: Select Environment`;
}

/** True when `endpoint` is the API server's service proxy (so a plain HTTP client has no credentials for it). */
export function endpointNeedsCredentials(endpoint: string, server: string | undefined): boolean {
  if (!server) return false;
  const base = server.replace(/\/+$/, '');
  return endpoint === base || endpoint.startsWith(`${base}/`);
}

/** The kubectl command that makes the router reachable on 127.0.0.1:`port`. */
export function portForwardCommand(
  target: KubeTarget,
  port: number,
  service = 'model-canary-router',
): string {
  return `kubectl --context ${target.context} -n ${target.namespace} port-forward svc/${service} ${port}:http`;
}

/**
 * The Runtime of a kubeconfig context as the extension uses it. Every failure is checked against
 * a probe of the API server: when the server cannot be reached, users read that (and the fix),
 * not the first request's socket error.
 */
export class KubeEnvironmentRuntime implements Runtime {
  readonly connect?: (options?: { signal?: AbortSignal }) => Promise<{ url: string; close(): Promise<void> }>;

  constructor(
    private readonly inner: Runtime,
    readonly target: KubeTarget,
    private readonly probe: () => Promise<ProbeResult>,
  ) {
    // Connections exist where the Kubernetes runtime implements them.
    const connect = inner.connect?.bind(inner);
    if (connect) this.connect = (options) => this.guard(connect(options));
  }

  /** Fails with a clear message when the API server does not answer; else resolves. */
  async reachable(): Promise<void> {
    const probe = await this.probe().catch((err: Error): ProbeResult => ({ ok: false, cause: err.message }));
    if (!probe.ok) throw new RuntimeError(unreachableMessage(this.target, probe));
  }

  /** Runs an operation; a failure becomes the unreachable message when the API server is the cause. */
  private async guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      if (err instanceof Error && (err.name === 'AbortError' || err.name === 'CanceledError')) throw err;
      await this.reachable();
      throw err;
    }
  }

  async up(options?: OperationOptions): Promise<EnvironmentStatus> {
    await this.reachable();
    return this.guard(this.inner.up(options));
  }

  async deploy(experimentFile: string, options?: OperationOptions): Promise<EnvironmentStatus> {
    if (this.target.platform === 'remote' && !this.target.modelUriBase)
      throw new RuntimeError(
        `${this.target.context} cannot see your workspace, so its model servers download the model folders: publish them under an HTTP(S) URL and set ${KUBE_SETTING.modelUriBase} to it (Open Settings), then deploy again`,
      );
    await this.reachable();
    return this.guard(this.inner.deploy(experimentFile, options));
  }

  setWeights(
    experiment: string,
    weights: Record<string, number>,
    options?: OperationOptions,
  ): Promise<Record<string, number>> {
    return this.guard(this.inner.setWeights(experiment, weights, options));
  }

  rollout(
    experiment: string,
    action: RolloutAction,
    options?: { candidate?: string; overrides?: RolloutOverrides; signal?: AbortSignal },
  ): Promise<RolloutStatus> {
    return this.guard(this.inner.rollout(experiment, action, options));
  }

  router(): Promise<RouterClient> {
    return this.guard(this.inner.router());
  }

  endpoint(): Promise<string> {
    return this.inner.endpoint();
  }

  report(experiment: string, options?: OperationOptions): Promise<Report> {
    return this.guard(this.inner.report(experiment, options));
  }

  logFile(component: string): Promise<string> {
    return this.guard(this.inner.logFile(component));
  }

  /** The status; an API server that does not answer is an error here, never "stopped". */
  async status(): Promise<EnvironmentStatus> {
    await this.reachable();
    return this.inner.status();
  }

  async down(options?: OperationOptions): Promise<void> {
    await this.reachable();
    return this.guard(this.inner.down(options));
  }
}
