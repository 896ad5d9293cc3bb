/**
 * The Runtime on Kubernetes — the local kind cluster or any kubeconfig context — so the CLI and
 * VS Code drive a cluster exactly like local processes: `up` applies the namespace and the
 * router, `deploy` an experiment's model servers and then its route, `setWeights` re-applies the
 * router's ConfigMap (the router watches it), `report` reads the router through the API server's
 * service proxy (no port-forward, works on remote clusters), `rollout` posts to the router's
 * admin API the same way with the namespace's admin token (a Secret `up` makes once), `logFile`
 * fetches Pod logs, `down` deletes everything of the release by label (the event log's volume
 * stays unless purged). How requests reach the router: kubeRouterConnection.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { readDriftReferences } from '../core/workspace/driftReferences';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { SpecError } from '../core/spec/errors';
import type { Experiment } from '../core/spec/experiment';
import { scanWorkspace } from '../core/workspace/discover';
import { applyObjects } from '../kube/applyPlan';
import { labelSelector, newestPod, podLog } from '../kube/cluster';
import { forContext, loadKubeConfig } from '../kube/kubeconfig';
import { deleteStack } from './kubeDown';
import { isKindContext } from '../kube/promote';
import { applyWithAdminToken, ingestTokenHint } from '../kube/adminToken';
import {
  keepLiveReplicas,
  mergeExperiment,
  mergeExperimentFiles,
  readLiveStack,
  setRouterWeights,
} from '../kube/stackState';
import { RouterBundleMissing, readRouterBundle } from './routerBundle';
import {
  DEFAULT_NAMESPACE,
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
  stackNames,
  type ExperimentInput,
  type StackOptions,
} from '../manifests/stack';
import type { RouterClient, RolloutAction, RolloutOverrides } from '../shared/routerApi';
import { formatSplit } from '../shared/weights';
import type { Report, RolloutStatus } from '../shared/report';
import { KubeRouterConnection } from './kubeRouterConnection';
import { routerLogDetail } from './kubeLogHealth';
import {
  assertRouterNodePortFree,
  findDeployment,
  readStackStatus,
  pruneStale,
  waitRouter,
  waitDeployments,
  type KubeStackTarget,
} from './kubeStackStatus';
import {
  RuntimeError,
  routerFailure,
  type EnvironmentStatus,
  type OperationOptions,
  type Runtime,
} from './runtime';
import type { KubeRuntimeOptions } from './kubeRuntimeOptions';

export type { KubeRuntimeOptions };

export class KubeRuntime implements Runtime {
  readonly workspace: string;
  readonly kc: KubeConfig;
  readonly context: string;
  readonly namespace: string;
  private readonly platform: 'kind' | 'remote';
  private readonly names: ReturnType<typeof stackNames>;
  private readonly target: KubeStackTarget;
  private readonly connection: KubeRouterConnection;

  constructor(private readonly opts: KubeRuntimeOptions) {
    this.workspace = resolve(opts.workspace);
    this.kc = opts.kubeconfig ?? loadKubeConfig();
    this.context = opts.context;
    forContext(this.kc, this.context); // fails early, naming the known contexts
    this.namespace = opts.namespace ?? DEFAULT_NAMESPACE;
    this.platform = opts.platform ?? (isKindContext(this.kc, this.context) ? 'kind' : 'remote');
    this.names = stackNames(opts.release);
    this.target = {
      kc: this.kc,
      context: this.context,
      namespace: this.namespace,
      release: opts.release,
      names: this.names,
    };
    this.connection = new KubeRouterConnection({
      ...this.target,
      platform: this.platform,
      routerPort: opts.stack?.router?.port ?? ROUTER_CONTAINER_PORT,
      hostPort: opts.hostPort,
    });
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
    const bundle = await readRouterBundle(o.routerScript).catch((err: unknown) => {
      throw err instanceof RouterBundleMissing ? new RuntimeError(err.message) : err;
    });
    return { ...base, router: { ...base.router, bundle } };
  }

  private where(): string {
    return `${this.context}/${this.namespace}`;
  }

  async up(options: OperationOptions = {}): Promise<EnvironmentStatus> {
    const progress = options.onProgress ?? (() => undefined);
    const live = await readLiveStack(this.kc, this.context, this.base());
    const stack = keepLiveReplicas(await this.stack(), live);
    // An existing router keeps its experiments: `up` is idempotent.
    const config = { ...live.config, ...routerConfig(live.config?.experiments ?? [], stack) };
    if (this.platform === 'kind') await assertRouterNodePortFree(this.target);
    progress(`applying the router to ${this.where()}`);
    const objects = routerObjects(config, live.experimentFiles, stack) as KubernetesObject[];
    // Routers write their weights to their ConfigMap, and own router.yaml then: take it back first.
    const ownConfig = objects.filter(
      (o) => o.kind === 'ConfigMap' && o.metadata?.name === this.names.routerConfig,
    );
    if (live.configMap)
      await applyObjects(this.kc, this.context, ownConfig, { force: true, signal: options.signal });
    await applyWithAdminToken(this.kc, this.context, objects, stack, {
      onProgress: progress,
      signal: options.signal,
    });
    await pruneStale(this.target, objects, [{ router: true }], progress);
    await waitRouter(this.target, options, this.opts.rolloutTimeoutMs);
    progress(ingestTokenHint(this.context, stack));
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
    progress(
      `applying ${servers.filter((o) => o.kind === 'Deployment').length} model servers for ${exp.metadata.name}`,
    );
    await applyObjects(
      this.kc,
      this.context,
      [experimentsConfigMap(files, stack), ...servers] as KubernetesObject[],
      {
        onProgress: progress,
        signal: options.signal,
      },
    );
    await waitDeployments(
      this.target,
      servers.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name),
      options,
      this.opts.rolloutTimeoutMs,
    );
    const config = routerConfig(mergeExperiment(live.config, routerExperimentEntry(input, stack)), stack);
    progress(`routing /v2/models/${exp.spec.endpoint}/infer`);
    await applyObjects(
      this.kc,
      this.context,
      [routerConfigMap({ ...live.config, ...config }, stack)] as KubernetesObject[],
      // Forced: the router owns router.yaml after it wrote weights there (a rollout's steps).
      { onProgress: progress, force: true },
    );
    await this.connection.waitRouted(
      exp.spec.endpoint,
      () => this.reloadRouter({ ...live.config, ...config }, stack),
      {
        timeoutMs: this.opts.routedTimeoutMs,
        reloadEveryMs: this.opts.reloadEveryMs,
        onProgress: options.onProgress,
        signal: options.signal,
      },
    );
    // Routed to the new variants only: the model servers of variants the file dropped can go.
    await pruneStale(this.target, servers, [{ experiment: exp.metadata.name }], progress);
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
    return this.connection.router();
  }

  async ingestToken(): Promise<string | undefined> {
    return this.connection.ingestToken();
  }

  async connect(options: { signal?: AbortSignal } = {}): Promise<{ url: string; close(): Promise<void> }> {
    return this.connection.connect(options);
  }

  async endpoint(): Promise<string> {
    return this.connection.endpoint();
  }

  async report(experiment: string, options: OperationOptions = {}): Promise<Report> {
    const client = await this.router();
    return client
      .report(experiment, options.signal)
      .catch(routerFailure(`no report for ${experiment} from the router in ${this.where()}`));
  }

  /** How the last request reached the router: the API server's service proxy or a port-forward. */
  get routerPath(): 'service-proxy' | 'port-forward' {
    return this.connection.routerPath;
  }

  /** A component's recent log, fetched from its Pod. */
  async logs(component: string, tailLines = 1000): Promise<string> {
    const deployment = await findDeployment(this.target, component);
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
   * servers run (trees and status bars poll this); with the router ready, each replica's
   * quarantined event-log lines.
   */
  async status(): Promise<EnvironmentStatus> {
    return readStackStatus(
      this.target,
      () => this.endpoint(),
      () => this.connection.grpcEndpoint(),
      () =>
        routerLogDetail(this.target, this.opts.stack?.router?.port ?? ROUTER_CONTAINER_PORT, () =>
          this.connection.router().eventLogHealth(),
        ),
    );
  }

  async down(options: OperationOptions = {}): Promise<void> {
    await deleteStack(
      {
        kc: this.kc,
        context: this.context,
        namespace: this.namespace,
        release: this.opts.release,
        purge: !!this.opts.purge,
      },
      options,
    );
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
    return {
      experiment,
      models: modelRefs(scan.root, scan.models),
      ...(await readDriftReferences(experiment)),
    };
  }

  /** Re-applies the router's config with a reload marker, so the router reads its files again. */
  private async reloadRouter(
    config: Parameters<typeof routerConfigMap>[0],
    stack: StackOptions,
  ): Promise<void> {
    const cm = routerConfigMap(config, stack);
    const data = cm.data as Record<string, string>;
    data[ROUTER_CONFIG_KEY] += `# reload requested ${new Date().toISOString()}\n`;
    await applyObjects(this.kc, this.context, [cm as KubernetesObject], { force: true });
  }
}
