/**
 * The router config of the local environment: the router on loopback (HTTP, and gRPC when the
 * environment picked a gRPC port), each variant at its MLServer process's HTTP and gRPC ports.
 */
import { dirname, join, relative } from 'node:path';
import type { Experiment } from '../core/spec/experiment';
import type { RouterConfigInput } from '../core/spec/routerConfig';
import { routerDetectors } from './detectorServers';
import { RuntimeError } from './runtime';
import { stateDir, type RuntimeState } from './state';

/** The local environment's alert secrets file, in the workspace's `.model-canary/`. */
export const LOCAL_ALERT_SECRETS = 'alerts.yaml';

/** The config for `state`'s router serving `experiments`; paths relative to the config's folder. */
export function localRouterConfig(
  state: RuntimeState,
  experiments: readonly Experiment[],
): RouterConfigInput {
  const configDir = dirname(state.router.configFile);
  const url = new URL(state.router.url);
  const server = (model: string): RuntimeState['modelServers'][string] => {
    const found = state.modelServers[model];
    if (!found) throw new RuntimeError(`no model server for ${model}`);
    return found;
  };
  return {
    listen: `127.0.0.1:${url.port}`,
    ...(state.router.grpcPort ? { grpcListen: `127.0.0.1:${state.router.grpcPort}` } : {}),
    dataDir: relative(configDir, state.router.dataDir),
    adminTokenFile: relative(configDir, state.router.tokenFile),
    // The environment's alert webhooks (docs/alerts.md): the user's file, never generated.
    alerts: {
      secretsFile: relative(configDir, join(stateDir(state.workspace), LOCAL_ALERT_SECRETS)),
      externalURL: state.router.url,
    },
    experiments: experiments.map((exp) => ({
      name: exp.metadata.name,
      endpoint: exp.spec.endpoint,
      experimentFile: relative(configDir, exp.file),
      variants: exp.spec.variants.map((v) => {
        const s = server(v.model);
        return {
          name: v.name,
          url: s.url,
          ...(s.ports.grpc ? { grpc: `127.0.0.1:${s.ports.grpc}` } : {}),
          model: v.model,
          weight: v.weight,
          role: v.role,
          // A graph: every step at its own model server (the router calls them over HTTP).
          ...(v.graph
            ? {
                graph: {
                  ...v.graph,
                  steps: v.graph.steps.map((st) => ({ ...st, url: server(st.name).url })),
                },
              }
            : {}),
        };
      }),
      ...(routerDetectors(state, exp).length ? { detectors: routerDetectors(state, exp) } : {}),
      ...(exp.spec.routing?.sticky ? { sticky: exp.spec.routing.sticky } : {}),
      ...(exp.spec.routing?.mirror
        ? {
            mirror: {
              variant: exp.spec.routing.mirror.variant,
              url: server(exp.spec.routing.mirror.model).url,
              model: exp.spec.routing.mirror.model,
              percent: exp.spec.routing.mirror.percent,
            },
          }
        : {}),
    })),
  };
}
