/**
 * Mirroring to the shadow variant. A mirror starts only after the client has its answer, so a
 * slow or failing shadow can never delay or fail a client; calls in flight are bounded per
 * experiment, and a mirror that finds the bound reached is dropped and counted, never queued.
 * The shadow's latency and output are recorded as a request event with `shadow: true` under
 * the primary's request id; the report matches the two to score agreement.
 */
import type { RequestEvent } from '../shared/events';
import type { ExperimentRuntime } from './config';
import { PREDICT, PREDICT_PROBA, firstRowOutputs, withOutputs } from './features';
import type { RouterMetrics } from './metrics';
import { UpstreamError, type Upstreams } from './proxy';
import type { V2InferRequest } from './v2';

export class ShadowMirror {
  private readonly inFlight = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly upstreams: Upstreams,
    private readonly metrics: RouterMetrics,
    private readonly record: (event: RequestEvent) => void,
  ) {}

  /** Mirrors one answered request (fire and forget). */
  mirror(exp: ExperimentRuntime, id: string, request: V2InferRequest, body: Buffer): void {
    const shadow = exp.mirror;
    if (!shadow) return;
    const busy = this.inFlight.get(exp.name) ?? 0;
    if (busy >= shadow.maxInFlight) {
      this.metrics.shadowDrop(exp.name);
      return;
    }
    this.inFlight.set(exp.name, busy + 1);
    const call = this.call(exp, id, request, body).finally(() => {
      this.inFlight.set(exp.name, (this.inFlight.get(exp.name) ?? 1) - 1);
      this.pending.delete(call);
    });
    this.pending.add(call);
  }

  private async call(
    exp: ExperimentRuntime,
    id: string,
    request: V2InferRequest,
    body: Buffer,
  ): Promise<void> {
    const shadow = exp.mirror!;
    const ts = Date.now();
    const started = performance.now();
    const headers = { 'x-request-id': id };
    // The shadow's answer goes nowhere, so it can always be asked for both the class and the score.
    const augment = shadow.augmentable && request.outputs === undefined;
    const event: RequestEvent = {
      type: 'request',
      id,
      ts,
      experiment: exp.name,
      variant: shadow.variant,
      latencyMs: 0,
      status: 0,
      shadow: true,
      assignment: 'shadow',
    };
    try {
      let res = await this.upstreams.call(
        shadow.target,
        'POST',
        '/infer',
        augment ? withOutputs(body, [PREDICT, PREDICT_PROBA]) : body,
        headers,
      );
      if (augment && res.status >= 400 && res.status < 500) {
        res = await this.upstreams.call(shadow.target, 'POST', '/infer', body, headers);
        if (res.status < 400) shadow.augmentable = false;
      }
      event.status = res.status;
      if (res.status === 200) {
        try {
          const outputs = firstRowOutputs(JSON.parse(res.body.toString('utf8')));
          if (outputs.predict !== undefined || outputs.proba !== undefined) event.outputs = outputs;
        } catch {
          event.error = 'the shadow answered 200 with a body that is not JSON';
        }
      } else if (res.status >= 500) {
        event.error = `the shadow answered ${res.status}`;
      }
    } catch (err) {
      event.status = err instanceof UpstreamError ? err.status : 502;
      event.error = (err as Error).message;
    }
    event.latencyMs = round3(performance.now() - started);
    this.metrics.shadow(
      exp.name,
      shadow.variant,
      event.latencyMs / 1000,
      event.error === undefined && event.status < 500,
    );
    this.record(event);
  }

  /** Waits for mirrors in flight (bounded by the caller's deadline). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
