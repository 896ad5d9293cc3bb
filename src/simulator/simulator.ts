/**
 * Replays a dataset through the router as V2 requests at a target rate (open loop, with a
 * concurrency cap), one sticky user per row, and sends feedback from the outcome model, at once
 * or after a random delay (real conversions come later than the request; attribution windows,
 * src/core/analysis/attribution.ts, are there for that).
 */
import type { ReferenceData } from '../core/drift';
import { converts, DEFAULT_OUTCOME, type OutcomeModel } from './outcome';
import { applyDrift, type DriftSpec } from './driftInjection';
import { DelayedLabels } from './labels';
import { seededRandom } from '../core/stats/random';
import { INGEST_TOKEN_ENV, RouterApiError, RouterClient, fetchTransport } from '../shared/routerApi';
import { httpSender, type Sender, type V2Request } from './send';

export interface SimulationOptions {
  routerUrl: string;
  /** The ingest token feedback and labels carry (MODEL_CANARY_INGEST_TOKEN wins). */
  ingestToken?: string;
  /** How requests are sent (default: JSON over HTTP to `routerUrl`; `grpcSender` for gRPC). */
  sender?: Sender;
  experiment: string;
  endpoint: string;
  /** The sticky header (`routing.sticky.header`); the row's user id goes there. */
  stickyHeader?: string;
  data: ReferenceData;
  /** Feature columns sent to the model, in order (default: every column but the id and label). */
  features?: string[];
  idColumn?: string;
  labelColumn?: string;
  metric: string;
  requests: number;
  rps: number;
  /** Requests in flight at most (default DEFAULT_CONCURRENCY). */
  concurrency?: number;
  outcome?: OutcomeModel;
  drift?: DriftSpec[];
  /** Fraction of the run after which drift starts (default 0.5: halfway). */
  driftFrom?: number;
  seed?: number;
  /** Row to start at (a run continuing an earlier one starts where it stopped). */
  startRow?: number;
  /** Feedback is posted in batches of this size, or every 250 ms, whichever comes first. */
  feedbackBatch?: number;
  /** Each feedback waits a delay drawn uniformly from [0, this] ms before it is queued (default 0). */
  feedbackDelayMs?: number;
  /** Post each answered request's label (the label column) this long after its answer (./labels.ts). */
  labels?: { delayMs: number };
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface VariantTally {
  requests: number;
  errors: number;
  offered: number;
  converted: number;
}

export interface SimulationSummary {
  sent: number;
  ok: number;
  errors: number;
  feedbackSent: number;
  feedbackFailed: number;
  /** Labels posted and refused (with `labels`). */
  labelsSent?: number;
  labelsFailed?: number;
  durationMs: number;
  achievedRps: number;
  byVariant: Record<string, VariantTally>;
  driftFrom?: number;
  /** The dataset row the run started at (its users are new to the experiment from there on). */
  startRow?: number;
  firstError?: string;
}

/**
 * Requests in flight at most, by default. One MLServer process answers the sample model in
 * about 6 ms and sustains about 150 req/s on a laptop core (bench/mlserverAlone.ts); more
 * requests in flight than it has processes only queue, and the queue is what a latency
 * guardrail then measures. 32 in flight made a single process's p95 grow past 250 ms; 4 leaves
 * each arm's processes mostly one request at a time, and still reaches 400+ req/s at 10 ms.
 */
export const DEFAULT_CONCURRENCY = 4;

/** A summary of no requests yet (runs add up into one). */
export function emptySummary(): SimulationSummary {
  return {
    sent: 0,
    ok: 0,
    errors: 0,
    feedbackSent: 0,
    feedbackFailed: 0,
    durationMs: 0,
    achievedRps: 0,
    byVariant: {},
  };
}

/** Runs the simulation; resolves with a summary (also when aborted, with what was done). */
export async function simulate(opts: SimulationOptions): Promise<SimulationSummary> {
  const random = seededRandom(opts.seed ?? 42);
  // Its own stream, so runs without a delay draw the same numbers as before delays existed.
  const delays = seededRandom((opts.seed ?? 42) ^ 0x5eed);
  const maxDelay = Math.max(0, opts.feedbackDelayMs ?? 0);
  const delayed = new Set<Promise<void>>();
  const idColumn = opts.idColumn ?? 'user_id';
  const labelColumn = opts.labelColumn ?? 'converted';
  const features = opts.features ?? opts.data.columns.filter((c) => c !== idColumn && c !== labelColumn);
  const types = columnTypes(opts.data, features);
  const outcome = opts.outcome ?? DEFAULT_OUTCOME;
  const driftAt = opts.drift?.length ? Math.floor(opts.requests * (opts.driftFrom ?? 0.5)) : undefined;
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  const interval = 1000 / Math.max(0.1, opts.rps);
  const summary: SimulationSummary = {
    ...emptySummary(),
    driftFrom: driftAt,
    ...(opts.startRow ? { startRow: opts.startRow } : {}),
  };
  const pending: { requestId: string; metric: string; value: number }[] = [];
  const feedbackBatch = opts.feedbackBatch ?? 100;
  const inflight = new Set<Promise<void>>();
  const feedbackInflight = new Set<Promise<void>>();
  const started = Date.now();
  let done = 0;

  const router = new RouterClient(
    fetchTransport(opts.routerUrl, fetch),
    async () => undefined,
    async () => process.env[INGEST_TOKEN_ENV] ?? opts.ingestToken,
  );
  const labels = opts.labels && new DelayedLabels(router, opts.experiment, opts.labels.delayMs);
  const sender = opts.sender ?? httpSender(opts.routerUrl);
  const flushFeedback = (): void => {
    if (pending.length === 0) return;
    const batch = pending.splice(0, pending.length);
    const p = router
      .feedback(opts.experiment, batch)
      .then(() => {
        summary.feedbackSent += batch.length;
      })
      .catch((err: unknown) => {
        summary.feedbackFailed += batch.length;
        summary.firstError ??=
          err instanceof RouterApiError
            ? `feedback ${err.status}: ${err.message}`
            : `feedback: ${(err as Error).message}`;
      })
      .finally(() => feedbackInflight.delete(p));
    feedbackInflight.add(p);
  };

  const one = async (i: number): Promise<void> => {
    const n = i + (opts.startRow ?? 0);
    let row = opts.data.rows[n % opts.data.rows.length]!;
    if (driftAt !== undefined && i >= driftAt) for (const d of opts.drift!) row = applyDrift(row, d, random);
    const u = random(); // drawn in order, before any await, so runs are reproducible
    const delay = maxDelay > 0 ? delays() * maxDelay : 0;
    const headers: Record<string, string> = {};
    // A second pass over the dataset stands for new customers who look like the first ones:
    // each pass gets its own user ids, so sticky routing does not send the same few rows to
    // a small canary again and again (which would also fake drift in its window).
    const pass = Math.floor(n / opts.data.rows.length);
    const user = row[idColumn];
    if (opts.stickyHeader && user !== undefined)
      headers[opts.stickyHeader] = pass === 0 ? String(user) : `${String(user)}.${pass}`;
    try {
      const res = await sender.send(opts.endpoint, headers, v2Request(row, features, types));
      const variant = res.variant ?? 'unknown';
      const tally = (summary.byVariant[variant] ??= { requests: 0, errors: 0, offered: 0, converted: 0 });
      tally.requests++;
      if (!res.ok) {
        tally.errors++;
        summary.errors++;
        summary.firstError ??= res.error;
        return;
      }
      const score = positiveScore(res.outputs);
      const requestId = res.requestId;
      if (score === undefined || !requestId) {
        summary.errors++;
        summary.firstError ??= 'the response had no predict_proba output or no x-request-id';
        return;
      }
      summary.ok++;
      const label = row[labelColumn];
      const result = converts(outcome, score, typeof label === 'number' ? label : Number(label), () => u);
      if (result.offered) tally.offered++;
      if (result.converted) tally.converted++;
      const send = (): void => {
        pending.push({ requestId, metric: opts.metric, value: result.converted ? 1 : 0 });
        if (pending.length >= feedbackBatch) flushFeedback();
      };
      if (delay <= 0) send();
      else {
        const later = sleep(delay).then(send);
        delayed.add(later);
        void later.finally(() => delayed.delete(later));
      }
      if (labels && label !== undefined) labels.add(requestId, label);
    } catch (err) {
      summary.errors++;
      summary.firstError ??= `infer: ${(err as Error).message}`;
    } finally {
      done++;
      opts.onProgress?.(done, opts.requests);
    }
  };

  // A slow run would otherwise hold feedback until a batch fills, long after the conversion:
  // under an attribution window that makes it late.
  const flusher = setInterval(flushFeedback, 250);
  for (let i = 0; i < opts.requests; i++) {
    if (opts.signal?.aborted) break;
    const due = started + i * interval;
    const wait = due - Date.now();
    if (wait > 1) await sleep(wait);
    while (inflight.size >= concurrency) await Promise.race(inflight);
    summary.sent++;
    const p = one(i).finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await Promise.all(inflight);
  await Promise.all(delayed);
  clearInterval(flusher);
  flushFeedback();
  await Promise.all(feedbackInflight);
  if (labels) {
    const tally = await labels.drain(opts.signal);
    summary.labelsSent = tally.sent;
    summary.labelsFailed = tally.failed;
    summary.firstError ??= tally.firstError;
  }
  summary.durationMs = Date.now() - started;
  summary.achievedRps = summary.sent / Math.max(0.001, summary.durationMs / 1000);
  return summary;
}

type ColumnType = 'INT64' | 'FP64' | 'BYTES';

function columnTypes(data: ReferenceData, features: string[]): Record<string, ColumnType> {
  const types: Record<string, ColumnType> = {};
  for (const f of features) {
    let type: ColumnType = 'INT64';
    for (const row of data.rows) {
      const v = row[f];
      if (typeof v === 'string') {
        type = 'BYTES';
        break;
      }
      if (typeof v === 'number' && !Number.isInteger(v)) type = 'FP64';
    }
    types[f] = type;
  }
  return types;
}

/** One row as an Open Inference Protocol V2 request: one input per column (MLServer's pandas codec). */
export function v2Request(
  row: Record<string, string | number>,
  features: string[],
  types: Record<string, ColumnType>,
): V2Request {
  return {
    parameters: { content_type: 'pd' },
    inputs: features.map((name) => ({
      name,
      shape: [1],
      datatype: types[name] ?? 'FP64',
      data: [row[name] ?? (types[name] === 'BYTES' ? '' : 0)],
    })),
    outputs: [{ name: 'predict_proba' }],
  };
}

// predict_proba of one row is [p0, p1]: the positive class is the last column.
function positiveScore(
  outputs: { name: string; data: number[]; shape?: number[] }[] | undefined,
): number | undefined {
  const proba = outputs?.find((o) => o.name === 'predict_proba');
  if (!proba || proba.data.length === 0) return undefined;
  const cols = proba.shape?.[1] ?? proba.data.length;
  return proba.data[cols - 1];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
