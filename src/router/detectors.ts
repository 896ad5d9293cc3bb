/**
 * Feeds bring-your-own Alibi Detect detectors (docs/drift.md#bring-your-own-detectors): the
 * features the router records for drift, per variant, in batches of `batchSize` requests, sent
 * to the detector's V2 server (MLServer's Alibi Detect runtime) off the request path. Each answer
 * (or failure) becomes a `detector` event in the log, which the report folds beside the built-in
 * drift tests; a replay therefore restores the verdicts without asking the detector again.
 *
 * One batch per detector × variant is in flight at a time. A batch that fills while the previous
 * one is still being judged is dropped and counted: a slow detector judges a sample of the
 * batches, and never holds memory or requests back.
 */
import type { DetectorSpec } from '../core/spec/detectorSpec';
import type { DetectorEvent, DetectorResult } from '../shared/detectors';
import type { RequestEvent } from '../shared/events';
import type { ExperimentRuntime } from './config';

/** Where a detector is served: a V2 server and the model name it has there. */
export interface DetectorServer {
  readonly name: string;
  readonly url: string;
  readonly model: string;
}

interface Feed {
  readonly spec: DetectorSpec;
  readonly server: DetectorServer | undefined;
  readonly variants: Map<string, Batch>;
}

interface Batch {
  run: string | undefined;
  rows: number[][];
  from: number;
  to: number;
  inFlight: boolean;
}

export interface DetectorFeedOptions {
  /** How long a detector may take to judge one batch. */
  timeoutMs?: number;
  warn?: (message: string) => void;
}

export class DetectorFeeds {
  private byExperiment = new Map<string, Feed[]>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  /** Batches dropped because the previous one of the same detector × variant was still being judged. */
  dropped = 0;
  /** The last error warned about per detector × variant, so a detector that stays down is one line in the log. */
  private readonly warned = new Map<string, string>();

  constructor(
    private readonly record: (event: DetectorEvent) => void,
    private readonly options: DetectorFeedOptions = {},
  ) {}

  /** Takes the detectors of (re)loaded experiments; a detector whose spec and server are unchanged keeps its partial batches. */
  configure(experiments: readonly ExperimentRuntime[]): void {
    const next = new Map<string, Feed[]>();
    for (const exp of experiments) {
      const specs = exp.experiment.spec.drift?.detectors ?? [];
      if (specs.length === 0) continue;
      const old = this.byExperiment.get(exp.name) ?? [];
      next.set(
        exp.name,
        specs.map((spec) => {
          const server = exp.detectorServers.find((s) => s.name === spec.name);
          const kept = old.find((f) => JSON.stringify([f.spec, f.server]) === JSON.stringify([spec, server]));
          return kept ?? { spec, server, variants: new Map() };
        }),
      );
    }
    this.byExperiment = next;
  }

  /** One recorded request: its features join its variant's batch of each detector. */
  observe(event: RequestEvent): void {
    if (event.shadow || !event.inputs) return;
    if (event.assignment !== undefined && event.assignment !== 'weighted' && event.assignment !== 'sticky')
      return;
    const feeds = this.byExperiment.get(event.experiment);
    if (!feeds) return;
    for (const feed of feeds) {
      const row = rowOf(event.inputs, feed.spec.features);
      if (!row) continue;
      let batch = feed.variants.get(event.variant);
      if (!batch || batch.run !== event.run) {
        // A new run starts afresh; a verdict still coming for the old run's batch is not recorded.
        batch = { run: event.run, rows: [], from: event.ts, to: event.ts, inFlight: false };
        feed.variants.set(event.variant, batch);
      }
      if (batch.rows.length === 0) batch.from = event.ts;
      batch.rows.push(row);
      batch.to = event.ts;
      if (batch.rows.length < feed.spec.batchSize) continue;
      const rows = batch.rows;
      batch.rows = [];
      if (batch.inFlight) {
        this.dropped++;
        continue;
      }
      this.send(event.experiment, event.variant, feed, batch, rows, batch.from, event.ts);
    }
  }

  private send(
    experiment: string,
    variant: string,
    feed: Feed,
    batch: Batch,
    rows: number[][],
    from: number,
    to: number,
  ): void {
    batch.inFlight = true;
    const base = {
      type: 'detector',
      experiment,
      detector: feed.spec.name,
      variant,
      rows: rows.length,
      from,
      to,
    };
    const run = batch.run !== undefined ? { run: batch.run } : {};
    const task = judge(feed, rows, this.options.timeoutMs ?? 30_000, this.stopping.signal)
      .then(
        (result): DetectorEvent => ({ ...base, type: 'detector', ts: Date.now(), ...run, result }),
        (err: Error): DetectorEvent => ({
          ...base,
          type: 'detector',
          ts: Date.now(),
          ...run,
          error: err.message,
        }),
      )
      .then((event) => {
        batch.inFlight = false;
        if (this.stopping.signal.aborted || feed.variants.get(variant) !== batch) return;
        const key = `${experiment}/${feed.spec.name}/${variant}`;
        if (event.error !== undefined && this.warned.get(key) !== event.error)
          this.options.warn?.(`detector ${feed.spec.name} of ${experiment} (${variant}): ${event.error}`);
        if (event.error !== undefined) this.warned.set(key, event.error);
        else this.warned.delete(key);
        this.record(event);
      });
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  /** Stops sending and waits for the batches in flight to settle (their verdicts are not recorded). */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.inFlight]);
  }
}

/** The detector's columns from a request's recorded features, or undefined when one is not a number. */
function rowOf(inputs: Record<string, number | string>, features: readonly string[]): number[] | undefined {
  const row: number[] = [];
  for (const name of features) {
    const raw = inputs[name];
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() ? Number(raw) : NaN;
    if (!Number.isFinite(value)) return undefined;
    row.push(value);
  }
  return row;
}

interface V2Output {
  name?: unknown;
  data?: unknown;
}

/** Sends one batch as a single FP64 tensor [rows, features] and reads Alibi Detect's answer. */
async function judge(
  feed: Feed,
  rows: number[][],
  timeoutMs: number,
  stopping: AbortSignal,
): Promise<DetectorResult> {
  const server = feed.server;
  if (!server)
    throw new Error(
      'no server runs this detector — the local environment starts it on deploy; the Kubernetes stack does not yet',
    );
  const width = feed.spec.features.length;
  const body = {
    inputs: [{ name: 'x', shape: [rows.length, width], datatype: 'FP64', data: rows.flat() }],
  };
  const url = `${server.url.replace(/\/$/, '')}/v2/models/${encodeURIComponent(server.model)}/infer`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.any([stopping, AbortSignal.timeout(timeoutMs)]),
  }).catch((err: Error) => {
    throw new Error(
      err.name === 'TimeoutError'
        ? `no answer from ${url} within ${Math.round(timeoutMs / 1000)} s`
        : `cannot reach ${url}: ${(err.cause as Error | undefined)?.message ?? err.message}`,
    );
  });
  const text = await res.text();
  if (!res.ok) {
    let detail = text.slice(0, 300);
    try {
      detail = String((JSON.parse(text) as { error?: unknown }).error ?? detail);
    } catch {
      // not JSON: the text as it is
    }
    throw new Error(`${url} answered ${res.status}: ${detail}`);
  }
  const result = parseDetectorAnswer(JSON.parse(text) as unknown, feed.spec.kind);
  // MLServer moves the runtime's `parameters.headers` into the HTTP answer's headers.
  const method = res.headers.get('x-seldon-alibi-method');
  return method && !result.method ? { method, ...result } : result;
}

/** Alibi Detect's outputs (through MLServer's runtime) as a DetectorResult. */
export function parseDetectorAnswer(answer: unknown, kind: 'drift' | 'outlier'): DetectorResult {
  const a = answer as { outputs?: unknown; parameters?: { headers?: Record<string, unknown> } } | null;
  const outputs = Array.isArray(a?.outputs) ? (a.outputs as V2Output[]) : [];
  const numbers = (name: string): number[] | undefined => {
    const o = outputs.find((x) => x.name === name);
    if (!o || !Array.isArray(o.data)) return undefined;
    const flat = (o.data as unknown[]).flat(Infinity).filter((x): x is number => typeof x === 'number');
    return flat.length > 0 ? flat : undefined;
  };
  const result: DetectorResult = {};
  const method = a?.parameters?.headers?.['x-seldon-alibi-method'];
  if (typeof method === 'string') result.method = method;
  if (kind === 'drift') {
    const isDrift = numbers('is_drift');
    if (!isDrift) throw new Error('the detector answered without is_drift — is it a drift detector?');
    result.isDrift = isDrift.some((x) => x === 1) ? 1 : 0;
    const pValues = numbers('p_val');
    if (pValues) result.pValues = pValues;
    const distances = numbers('distance');
    if (distances) result.distances = distances;
    const threshold = numbers('threshold');
    if (threshold) result.threshold = threshold[0];
    return result;
  }
  const isOutlier = numbers('is_outlier');
  if (!isOutlier) throw new Error('the detector answered without is_outlier — is it an outlier detector?');
  result.outliers = isOutlier.filter((x) => x === 1).length;
  const scores = numbers('instance_score');
  if (scores) {
    result.maxScore = Math.max(...scores);
    result.meanScore = scores.reduce((s, x) => s + x, 0) / scores.length;
  }
  return result;
}
