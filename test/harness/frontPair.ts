/**
 * Two real router processes on one fake upstream, alike but for `front`: `raw` (the default)
 * and `node`, for tests that the raw HTTP front answers as node:http does.
 */
import { rm } from 'node:fs/promises';
import type { RouterConfigInput } from '../../src/core/spec/routerConfig';
import { routerDir, startRouter, writeRouterConfig, type RunningRouter } from './router';
import { startUpstream, type Upstream } from './upstream';

export interface FrontPair {
  upstream: Upstream;
  raw: RunningRouter;
  node: RunningRouter;
  close(): Promise<void>;
}

/** The experiment `front`: variants a (all the weight) and b, sticky on x-user-id, a shadow. */
export async function startFrontPair(
  settings: Partial<RouterConfigInput> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<FrontPair> {
  const upstream = await startUpstream();
  const dirs: string[] = [];
  const start = async (front: 'raw' | 'node'): Promise<RunningRouter> => {
    const dir = await routerDir();
    dirs.push(dir);
    return startRouter(
      await writeRouterConfig(dir, {
        front,
        cors: { origins: ['https://app.example'] },
        ...settings,
        experiments: [
          {
            name: 'front',
            endpoint: 'front',
            variants: [
              { name: 'a', url: upstream.url, model: 'model-a', weight: 100 },
              { name: 'b', url: upstream.url, model: 'model-b', weight: 0 },
            ],
            sticky: { header: 'x-user-id' },
            mirror: { variant: 'c', url: upstream.url, model: 'shadow', percent: 100 },
          },
        ],
      }),
      { env },
    );
  };
  const [raw, node] = await Promise.all([start('raw'), start('node')]);
  return {
    upstream,
    raw,
    node,
    async close() {
      await Promise.all([raw.stop(), node.stop()]);
      await upstream.close();
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}
