/**
 * Which environment a command acts on, from its flags (kubectl's "Complete" step): local
 * processes (`--runtime process`, the default) or Kubernetes (`--runtime kube --context CTX`,
 * default the local kind cluster's context).
 */
import { DEFAULT_CLUSTER_NAME } from '../kind/cluster';
import { DEFAULT_ROUTER_PORT } from '../operations/cluster';
import { KubeRuntime } from '../runtime/kubeRuntime';
import { ProcessRuntime } from '../runtime/processRuntime';
import type { Runtime } from '../runtime/runtime';
import { UsageError, portFlag, workspaceOf, type CliContext } from './command';

const RUNTIME_USAGE = '[--workspace DIR] [--runtime process|kube --context CTX]';

/** Flags of every command that takes an environment. */
export const environmentOptions = {
  workspace: { type: 'string' as const, default: '.' },
  runtime: { type: 'string' as const, default: 'process' },
  context: { type: 'string' as const },
  namespace: { type: 'string' as const },
  'model-uri-base': { type: 'string' as const },
  'router-image': { type: 'string' as const },
  port: { type: 'string' as const },
};

/** The usage line's tail for those flags. */
export const environmentUsage = RUNTIME_USAGE;

export function localRuntime(ctx: CliContext, v: Record<string, unknown>): ProcessRuntime {
  return new ProcessRuntime({
    workspace: workspaceOf(v),
    routerScript: ctx.routerScript,
    cacheDir: ctx.cacheDir,
    python: v.python as string | undefined,
    routerPort: v.port === undefined ? DEFAULT_ROUTER_PORT : portFlag(v.port, '--port', true),
  });
}

export function kubeRuntime(ctx: CliContext, v: Record<string, unknown>): KubeRuntime {
  return new KubeRuntime({
    workspace: workspaceOf(v),
    context: (v.context as string | undefined) ?? `kind-${DEFAULT_CLUSTER_NAME}`,
    namespace: v.namespace as string | undefined,
    routerScript: ctx.routerScript,
    routerImage: v['router-image'] as string | undefined,
    modelUriBase: v['model-uri-base'] as string | undefined,
    hostPort: v.port === undefined ? DEFAULT_ROUTER_PORT : portFlag(v.port),
    purge: v.purge === true,
    ...(v['router-replicas'] === undefined
      ? {}
      : { stack: { router: { replicas: replicasFlag(v['router-replicas']) } } }),
  });
}

/** `--router-replicas N` of `up --runtime kube`: router replicas, each with its own event log. */
function replicasFlag(value: unknown): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 50)
    throw new UsageError(`--router-replicas must be a whole number from 1 to 50, got "${String(value)}"`);
  return n;
}

/** The Runtime the flags name. */
export function runtimeFromFlags(ctx: CliContext, v: Record<string, unknown>): Runtime {
  const kind = String(v.runtime ?? 'process');
  if (kind === 'process') {
    if (v['router-replicas'] !== undefined)
      throw new UsageError('--router-replicas is for --runtime kube: local processes run one router');
    return localRuntime(ctx, v);
  }
  if (kind === 'kube' || kind === 'kind' || kind === 'kubernetes') return kubeRuntime(ctx, v);
  throw new UsageError(`--runtime must be process or kube (kind), got "${kind}"`);
}

/** "local environment" or "Kubernetes environment", for messages. */
export function environmentWord(v: Record<string, unknown>): string {
  return String(v.runtime ?? 'process') === 'process' ? 'local environment' : 'Kubernetes environment';
}
