/**
 * The local environment without Kubernetes: MLServer for each model version (one process, or
 * several sized to its variant's traffic share: ./servingPlan.ts) and the router, on loopback,
 * started from the workspace. State lives in `.model-canary/` so any process (the CLI in
 * another terminal, VS Code after a reload) can see and stop it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { SpecError } from '../core/spec/errors';
import { scanWorkspace, type ModelVersion, type WorkspaceScan } from '../core/workspace/discover';
import type { Experiment } from '../core/spec/experiment';
import { variantModels } from '../core/spec/graph';
import type { Report, RolloutStatus } from '../shared/report';
import { runCommand } from '../process/execaRunner';
import { findAlibiDetectMlserver, startDetectorServers } from './detectorServers';
import { startModelServer, stopProcessGroup } from './modelServer';
import { localRouterConfig } from './localRouterConfig';
import { modelWorkers, servingNote } from './servingPlan';
import { freePort } from './ports';
import { ensureMlserverEnv } from './python';
import { ensureRuntimesOf } from './runtimePackages';
import { ensureModelEnv } from './modelEnv';
import { startRouterProcess } from './routerProcess';
import {
  INGEST_TOKEN_ENV,
  RouterClient,
  fetchTransport,
  type RolloutAction,
  type RolloutOverrides,
} from '../shared/routerApi';
import {
  RuntimeError,
  routerFailure,
  type EnvironmentStatus,
  type OperationOptions,
  type Runtime,
} from './runtime';
import { isReady, processStatus, ROUTER_COMPONENT } from './processStatus';
import { clearState, isAlive, readState, stateDir, writeState, type RuntimeState } from './state';

export interface ProcessRuntimeOptions {
  workspace: string;
  /** Path of dist/router.js. */
  routerScript: string;
  /** Cache for the Python environment (CLI: ~/.cache/model-canary; extension: its global storage). */
  cacheDir: string;
  python?: string;
  /** Router port on 127.0.0.1; 0 picks a free one. */
  routerPort?: number;
  readyTimeoutMs?: number;
}

export class ProcessRuntime implements Runtime {
  readonly workspace: string;

  constructor(private readonly opts: ProcessRuntimeOptions) {
    this.workspace = resolve(opts.workspace);
  }

  private get dir(): string {
    return stateDir(this.workspace);
  }

  async up(options: OperationOptions = {}): Promise<EnvironmentStatus> {
    const existing = await this.liveState();
    if (existing) {
      options.onProgress?.(`already running: router at ${existing.router.url}`);
      return this.status();
    }
    await this.cleanStale(options);
    options.onProgress?.('checking the MLServer Python environment');
    await ensureMlserverEnv(runCommand, {
      python: this.opts.python,
      cacheDir: this.opts.cacheDir,
      signal: options.signal,
      onLine: options.onProgress,
    });

    const port = this.opts.routerPort === 0 ? await freePort() : (this.opts.routerPort ?? 8090);
    const url = `http://127.0.0.1:${port}`;
    await mkdir(join(this.dir, 'logs'), { recursive: true });
    const tokenFile = join(this.dir, 'admin-token');
    await writeFile(tokenFile, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    const configFile = join(this.dir, 'router.yaml');
    const dataDir = join(this.dir, 'data');
    const state: RuntimeState = {
      version: 1,
      workspace: this.workspace,
      startedAt: new Date().toISOString(),
      router: {
        pid: -1,
        url,
        grpcPort: await freePort(),
        logFile: join(this.dir, 'logs', 'router.log'),
        configFile,
        tokenFile,
        dataDir,
      },
      modelServers: {},
      experiments: {},
    };
    await this.writeRouterConfig(state, []);
    options.onProgress?.(`starting the router on ${url}`);
    try {
      state.router.pid = await startRouterProcess({
        script: this.opts.routerScript,
        configFile,
        logFile: state.router.logFile,
        url,
        signal: options.signal,
      });
    } catch (err) {
      const inUse = /EADDRINUSE/.test((err as Error).message);
      throw inUse
        ? new RuntimeError(
            `port ${port} on 127.0.0.1 is already in use — stop what listens there, or choose another port (--port, or the setting modelCanary.router.port)`,
          )
        : err;
    }
    await writeState(state);
    return this.status();
  }

  async deploy(experimentFile: string, options: OperationOptions = {}): Promise<EnvironmentStatus> {
    const state = await this.requireState();
    const file = resolve(experimentFile);
    const scan = await scanWorkspace(this.workspace, options.signal);
    const entry = scan.experiments.find((e) => e.file === file);
    const problems = scan.problems.filter((p) => p.file === file);
    if (!entry) {
      if (!existsSync(file)) throw new RuntimeError(`the experiment file ${experimentFile} does not exist`);
      throw new RuntimeError(
        `${experimentFile} is not an experiment of the workspace ${this.workspace} (apiVersion modelcanary.dev/v1alpha1, kind Experiment)`,
      );
    }
    if (problems.length > 0 || !entry.experiment) throw new SpecError(problems);
    const experiment = entry.experiment;
    const models = new Map(scan.models.map((m) => [m.name, m]));
    const needed = [
      ...experiment.spec.variants.flatMap(variantModels),
      ...(experiment.spec.routing?.mirror ? [experiment.spec.routing.mirror.model] : []),
    ];

    const env = await ensureMlserverEnv(runCommand, {
      python: this.opts.python,
      cacheDir: this.opts.cacheDir,
      signal: options.signal,
      onLine: options.onProgress,
    });
    await ensureRuntimesOf(env, needed, models, options);
    const sizing = modelWorkers(experiment);
    const note = servingNote(experiment);
    if (note) options.onProgress?.(note);
    for (const name of new Set(needed)) {
      const running = state.modelServers[name];
      const workers = sizing.get(name) ?? 1;
      if (
        running &&
        (running.requestedWorkers ?? running.workers ?? 1) === workers &&
        isAlive(running.pid) &&
        (await isReady(`${running.url}/v2/models/${encodeURIComponent(name)}/ready`))
      )
        continue;
      if (running) await stopProcessGroup(running.pid, 2_000);
      const model = models.get(name) as ModelVersion;
      // A custom runtime with a requirements.txt runs on its own environment (modelEnv.ts).
      const mlserver = model.requirements
        ? (
            await ensureModelEnv(runCommand, env, model.requirements, {
              cacheDir: this.opts.cacheDir,
              signal: options.signal,
              onLine: options.onProgress,
            })
          ).mlserver
        : env.mlserver;
      options.onProgress?.(`starting MLServer for ${name}${workers > 1 ? ` (${workers} processes)` : ''}`);
      const server = await startModelServer({
        workers,
        mlserver,
        modelDir: model.dir,
        modelName: name,
        logFile: join(this.dir, 'logs', `${name}.log`),
        readyTimeoutMs: this.opts.readyTimeoutMs,
        signal: options.signal,
        detach: true,
      });
      state.modelServers[name] = {
        pid: server.pid,
        url: server.url,
        logFile: server.logFile,
        dir: model.dir,
        ports: server.ports,
        workers: server.workers,
        ...(server.workers < workers ? { requestedWorkers: workers } : {}),
      };
      await writeState(state);
    }

    const alibi = { python: this.opts.python, cacheDir: this.opts.cacheDir, signal: options.signal };
    await startDetectorServers(
      state,
      this.dir,
      experiment,
      () => findAlibiDetectMlserver(runCommand, alibi),
      {
        readyTimeoutMs: this.opts.readyTimeoutMs,
        ...options,
      },
    );
    state.experiments[experiment.metadata.name] = { file, endpoint: experiment.spec.endpoint };
    const experiments = this.deployedIn(state, scan);
    await this.writeRouterConfig(state, experiments);
    await writeState(state);
    options.onProgress?.(`routing /v2/models/${experiment.spec.endpoint}/infer`);
    await this.waitRouted(state, experiment.spec.endpoint, options.signal);
    return this.status();
  }

  async setWeights(
    experiment: string,
    weights: Record<string, number>,
    options: OperationOptions = {},
  ): Promise<Record<string, number>> {
    const client = await this.router();
    return client
      .setWeights(experiment, weights, options.signal)
      .catch(routerFailure(`the router refused the weights of ${experiment}`));
  }

  async rollout(
    experiment: string,
    action: RolloutAction,
    options: { candidate?: string; overrides?: RolloutOverrides; signal?: AbortSignal } = {},
  ): Promise<RolloutStatus> {
    const client = await this.router();
    return client.rollout(experiment, action, options).catch(routerFailure(`rollout ${action} refused`));
  }

  async endpoint(): Promise<string> {
    return (await this.requireState()).router.url;
  }

  async report(experiment: string, options: OperationOptions = {}): Promise<Report> {
    const client = await this.router();
    return client.report(experiment, options.signal).catch(routerFailure(`no report for ${experiment}`));
  }

  /** The typed client of the running router, with its admin token. */
  async router(): Promise<RouterClient> {
    const state = await this.requireState();
    return new RouterClient(
      fetchTransport(state.router.url, fetch),
      () => this.token(state),
      async () => process.env[INGEST_TOKEN_ENV],
    );
  }

  async logFile(component: string): Promise<string> {
    const state = await this.requireState();
    if (component === ROUTER_COMPONENT) return state.router.logFile;
    const server = state.modelServers[component];
    if (!server) {
      throw new RuntimeError(
        `no component "${component}" — choose one of: ${[ROUTER_COMPONENT, ...Object.keys(state.modelServers)].join(', ')}`,
      );
    }
    return server.logFile;
  }

  async status(): Promise<EnvironmentStatus> {
    return processStatus(await readState(this.workspace));
  }

  async down(options: OperationOptions = {}): Promise<void> {
    const state = await readState(this.workspace);
    if (!state) return;
    // The router first, so it flushes its log while the model servers still answer.
    options.onProgress?.('stopping the router');
    await stopProcessGroup(state.router.pid);
    for (const [name, s] of Object.entries(state.modelServers)) {
      options.onProgress?.(`stopping MLServer for ${name}`);
      await stopProcessGroup(s.pid);
    }
    await clearState(this.workspace);
    await rm(state.router.tokenFile, { force: true });
  }

  /** The state when its router is alive; undefined otherwise. */
  private async liveState(): Promise<RuntimeState | undefined> {
    const state = await readState(this.workspace);
    return state && isAlive(state.router.pid) ? state : undefined;
  }

  private async requireState(): Promise<RuntimeState> {
    const state = await this.liveState();
    if (!state) {
      throw new RuntimeError(
        `the local environment is not running in ${this.workspace} — start it with \`model-canary up\` (or Model Canary: Start Environment on local processes)`,
      );
    }
    return state;
  }

  // A previous run that died (machine reboot, SIGKILL) leaves state behind: stop what still runs, forget the rest.
  private async cleanStale(options: OperationOptions): Promise<void> {
    const state = await readState(this.workspace);
    if (!state) return;
    options.onProgress?.('cleaning up a previous run that did not shut down');
    for (const s of Object.values(state.modelServers))
      if (isAlive(s.pid)) await stopProcessGroup(s.pid, 2_000);
    await clearState(this.workspace);
  }

  private async token(state: RuntimeState): Promise<string> {
    return (await readFile(state.router.tokenFile, 'utf8')).trim();
  }

  // The deployed experiments as the scan deploy() just made sees them (no second scan).
  private deployedIn(state: RuntimeState, scan: WorkspaceScan): Experiment[] {
    const out: Experiment[] = [];
    for (const name of Object.keys(state.experiments)) {
      const found = scan.experiments.find((e) => e.experiment?.metadata.name === name)?.experiment;
      if (found) out.push(found);
    }
    return out;
  }

  private async writeRouterConfig(state: RuntimeState, experiments: Experiment[]): Promise<void> {
    const configDir = dirname(state.router.configFile);
    const config = localRouterConfig(state, experiments);
    await mkdir(configDir, { recursive: true });
    const tmp = `${state.router.configFile}.tmp`;
    // The router reloads when this file changes and re-reads the experiment files then: their
    // fingerprints here make a re-deploy of an edited experiment (or reference) reach it.
    const fingerprints = await Promise.all(
      experiments.map(async (exp) => `# ${exp.metadata.name}: ${await fingerprint(exp)}`),
    );
    await writeFile(
      tmp,
      [
        '# Generated by model-canary; the router reloads it on change.',
        ...fingerprints,
        stringify(config),
      ].join('\n'),
    );
    await rename(tmp, state.router.configFile);
  }

  private async waitRouted(state: RuntimeState, endpoint: string, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      signal?.throwIfAborted();
      if (await isReady(`${state.router.url}/v2/models/${encodeURIComponent(endpoint)}/ready`)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new RuntimeError(
      `the router did not pick up the endpoint ${endpoint} within 15 s — see ${state.router.logFile}`,
    );
  }
}

/** A short hash of an experiment file and its drift reference, as they are on disk now. */
async function fingerprint(exp: Experiment): Promise<string> {
  const hash = createHash('sha256').update(await readFile(exp.file));
  const reference = exp.spec.drift?.reference;
  if (reference)
    hash.update(await readFile(resolve(dirname(exp.file), reference)).catch(() => Buffer.alloc(0)));
  return `sha256 ${hash.digest('hex').slice(0, 16)}`;
}
