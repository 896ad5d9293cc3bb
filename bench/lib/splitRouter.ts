/** The router of the HTTP benches: the sample endpoint split 95/5 between two models on one upstream. */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { startRouter, writeRouterConfig, type RunningRouter } from '../../test/harness/router';

/**
 * Starts a router in a new folder under `dir`; `sampleRate` 1 records every request for drift, 0
 * none. `config`: more of the router's config (e.g. `eventLog`); `nodeArgs`: flags for node; `script`: another build of the bundle.
 */
export async function startSplitRouter(
  dir: string,
  upstream: string,
  sampleRate: number,
  more: { config?: Record<string, unknown>; nodeArgs?: string[]; script?: string } = {},
): Promise<RunningRouter> {
  const sub = await mkdtemp(join(dir, 'router-'));
  return startRouter(
    await writeRouterConfig(sub, {
      ...more.config,
      experiments: [
        {
          name: 'propensity',
          endpoint: 'propensity',
          sampleRate,
          variants: [
            { name: 'v1', url: upstream, model: 'propensity-v1', weight: 95 },
            { name: 'v2', url: upstream, model: 'propensity-v2', weight: 5 },
          ],
        },
      ],
    }),
    {
      ...(more.nodeArgs ? { nodeArgs: more.nodeArgs } : {}),
      ...(more.script ? { script: more.script } : {}),
    },
  );
}
