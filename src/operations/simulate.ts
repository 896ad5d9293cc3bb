/**
 * `simulate` / Simulate Traffic: replays the experiment's traffic file through the router, with
 * sticky users, feedback from the outcome model and optional drift. A remote cluster's router is
 * reached through a port-forward for the length of the run (Runtime.connect).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Experiment } from '../core/spec/experiment';
import type { OperationOptions, Runtime } from '../runtime/runtime';
import { defaultTrafficFile, loadDataset } from '../simulator/dataset';
import { parseDriftSpec, type DriftSpec } from '../simulator/driftInjection';
import { grpcSender } from '../simulator/send';
import { DEFAULT_CONCURRENCY, simulate, type SimulationSummary } from '../simulator/simulator';
import { RouterClient, fetchTransport } from '../shared/routerApi';
import { usageError } from './errors';

export const DEFAULT_SIMULATION = { requests: 2000, rps: 200 } as const;
/** How long after its answer the simulator posts a request's label, when the experiment scores a model. */
export const DEFAULT_LABEL_DELAY_MS = 2000;

export interface SimulateInput {
  experiment: Experiment;
  requests?: number;
  rps?: number;
  /** `FEATURE=shift:+N | scale:F | mix:a=0.7,b=0.3` */
  drift?: string[];
  /** Fraction of the run after which drift starts (default halfway). */
  driftFrom?: number;
  /** A CSV with the model's feature columns (default: the experiment's traffic file). */
  dataFile?: string;
  /** Row to start at (a run continuing an earlier one). */
  startRow?: number;
  /** The longest delay of a feedback (ms): each waits uniformly up to it (default 0: at once). */
  feedbackDelayMs?: number;
  /** Labels arrive this long after the answer (default DEFAULT_LABEL_DELAY_MS). */
  labelDelayMs?: number;
  /** Where to send requests when the runtime cannot connect by itself (default: its endpoint). */
  routerUrl?: string;
  /** `http` (default) or `grpc`: the router's gRPC front (feedback still goes over HTTP). */
  protocol?: 'http' | 'grpc';
  /** Requests in flight at most (default the simulator's DEFAULT_CONCURRENCY). */
  concurrency?: number;
}

export interface SimulateProgress {
  onRequests?: (done: number, total: number) => void;
}

/** Drift specs as the simulator takes them; a usage error names the bad one. */
export function parseDriftOptions(specs: readonly string[]): DriftSpec[] {
  return specs.map((d) => {
    try {
      return parseDriftSpec(d);
    } catch (err) {
      throw usageError(`drift "${d}": ${(err as Error).message}`);
    }
  });
}

/** Requests the experiment's current run has served (0 when the report cannot be read). */
async function servedInRun(runtime: Runtime, experiment: string, signal?: AbortSignal): Promise<number> {
  const report = await runtime.report(experiment, { signal }).catch(() => undefined);
  return report?.variants.reduce((n, v) => n + v.requests, 0) ?? 0;
}

/** True when a router answers at `url` (a port-forward the user started, before thousands of requests go there). */
export function routerAnswersAt(url: string): Promise<boolean> {
  return new RouterClient(fetchTransport(url, fetch, 3_000)).live();
}

export async function simulateTraffic(
  runtime: Runtime,
  input: SimulateInput,
  options: OperationOptions & SimulateProgress = {},
): Promise<SimulationSummary> {
  const experiment = input.experiment;
  const dataFile = resolve(input.dataFile ?? defaultTrafficFile(experiment));
  if (!existsSync(dataFile))
    throw usageError(
      `the traffic file ${dataFile} does not exist — pass a CSV with the model's feature columns (--data FILE)`,
    );
  const requests = input.requests ?? DEFAULT_SIMULATION.requests;
  const rps = input.rps ?? DEFAULT_SIMULATION.rps;
  if (!(requests > 0) || !(rps > 0) || !Number.isFinite(requests) || !Number.isFinite(rps))
    throw usageError('the number of requests and the rate must be positive numbers');
  if (input.concurrency !== undefined && !(Number.isInteger(input.concurrency) && input.concurrency >= 1))
    throw usageError(
      `concurrency must be a whole number of requests in flight, at least 1 (default ${DEFAULT_CONCURRENCY}), got ${input.concurrency}`,
    );
  if (input.driftFrom !== undefined && !(input.driftFrom >= 0 && input.driftFrom <= 1))
    throw usageError('drift-from must be a fraction between 0 and 1');
  if (input.feedbackDelayMs !== undefined && !(input.feedbackDelayMs >= 0))
    throw usageError('the feedback delay must be a duration like 500ms, 2s or 1m');
  const drift = parseDriftOptions(input.drift ?? []);
  const protocol = input.protocol ?? 'http';
  if (protocol !== 'http' && protocol !== 'grpc')
    throw usageError(`protocol must be http or grpc, got "${String(protocol)}"`);
  let grpcAddress: string | undefined;
  if (protocol === 'grpc') {
    grpcAddress = (await runtime.status()).routerGrpc;
    if (!grpcAddress)
      throw usageError(
        "this environment's router has no gRPC port on this machine — the local environment and kind have one (status shows it; a kind cluster created before gRPC was mapped needs `model-canary cluster delete` and `cluster create`); on a remote cluster simulate over HTTP",
      );
  }
  const data = await loadDataset(dataFile);
  if (runtime.connect && !input.routerUrl) options.onProgress?.('connecting to the router');
  const connection =
    runtime.connect && !input.routerUrl
      ? await runtime.connect({ signal: options.signal })
      : { url: input.routerUrl ?? (await runtime.endpoint()), close: async () => undefined };
  options.onProgress?.(
    `replaying ${dataFile} against ${grpcAddress ? `gRPC ${grpcAddress}` : connection.url}`,
  );
  const sender = grpcAddress ? await grpcSender(grpcAddress) : undefined;
  // Each simulation goes on where the run's traffic stopped: replaying the same sticky users again
  // would fill a variant's drift window with copies of the same few rows (a false drift alarm).
  const startRow = input.startRow ?? (await servedInRun(runtime, experiment.metadata.name, options.signal));
  if (startRow > 0)
    options.onProgress?.(`continuing at row ${startRow}: the run has served that many requests`);
  try {
    const ingestToken = await runtime.ingestToken?.();
    return await simulate({
      routerUrl: connection.url,
      ...(ingestToken ? { ingestToken } : {}),
      ...(sender ? { sender } : {}),
      experiment: experiment.metadata.name,
      endpoint: experiment.spec.endpoint,
      stickyHeader: experiment.spec.routing?.sticky?.header,
      metric: experiment.spec.metrics.primary.name,
      data,
      requests,
      rps,
      ...(input.concurrency ? { concurrency: input.concurrency } : {}),
      drift,
      driftFrom: input.driftFrom,
      startRow,
      feedbackDelayMs: input.feedbackDelayMs,
      ...(experiment.spec.metrics.model
        ? { labels: { delayMs: input.labelDelayMs ?? DEFAULT_LABEL_DELAY_MS } }
        : {}),
      signal: options.signal,
      onProgress: options.onRequests,
    });
  } finally {
    sender?.close();
    await connection.close();
  }
}
