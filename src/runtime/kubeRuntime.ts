/**
 * The Runtime on Kubernetes — the local kind cluster or any kubeconfig context — so the CLI and
 * VS Code drive a cluster exactly like local processes: `up` applies the namespace and the
 * router, `deploy` an experiment's model servers and then its route, `setWeights` re-applies the
 * router's ConfigMap (the router watches it), `report` reads the router through the API server's
 * service proxy (no port-forward, works on remote clusters), `rollout` posts to the router's
 * admin API the same way with the namespace's admin token (a Secret `up` makes once), `logFile`
 * fetches Pod logs, `down` deletes everything of the release by label (the event log's volume
 * stays unless purged).
 *
 * Where the service proxy is refused (RBAC without `services/proxy`) or cannot reach the router,
 * the same request goes through a port-forward to the router's Pod (`pods/portforward`); once
 * RBAC has refused the proxy, later requests go straight to the port-forward.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { KubeConfig, KubernetesObject, V1ConfigMap, V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { RouterConfigInput } from '../core/spec/routerConfig';
import { SpecError } from '../core/spec/errors';
import type { Experiment } from '../core/spec/experiment';
import { scanWorkspace } from '../core/workspace/discover';
import { applyObjects } from '../kube/applyPlan';
import { labelSelector, newestFirst, newestPod, podLog } from '../kube/cluster';
import { forContext, loadKubeConfig } from '../kube/kubeconfig';
import { deleteObject, listObjects, readLive } from '../kube/objects';
import { isKindContext } from '../kube/promote';
import { applyWithAdminToken, readAdminToken } from '../kube/adminToken';
import { forwardedRequest, openPortForward } from '../kube/portForward';
import {
  serviceProxyPath,
  serviceProxyRequest,
  statusMessage,
  type KubeRequestOptions,
  type KubeResponse,
} from '../kube/request';
import { rolloutState, waitForRollouts } from '../kube/rollout';
import {
  liveRouterConfig,
  mergeExperiment,
  mergeExperimentFiles,
  readLiveStack,
  setRouterWeights,
} from '../kube/stackState';
import type { StackImages } from '../manifests/images';
import { releaseSelector, ANNOTATION_MODEL } from '../manifests/labels';
import {
  DEFAULT_NAMESPACE,
  DEFAULT_RELEASE,
  experimentFiles,
  experimentsConfigMap,
  modelRefs,
  modelServerObjects,
  ROUTER_CONFIG_KEY,
  ROUTER_CONTAINER_PORT,
  routerConfig,
  routerConfigMap,
  routerExperimentEntry,
  routerObjects,
  routerSelector,
  stackNames,
  type ExperimentInput,
  type StackOptions,
} from '../manifests/stack';
import { RouterClient, type RolloutAction, type RolloutOverrides } from '../shared/routerApi';
import { formatSplit } from '../shared/weights';
import type { Report, RolloutStatus } from '../shared/report';
import {
  RuntimeError,
  routerFailure,
  type ComponentStatus,
  type EnvironmentStatus,
  type OperationOptions,
  type Runtime,
} from './runtime';

export interface KubeRuntimeOptions {
  workspace: string;
  context: string;
  /** Default: the merged KUBECONFIG files. */
  kubeconfig?: KubeConfig;
  namespace?: string;
  release?: string;
  /** Default: `kind` for kind-* contexts, else `remote`. */
  platform?: 'kind' | 'remote';
  /** dist/router.js, deployed through a ConfigMap unless `routerImage` is set. */
  routerScript?: string;
  routerImage?: string;
  /** Remote clusters: the HTTP(S) URL under which model folders are published. */
  modelUriBase?: string;
  images?: Partial<StackImages>;
  /** kind: the host port the router's NodePort is mapped to (the cluster config's extraPortMappings). */
  hostPort?: number;
  storageClassName?: string;
  rolloutTimeoutMs?: number;
  /** How long `deploy` waits for the router to route the endpoint. */
  routedTimeoutMs?: number;
  /** `down` also deletes the event log's volume. */
  purge?: boolean;
  /** More stack settings (images, resources, router port, paths). */
  stack?: Partial<Omit<StackOptions, 'namespace' | 'platform' | 'release'>>;
  /** While the router does not know a deployed endpoint, how often to ask it to reload. Default 10 s. */
  reloadEveryMs?: number;
}

const ROUTER_COMPONENT = 'router';

/** True when the API server answered itself (a `Status`: refused, no endpoints, unreachable), not the router. */
function isApiServerAnswer(res: KubeResponse): boolean {
  if (res.status === 0) return true;
  try {
    return (JSON.parse(res.text) as { kind?: unknown }).kind === 'Status';
  } catch {
    // The proxy's own plain-text errors ("error trying to reach service: …").
    return res.status === 502 || res.status === 503;
  }
}

export class KubeRuntime implements Runtime {
  readonly workspace: string;
  readonly kc: KubeConfig;
  readonly context: string;
  readonly namespace: string;
  private readonly platform: 'kind' | 'remote';
  private readonly names: ReturnType<typeof stackNames>;

  constructor(private readonly opts: KubeRuntimeOptions) {
    this.workspace = resolve(opts.workspace);
    this.kc = opts.kubeconfig ?? loadKubeConfig();
    this.context = opts.context;
    forContext(this.kc, this.context); // fails early, naming the known contexts
    this.namespace = opts.namespace ?? DEFAULT_NAMESPACE;
    this.platform = opts.platform ?? (isKindContext(this.kc, this.context) ? 'kind' : 'remote');
    this.names = stackNames(opts.release);
  }

  /** The stack options without the router bundle (enough to name and label objects). */
  private base(): StackOptions {
    const o = this.opts;
    return {
      ...o.stack,
      namespace: this.namespace,
      release: o.release,
      platform: this.platform,
      ...(o.modelUriBase ? { modelSource: { kind: 'http', baseUrl: o.modelUriBase } } : {}),
      images: { ...o.stack?.images, ...o.images },
      router: {
        ...o.stack?.router,
        image: o.routerImage ?? o.stack?.router?.image,
        ...(o.storageClassName ? { storage: { storageClassName: o.storageClassName } } : {}),
      },
    };
  }

  /** The stack options with the router bundle read from disk (needed to apply the router). */
  private async stack(): Promise<StackOptions> {
    const o = this.opts;
    const base = this.base();
    if (o.routerImage) return base;
    if (!o.routerScript || !existsSync(o.routerScript))
      throw new RuntimeError(
        `the router bundle ${o.routerScript ?? 'dist/router.js'} is missing — build it with \`node esbuild.mjs\`, or set a router image`,
      );
    return { ...base, router: { ...base.router, bundle: await readFile(o.routerScript, 'utf8') } };
  }

  private where(): string {
    return `${this.context}/${this.namespace}`;
  }

  async up(options: OperationOptions = {}): Promise<EnvironmentStatus> {
    const progress = options.onProgress ?? (() => undefined);
    const stack = await this.stack();
    const live = await readLiveStack(this.kc, this.context, stack);
    // An existing router keeps its experiments: `up` is idempotent.
    const config = { ...live.config, ...routerConfig(live.config?.experiments ?? [], stack) };
    progress(`applying the router to ${this.where()}`);
    await applyWithAdminToken(
      this.kc,
      this.context,
      routerObjects(config, live.experimentFiles, stack) as KubernetesObject[],
      stack,
      { onProgress: progress, signal: options.signal },
    );
    await this.waitDeployments([this.names.router], options);
    return this.status();
  }

  async deploy(experimentFile: string, options: OperationOptions = {}): Promise<EnvironmentStatus> {
    const progress = options.onProgress ?? (() => undefined);
    const input = await this.experimentInput(experimentFile, options.signal);
    const exp = input.experiment;
    const stack = this.base();
    const live = await readLiveStack(this.kc, this.context, stack);
    if (!live.config)
      throw new RuntimeError(
        `the router is not running in ${this.where()} — start it with \`model-canary up --runtime kube --context ${this.context}\``,
      );
    if (exp.spec.drift && input.referenceCsv === undefined)
      progress('the drift reference was not found: the report will have no drift section');

    // Model servers and the experiment's file first; the route only once they are ready.
    const files = mergeExperimentFiles(live.experimentFiles, exp.metadata.name, experimentFiles(input));
    const servers = modelServerObjects(input, stack);
    progress(`applying ${servers.length / 2} model servers for ${exp.metadata.name}`);
    await applyObjects(
      this.kc,
      this.context,
      [experimentsConfigMap(files, stack), ...servers] as KubernetesObject[],
      {
        onProgress: progress,
        signal: options.signal,
      },
    );
    await this.waitDeployments(
      servers.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name),
      options,
    );
    const config = routerConfig(mergeExperiment(live.config, routerExperimentEntry(input, stack)), stack);
    progress(`routing /v2/models/${exp.spec.endpoint}/infer`);
    await applyObjects(
      this.kc,
      this.context,
      [routerConfigMap({ ...live.config, ...config }, stack)] as KubernetesObject[],
      {
        onProgress: progress,
      },
    );
    await this.waitRouted(exp.spec.endpoint, stack, { ...live.config, ...config }, options);
    return this.status();
  }

  async setWeights(
    experiment: string,
    weights: Record<string, number>,
    options: OperationOptions = {},
  ): Promise<Record<string, number>> {
    const stack = this.base();
    const entry = await setRouterWeights(this.kc, this.context, stack, experiment, weights).catch(
      (err: Error) => {
        throw new RuntimeError(err.message);
      },
    );
    const want = Object.fromEntries(entry.variants.map((v) => [v.name, v.weight]));
    options.onProgress?.(`router config updated: ${formatSplit(want)}`);
    // The router applies a ConfigMap change within a second; confirm it where the router is reachable.
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const report = await this.report(experiment).catch(() => undefined);
      if (!report) break;
      const now = Object.fromEntries(report.variants.map((v) => [v.name, v.weight]));
      if (entry.variants.every((v) => now[v.name] === v.weight)) return want;
      await new Promise((r) => setTimeout(r, 200));
    }
    options.onProgress?.(
      'the router did not confirm the new weights yet (it applies them once it sees the ConfigMap change)',
    );
    return want;
  }

  async rollout(
    experiment: string,
    action: RolloutAction,
    options: { candidate?: string; overrides?: RolloutOverrides; signal?: AbortSignal } = {},
  ): Promise<RolloutStatus> {
    const client = await this.router();
    return client
      .rollout(experiment, action, options)
      .catch(routerFailure(`rollout ${action} refused by the router in ${this.where()}`));
  }

  /**
   * The typed client of the router in the cluster: through the API server's service proxy, else a
   * port-forward; admin calls carry the namespace's admin token (the Secret `up` creates).
   */
  async router(): Promise<RouterClient> {
    return new RouterClient(
      (path, request) =>
        this.routerRequest(path, {
          method: request.method,
          body: request.body,
          // The API server authenticates this request with the kubeconfig's own Authorization;
          // the token travels in ADMIN_TOKEN_HEADER alone.
          headers: Object.fromEntries(
            Object.entries(request.headers).filter(([k]) => k.toLowerCase() !== 'authorization'),
          ),
          signal: request.signal,
        }).then((res) => ({ status: res.status, text: res.text })),
      async () => {
        const token = await readAdminToken(this.kc, this.context, this.base());
        if (!token)
          throw new RuntimeError(
            `the router in ${this.where()} has no admin token (Secret ${this.names.adminToken}) — run \`model-canary up --runtime kube --context ${this.context}\` to create it`,
          );
        return token;
      },
    );
  }

  async connect(options: { signal?: AbortSignal } = {}): Promise<{ url: string; close(): Promise<void> }> {
    if (this.platform === 'kind') return { url: await this.endpoint(), close: async () => undefined };
    const pod = await this.routerPod();
    if (!pod)
      throw new RuntimeError(
        `no running router Pod in ${this.where()} to port-forward to — start it with \`model-canary up --runtime kube --context ${this.context}\``,
      );
    const forward = await openPortForward(
      this.kc,
      this.context,
      this.namespace,
      pod,
      this.opts.stack?.router?.port ?? ROUTER_CONTAINER_PORT,
      { signal: options.signal },
    ).catch((err: Error) => {
      throw new RuntimeError(
        `cannot port-forward to the router Pod ${this.namespace}/${pod}: ${err.message}`,
      );
    });
    return { url: `http://127.0.0.1:${forward.port}`, close: () => forward.close() };
  }

  async endpoint(): Promise<string> {
    if (this.platform === 'kind') return `http://127.0.0.1:${this.opts.hostPort ?? 8090}`;
    // Needs the kubeconfig's credentials (e.g. through `kubectl proxy`); port-forward is the documented fallback.
    const server = forContext(this.kc, this.context).getCurrentCluster()?.server.replace(/\/+$/, '') ?? '';
    return server + serviceProxyPath(this.namespace, this.names.router, 'http', '').replace(/\/$/, '');
  }

  async report(experiment: string, options: OperationOptions = {}): Promise<Report> {
    const client = await this.router();
    return client
      .report(experiment, options.signal)
      .catch(routerFailure(`no report for ${experiment} from the router in ${this.where()}`));
  }

  /** How the last request reached the router: the API server's service proxy or a port-forward. */
  get routerPath(): 'service-proxy' | 'port-forward' {
    return this.proxyRefused ? 'port-forward' : 'service-proxy';
  }

  private proxyRefused = false;

  /**
   * A request to the router: through the API server's service proxy, else through a
   * port-forward to the router's Pod. An answer from the API server itself (a `Status`) or no
   * answer means the proxy failed; any answer from the router is returned as it is.
   */
  private async routerRequest(path: string, options: KubeRequestOptions = {}): Promise<KubeResponse> {
    let proxyFailure = 'not tried: it was refused before';
    if (!this.proxyRefused) {
      const res = await serviceProxyRequest(
        this.kc,
        this.context,
        this.namespace,
        this.names.router,
        'http',
        path,
        options,
      ).catch((err: Error) => ({ status: 0, text: err.message, contentType: '' }));
      if (!isApiServerAnswer(res)) return res;
      proxyFailure = res.status ? `HTTP ${res.status}: ${statusMessage(res)}` : res.text;
      if (res.status === 403) this.proxyRefused = true;
    }
    options.signal?.throwIfAborted();
    const pod = await this.routerPod().catch(() => undefined);
    const port = this.opts.stack?.router?.port ?? ROUTER_CONTAINER_PORT;
    if (!pod)
      throw new RuntimeError(
        `cannot reach the router in ${this.where()}: the API server's service proxy failed (${proxyFailure}) and no running router Pod can be port-forwarded to — check \`model-canary status --runtime kube --context ${this.context}\``,
      );
    try {
      return await forwardedRequest(this.kc, this.context, this.namespace, pod, port, path, {
        method: options.method,
        body: options.body,
        headers: {
          ...options.headers,
          ...(options.contentType ? { 'content-type': options.contentType } : {}),
        },
        timeoutMs: options.timeoutMs,
        signal: options.signal,
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new RuntimeError(
        `cannot reach the router in ${this.where()}: the API server's service proxy failed (${proxyFailure}), and so did a port-forward to Pod ${pod}: ${(err as Error).message}`,
      );
    }
  }

  /** The newest running router Pod's name. */
  private async routerPod(): Promise<string | undefined> {
    const pods = await listObjects<V1Pod>(
      this.kc,
      this.context,
      'v1',
      'Pod',
      this.namespace,
      labelSelector(routerSelector(this.opts.release ?? DEFAULT_RELEASE)),
    );
    return newestFirst(pods).find(
      (p) => p.status?.phase === 'Running' && p.spec?.nodeName && !p.metadata?.deletionTimestamp,
    )?.metadata?.name;
  }

  /** A component's recent log, fetched from its Pod. */
  async logs(component: string, tailLines = 1000): Promise<string> {
    const deployment = await this.findDeployment(component);
    const selector = labelSelector(deployment.spec?.selector?.matchLabels ?? {});
    const pod = await newestPod(this.kc, this.context, this.namespace, selector);
    if (!pod?.metadata?.name) throw new RuntimeError(`${component} has no Pod in ${this.where()} yet`);
    const container = deployment.spec?.template.spec?.containers[0]?.name;
    return podLog(this.kc, this.context, this.namespace, pod.metadata.name, { container, tailLines });
  }

  async logFile(component: string): Promise<string> {
    const text = await this.logs(component);
    const file = join(
      this.workspace,
      '.model-canary',
      'kube-logs',
      this.context,
      this.namespace,
      `${component}.log`,
    );
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
    return file;
  }

  /**
   * The stack's components and experiments in three requests made together, however many model
   * servers run (trees and status bars poll this): the Deployments, the Pods, and the router's
   * config ConfigMap (not the experiments ConfigMap, which carries drift references).
   */
  async status(): Promise<EnvironmentStatus> {
    const release = this.opts.release ?? DEFAULT_RELEASE;
    const list = <T extends KubernetesObject>(apiVersion: string, kind: string, selector: string) =>
      listObjects<T>(this.kc, this.context, apiVersion, kind, this.namespace, selector).catch(
        () => [] as T[],
      );
    const [deployments, pods, configMap] = await Promise.all([
      list<V1Deployment>('apps/v1', 'Deployment', releaseSelector(release)),
      // Each Deployment's own selector picks its Pods out of these.
      list<V1Pod>('v1', 'Pod', `app.kubernetes.io/instance=${release}`),
      readLive<V1ConfigMap>(this.kc, this.context, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: this.names.routerConfig, namespace: this.namespace },
      }).catch(() => undefined),
    ]);
    const newest = newestFirst(pods);
    const components: ComponentStatus[] = deployments.map((d) => {
      const name = d.metadata?.name ?? '';
      const isRouter = name === this.names.router;
      const state = rolloutState(d, `Deployment ${this.namespace}/${name}`);
      const available = (d.status?.availableReplicas ?? 0) > 0;
      const match = Object.entries(d.spec?.selector?.matchLabels ?? {});
      const pod = newest.find((p) => match.every(([k, v]) => p.metadata?.labels?.[k] === v));
      const port = isRouter ? 8090 : 8080;
      return {
        name: isRouter ? ROUTER_COMPONENT : name,
        kind: isRouter ? 'router' : 'model-server',
        id: pod?.metadata?.name ?? '',
        url: `http://${name}.${this.namespace}.svc:${port}`,
        state: state.done && available ? 'ready' : 'not-ready',
        ...(state.done ? {} : { detail: state.message }),
      };
    });
    let config: RouterConfigInput | undefined;
    try {
      config = liveRouterConfig(configMap);
    } catch {
      // An invalid config lists no experiments here; deploy and promote say what is wrong with it.
    }
    const up = components.some((c) => c.kind === 'router');
    return {
      runtime: 'kubernetes',
      up,
      ...(up ? { routerUrl: await this.endpoint() } : {}),
      components,
      experiments: (config?.experiments ?? []).map((e) => ({
        name: e.name,
        endpoint: e.endpoint,
        file: `configmap/${this.namespace}/${this.names.experiments}/${e.name}.yaml`,
      })),
    };
  }

  async down(options: OperationOptions = {}): Promise<void> {
    const selector = releaseSelector(this.opts.release ?? 'model-canary');
    const kinds: [string, string][] = [
      ['apps/v1', 'Deployment'],
      ['v1', 'Service'],
      ['v1', 'ConfigMap'],
      ['v1', 'Secret'],
      ['rbac.authorization.k8s.io/v1', 'RoleBinding'],
      ['rbac.authorization.k8s.io/v1', 'Role'],
      ['v1', 'ServiceAccount'],
      ...(this.opts.purge ? ([['v1', 'PersistentVolumeClaim']] as [string, string][]) : []),
    ];
    for (const [apiVersion, kind] of kinds) {
      options.signal?.throwIfAborted();
      const items = await listObjects(
        this.kc,
        this.context,
        apiVersion,
        kind,
        this.namespace,
        selector,
      ).catch(() => []);
      for (const item of items) {
        options.onProgress?.(`deleting ${kind} ${this.namespace}/${item.metadata?.name}`);
        await deleteObject(this.kc, this.context, { ...item, apiVersion, kind });
      }
    }
    if (!this.opts.purge)
      options.onProgress?.(`kept the event log's volume ${this.names.data} (purge deletes it)`);
  }

  // ---------------------------------------------------------------------------------------------

  private async experimentInput(experimentFile: string, signal?: AbortSignal): Promise<ExperimentInput> {
    const file = resolve(experimentFile);
    const scan = await scanWorkspace(this.workspace, signal);
    const entry = scan.experiments.find((e) => e.file === file);
    const problems = scan.problems.filter((p) => p.file === file);
    if (!entry) {
      if (!existsSync(file)) throw new RuntimeError(`the experiment file ${experimentFile} does not exist`);
      throw new RuntimeError(`${experimentFile} is not an experiment of the workspace ${this.workspace}`);
    }
    if (problems.length > 0 || !entry.experiment) throw new SpecError(problems);
    const experiment: Experiment = entry.experiment;
    const reference = experiment.spec.drift
      ? resolve(dirname(file), experiment.spec.drift.reference)
      : undefined;
    const referenceCsv = reference ? await readFile(reference, 'utf8').catch(() => undefined) : undefined;
    return { experiment, models: modelRefs(scan.root, scan.models), referenceCsv };
  }

  private async findDeployment(component: string): Promise<V1Deployment> {
    const name = component === ROUTER_COMPONENT ? this.names.router : component;
    const direct = await readLive<V1Deployment>(this.kc, this.context, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: this.namespace },
    });
    if (direct) return direct;
    // A model name (as in the local runtime): the Deployment serving it.
    const all = await listObjects<V1Deployment>(
      this.kc,
      this.context,
      'apps/v1',
      'Deployment',
      this.namespace,
      releaseSelector(this.opts.release ?? 'model-canary'),
    );
    const byModel = all.find((d) => d.metadata?.annotations?.[ANNOTATION_MODEL] === component);
    if (byModel) return byModel;
    throw new RuntimeError(
      `no component "${component}" in ${this.where()} — choose one of: ${[ROUTER_COMPONENT, ...all.map((d) => d.metadata?.name).filter((n) => n !== this.names.router)].join(', ')}`,
    );
  }

  private async waitDeployments(names: string[], options: OperationOptions): Promise<void> {
    await waitForRollouts(
      this.kc,
      this.context,
      names.map((name) => ({ name, namespace: this.namespace })),
      {
        timeoutMs: this.opts.rolloutTimeoutMs ?? 300_000,
        onProgress: options.onProgress,
        signal: options.signal,
      },
    ).catch((err: Error) => {
      if (err.name === 'AbortError') throw err;
      throw new RuntimeError(err.message);
    });
  }

  /**
   * Waits until the router routes the endpoint. The experiment's file reaches the router's volume
   * when the kubelet next syncs the Pod (up to a minute or so), and the router refuses a config
   * naming a file that is not there yet and does not retry it; so while the endpoint is unknown
   * the config is re-applied with a reload marker every 10 s to make the router try again.
   * Routed means the router knows the endpoint (200, or 503 while a variant is not ready yet —
   * the rollouts were already awaited).
   */
  private async waitRouted(
    endpoint: string,
    stack: StackOptions,
    config: Parameters<typeof routerConfigMap>[0],
    options: OperationOptions,
  ): Promise<void> {
    const timeoutMs = this.opts.routedTimeoutMs ?? 180_000;
    const every = this.opts.reloadEveryMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    let nextReload = Date.now() + every;
    let last = '';
    while (Date.now() < deadline) {
      options.signal?.throwIfAborted();
      const res = await this.routerRequest(`/v2/models/${encodeURIComponent(endpoint)}/ready`, {
        timeoutMs: 5_000,
      }).catch((err: Error) => ({ status: 0, text: err.message, contentType: '' }));
      if (res.status === 200) return;
      const known = res.status === 503 && /"variants"\s*:/.test(res.text);
      if (known) {
        options.onProgress?.(
          `routing ${endpoint}; the router does not see every variant ready yet: ${res.text.slice(0, 200)}`,
        );
        return;
      }
      last = `HTTP ${res.status}: ${statusMessage(res)}`;
      if (Date.now() >= nextReload) {
        nextReload = Date.now() + every;
        options.onProgress?.(`the router does not route ${endpoint} yet (${last}); asking it to reload`);
        const cm = routerConfigMap(config, stack);
        const data = cm.data as Record<string, string>;
        data[ROUTER_CONFIG_KEY] += `# reload requested ${new Date().toISOString()}\n`;
        await applyObjects(this.kc, this.context, [cm as KubernetesObject]);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new RuntimeError(
      `the router in ${this.where()} did not route /v2/models/${endpoint}/infer within ${timeoutMs / 1000} s (last answer: ${last}) — see \`model-canary logs router\``,
    );
  }
}
