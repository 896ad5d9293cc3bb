// What the serving-stack suites share: a real kube-apiserver with a kubeconfig file for context
// `local`, the built router bundle, and the sample workspace's propensity experiment as the
// input of buildStack (its models and its drift reference CSV).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { scanWorkspace } from '../../src/core/workspace/discover';
import { loadKubeConfig } from '../../src/kube';
import { modelRefs, type ExperimentInput } from '../../src/manifests';
import type { RouterBundle } from '../../src/manifests/stack';
import { readRouterBundle } from '../../src/runtime/routerBundle';
import { startKubeApiServer, type KubeApiServer } from './kubeApiServer';
import { ROUTER_BUNDLE, ensureRouterBuilt } from './router';
import { SAMPLE_MODELS } from './tools';

export const CONTEXT = 'local';

export interface ServingStackApi {
  server: KubeApiServer;
  kc: KubeConfig;
  /** A temp dir of the suite (it holds the kubeconfig file). */
  tmp: string;
  input: ExperimentInput;
  /** The router bundle and the dashboard's assets, as the stack's bundle ConfigMap carries them. */
  bundle: RouterBundle;
  stop(): Promise<void>;
}

/** Builds the router if needed, starts the API server and reads the sample experiment. */
export async function startServingStackApi(): Promise<ServingStackApi> {
  ensureRouterBuilt();
  const bundle = await readRouterBundle(ROUTER_BUNDLE);
  const server = await startKubeApiServer();
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mc-kubestack-'));
  const stop = async (): Promise<void> => {
    await server.stop();
    await fs.promises.rm(tmp, { recursive: true, force: true });
  };
  try {
    const file = path.join(tmp, 'kubeconfig.yaml');
    await fs.promises.writeFile(file, server.kubeconfigFor(CONTEXT), { mode: 0o600 });
    const kc = loadKubeConfig({ KUBECONFIG: file });
    const scan = await scanWorkspace(SAMPLE_MODELS);
    const experiment = scan.experiments.find((e) => e.name === 'propensity')!.experiment!;
    const models = modelRefs(scan.root, scan.models);
    const referenceCsv = await fs.promises.readFile(path.join(SAMPLE_MODELS, 'data/reference.csv'), 'utf8');
    return { server, kc, tmp, input: { experiment, models, referenceCsv }, bundle, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
