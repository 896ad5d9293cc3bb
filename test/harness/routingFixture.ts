/**
 * The router the routing suites share: a 90/10 sticky experiment on two fake V2 upstreams, an
 * always-failing one (`flaky`) and one whose port refuses connections (`nowhere`), with short
 * timeouts and a 64 KiB body limit.
 */
import { rm } from 'node:fs/promises';
import type { RouterConfigInput } from '../../src/core/spec/routerConfig';
import { routerDir, startRouter, writeRouterConfig, type RunningRouter } from './router';
import { Client } from './routerClient';
import { TOKEN } from './routerSuites';
import { startUpstream, type Upstream } from './upstream';

export interface RoutingFixture {
  v1: Upstream;
  v2: Upstream;
  flaky: Upstream;
  dir: string;
  router: RunningRouter;
  client: Client;
  config: RouterConfigInput;
  stop(): Promise<void>;
}

export async function startRoutingFixture(): Promise<RoutingFixture> {
  const [v1, v2, flaky] = await Promise.all([startUpstream(), startUpstream(), startUpstream()]);
  const dir = await routerDir();
  const config: RouterConfigInput = {
    adminToken: TOKEN,
    timeouts: { upstreamMs: 400, headersMs: 1_000, requestMs: 2_000 },
    limits: { maxBodyBytes: 64 * 1024 },
    experiments: [
      {
        name: 'propensity',
        endpoint: 'propensity',
        variants: [
          { name: 'v1', url: v1.url, model: 'propensity-v1', weight: 90, role: 'baseline' },
          { name: 'v2', url: v2.url, model: 'propensity-v2', weight: 10 },
        ],
        sticky: { header: 'x-user-id' },
      },
      {
        name: 'flaky',
        endpoint: 'flaky',
        variants: [{ name: 'f1', url: flaky.url, model: 'flaky-model', weight: 1 }],
      },
      {
        name: 'nowhere',
        endpoint: 'nowhere',
        // A port nothing listens on: the connection is refused.
        variants: [{ name: 'n1', url: 'http://127.0.0.1:9', model: 'm', weight: 1 }],
      },
    ],
  };
  const router = await startRouter(await writeRouterConfig(dir, config));
  const client = new Client(router.url);
  return {
    v1,
    v2,
    flaky,
    dir,
    router,
    client,
    config,
    async stop() {
      await client.close();
      await router.stop();
      await Promise.all([v1, v2, flaky].map((u) => u.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
