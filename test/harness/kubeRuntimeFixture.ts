/**
 * The Kubernetes runtime's test bed: a real kube-apiserver, the real router process outside a
 * Pod behind the stand-ins of a cluster (kubeRouterStandIn.ts), a deployment
 * controller stand-in, and KubeRuntimes on one context and namespace, as any kubeconfig's user.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../src/kube';
import { KubeRuntime, type KubeRuntimeOptions } from '../../src/runtime/kubeRuntime';
import { startKubeApiServer, type KubeApiServer } from './kubeApiServer';
import { fakeDeploymentController } from './kubeFakeController';
import { kubeRouterStandIn, type KubeRouterStandIn } from './kubeRouterStandIn';
import { ROUTER_BUNDLE, ensureRouterBuilt } from './router';
import { SAMPLE_MODELS } from './tools';

export interface KubeRuntimeFixture {
  server: KubeApiServer;
  kc: KubeConfig;
  tmp: string;
  cluster: KubeRouterStandIn;
  port: number;
  /** The runtime on the fixture's router, as the API server's admin, with short timeouts. */
  runtime: KubeRuntime;
  /** A runtime on the context and namespace as `kubeconfig`'s user; `extra` overrides. */
  runtimeAs(kubeconfig: KubeConfig, extra?: Partial<KubeRuntimeOptions>): KubeRuntime;
  stop(): Promise<void>;
}

export async function kubeRuntimeFixture(context: string, namespace: string): Promise<KubeRuntimeFixture> {
  ensureRouterBuilt();
  const server = await startKubeApiServer();
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mc-kuberuntime-'));
  await fs.promises.writeFile(path.join(tmp, 'kubeconfig'), server.kubeconfigFor(context), { mode: 0o600 });
  const kc = loadKubeConfig({ KUBECONFIG: path.join(tmp, 'kubeconfig') });
  // The stack names the stand-in's port and folders, so the router reads the API server directly.
  const cluster = await kubeRouterStandIn({
    kc,
    context,
    namespace,
    api: server,
    dir: tmp,
    paths: 'as-configured',
    kubeletDelayMs: 1_500,
  });
  const runtimeAs = (kubeconfig: KubeConfig, extra: Partial<KubeRuntimeOptions> = {}): KubeRuntime =>
    new KubeRuntime({
      workspace: SAMPLE_MODELS,
      context,
      kubeconfig,
      namespace,
      platform: 'remote',
      routerScript: ROUTER_BUNDLE,
      modelUriBase: 'https://models.example.com/sample-models',
      ...extra,
    });
  const runtime = runtimeAs(kc, {
    stack: { router: { port: cluster.port }, paths: cluster.paths },
    rolloutTimeoutMs: 20_000,
    routedTimeoutMs: 30_000,
    reloadEveryMs: 1_000,
  });
  const controller = fakeDeploymentController(kc, context, namespace);
  return {
    server,
    kc,
    tmp,
    cluster,
    port: cluster.port,
    runtime,
    runtimeAs,
    async stop() {
      await cluster.stop();
      await controller.stop();
      await server.stop();
      await fs.promises.rm(tmp, { recursive: true, force: true });
    },
  };
}
