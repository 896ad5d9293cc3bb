/**
 * The local environment's status: the router and each model server from the state file, alive
 * (their process) and ready (their health endpoint), with the event log's quarantined lines.
 */
import { dirname } from 'node:path';
import { RouterClient, fetchTransport } from '../shared/routerApi';
import { sizingUnsupportedReason } from './mlserverWorkers';
import type { ComponentStatus, EnvironmentStatus } from './runtime';
import { isAlive, type RuntimeState } from './state';

/** The component name of the router (model servers go by their model's name). */
export const ROUTER_COMPONENT = 'router';

/** The environment as `state` describes it, checked against the processes and their health endpoints. */
export async function processStatus(state: RuntimeState | undefined): Promise<EnvironmentStatus> {
  if (!state) return { runtime: 'process', up: false, components: [], experiments: [] };
  const components: ComponentStatus[] = [];
  const routerAlive = isAlive(state.router.pid);
  const routerReady = routerAlive && (await isReady(`${state.router.url}/v2/health/live`));
  const health = routerReady
    ? await new RouterClient(fetchTransport(state.router.url, fetch, 2_000))
        .eventLogHealth()
        .catch(() => undefined)
    : undefined;
  components.push({
    name: ROUTER_COMPONENT,
    kind: 'router',
    id: String(state.router.pid),
    url: state.router.url,
    state: routerReady ? 'ready' : routerAlive ? 'not-ready' : 'stopped',
    ...(health
      ? {
          detail: `${health.quarantined} event-log lines quarantined (${health.quarantineFile}) — run \`model-canary log check ${dirname(health.quarantineFile)}\``,
        }
      : {}),
    logFile: state.router.logFile,
  });
  for (const [name, s] of Object.entries(state.modelServers)) {
    const alive = isAlive(s.pid);
    const ready = alive && (await isReady(`${s.url}/v2/models/${encodeURIComponent(name)}/ready`));
    components.push({
      name,
      kind: 'model-server',
      id: String(s.pid),
      url: s.url,
      state: ready ? 'ready' : alive ? 'not-ready' : 'stopped',
      detail: alive
        ? workersDetail(s.workers, s.requestedWorkers)
        : `process ${s.pid} is gone — requests to its variants fail; see ${s.logFile}`,
      logFile: s.logFile,
    });
  }
  return {
    runtime: 'process',
    up: routerAlive,
    routerUrl: state.router.url,
    ...(state.router.grpcPort ? { routerGrpc: `127.0.0.1:${state.router.grpcPort}` } : {}),
    components,
    experiments: Object.entries(state.experiments).map(([name, e]) => ({ name, ...e })),
  };
}

/** How many MLServer processes serve a model, when that is worth saying (more than one, or fewer than asked). */
function workersDetail(workers = 1, requested?: number): string | undefined {
  if (requested !== undefined && requested > workers)
    return `${workers} MLServer process, not the ${requested} its traffic share asks for: ${sizingUnsupportedReason() ?? 'started before the sizing'} — its latency is compared at a higher load per process`;
  return workers > 1 ? `${workers} MLServer processes on one port, sized to its traffic share` : undefined;
}

/** Whether `url` answers 200 within 2 s. */
export async function isReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return res.status === 200;
  } catch {
    return false;
  }
}
