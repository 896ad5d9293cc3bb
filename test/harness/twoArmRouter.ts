/**
 * The real router with one experiment over two fake V2 upstreams, as the router integration suites
 * set it up: v1 (model m1, the baseline) and v2 (model m2), the experiment file `<name>.yaml` written
 * next to the config, the suites' admin token, an event log synced every 20 ms, and a keep-alive
 * Client of 16 connections. stop() closes all of it and removes the folder.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RouterConfigInput } from '../../src/core/spec/routerConfig';
import { startRouter, routerDir, writeRouterConfig, type RunningRouter } from './router';
import { Client } from './routerClient';
import { TOKEN } from './routerSuites';
import { startUpstream, type Upstream } from './upstream';

export interface TwoArmRouterOptions {
  /** The experiment's name and endpoint; its file is `<name>.yaml` in the router's folder. */
  name: string;
  /** The weights of v1 and v2, in the experiment file and the router config alike. */
  weights: [number, number];
  /** The experiment file's primary metric. */
  metric: { name: string; kind: 'proportion' | 'continuous'; window?: string };
  /** The experiment file names v1 the baseline too (the router config always does). */
  baselineInFile?: boolean;
  /** The experiment file's `routing:` as YAML, e.g. `{ sticky: { header: x-user-id } }`. */
  routing?: string;
  /** The router config's sticky header. */
  stickyHeader?: string;
  /** More of the experiment file's `metrics:` map as YAML, e.g. `model: { task: classification }`. */
  metricsExtra?: string;
  /** Mirrors requests to a third upstream, the shadow variant v3 (model m3). */
  mirror?: { percent: number; maxInFlight: number };
}

export interface TwoArmRouter {
  /** The router's folder: its config, the experiment file and the event log under `data`. */
  dir: string;
  configFile: string;
  experimentFile: string;
  /** v1, v2 and, with a mirror, v3. */
  upstreams: Upstream[];
  router: RunningRouter;
  client: Client;
  /** Stops the router and starts it again on the same config and log, with a new Client of `connections`. */
  restart(connections?: number): Promise<void>;
  /** Closes the client, stops the router and the upstreams, and removes the folder. */
  stop(): Promise<void>;
}

function experimentYaml(opts: TwoArmRouterOptions): string {
  const [w1, w2] = opts.weights;
  const role = opts.baselineInFile ? ' role: baseline,' : '';
  return [
    'apiVersion: modelcanary.dev/v1alpha1',
    'kind: Experiment',
    `metadata: { name: ${opts.name} }`,
    'spec:',
    `  endpoint: ${opts.name}`,
    `  variants: [{ name: v1, model: m1,${role} weight: ${w1} }, { name: v2, model: m2, weight: ${w2} }]`,
    ...(opts.routing ? [`  routing: ${opts.routing}`] : []),
    `  metrics: { primary: { name: ${opts.metric.name}, kind: ${opts.metric.kind}${opts.metric.window ? `, window: ${opts.metric.window}` : ''} }${opts.metricsExtra ? `, ${opts.metricsExtra}` : ''} }`,
    '',
  ].join('\n');
}

/** Starts the upstreams and the router; a failure on the way stops what had started. */
export async function startTwoArmRouter(opts: TwoArmRouterOptions): Promise<TwoArmRouter> {
  const partial: Partial<TwoArmRouter> & { upstreams: Upstream[] } = { upstreams: [] };
  const stop = async (): Promise<void> => {
    await partial.client?.close();
    await partial.router?.stop();
    await Promise.all(partial.upstreams.map((u) => u.close()));
    if (partial.dir) await rm(partial.dir, { recursive: true, force: true });
  };
  try {
    partial.upstreams = await Promise.all(Array.from({ length: opts.mirror ? 3 : 2 }, () => startUpstream()));
    const [v1, v2, v3] = partial.upstreams as [Upstream, Upstream, Upstream?];
    const dir = (partial.dir = await routerDir());
    const experimentFile = join(dir, `${opts.name}.yaml`);
    await writeFile(experimentFile, experimentYaml(opts));
    const experiment: NonNullable<RouterConfigInput['experiments']>[number] = {
      name: opts.name,
      endpoint: opts.name,
      experimentFile,
      variants: [
        { name: 'v1', url: v1.url, model: 'm1', weight: opts.weights[0], role: 'baseline' },
        { name: 'v2', url: v2.url, model: 'm2', weight: opts.weights[1] },
      ],
      ...(opts.stickyHeader ? { sticky: { header: opts.stickyHeader } } : {}),
      ...(opts.mirror && v3 ? { mirror: { variant: 'v3', url: v3.url, model: 'm3', ...opts.mirror } } : {}),
    };
    const configFile = await writeRouterConfig(dir, {
      adminToken: TOKEN,
      eventLog: { fsyncIntervalMs: 20 },
      experiments: [experiment],
    });
    partial.router = await startRouter(configFile);
    partial.client = new Client(partial.router.url, 16);
    const running: TwoArmRouter = {
      dir,
      configFile,
      experimentFile,
      upstreams: partial.upstreams,
      router: partial.router,
      client: partial.client,
      async restart(connections = 16) {
        await running.client.close();
        await running.router.stop();
        partial.router = running.router = await startRouter(configFile);
        partial.client = running.client = new Client(running.router.url, connections);
      },
      stop,
    };
    return running;
  } catch (err) {
    await stop();
    throw err;
  }
}
