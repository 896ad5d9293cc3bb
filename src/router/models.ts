/**
 * What the router says about an endpoint, over HTTP and gRPC alike: its metadata (the
 * baseline's own, under the endpoint's name, with the variants as versions) and its readiness
 * (ready when every variant that gets traffic answers ready, every step of a graph variant).
 */
import type { ExperimentRuntime } from './config';
import type { RouterCore } from './core';

/** The V2 metadata of an endpoint, as the HTTP front answers it. */
export async function endpointMetadata(
  core: RouterCore,
  exp: ExperimentRuntime,
): Promise<Record<string, unknown>> {
  const baseline = exp.variants[0]!;
  const answer = await core.upstreams.call(baseline.target, 'GET', '', undefined, {}).catch(() => undefined);
  let upstream: Record<string, unknown> = {};
  if (answer?.status === 200) {
    try {
      upstream = JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      upstream = {};
    }
  }
  return {
    ...upstream,
    name: exp.endpoint,
    platform: upstream.platform ?? 'model-canary',
    versions: exp.variants.map((v) => v.name),
    parameters: {
      experiment: exp.name,
      variants: exp.variants.map((v) => ({ name: v.name, model: v.model })),
    },
  };
}

/** Each variant with weight > 0 and whether it answers ready. */
export async function endpointReadiness(
  core: RouterCore,
  exp: ExperimentRuntime,
): Promise<{ ready: boolean; variants: { variant: string; ready: boolean }[] }> {
  const routed = exp.variants.filter((v) => (exp.weights[v.name] ?? 0) > 0);
  const variants = await Promise.all(
    routed.map(async (v) => {
      // A graph variant is ready when every step's model is.
      const targets = v.graph ? v.graph.steps.map((s) => s.target) : [v.target];
      const answers = await Promise.all(
        targets.map((t) => core.upstreams.call(t, 'GET', '/ready', undefined, {}).catch(() => undefined)),
      );
      return { variant: v.name, ready: answers.every((a) => a?.status === 200) };
    }),
  );
  return { ready: variants.every((s) => s.ready), variants };
}
