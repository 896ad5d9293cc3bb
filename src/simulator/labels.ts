/**
 * Delayed ground truth for the simulation: each answered request's true label (the dataset's
 * label column) is posted to the router's labels endpoint `delayMs` after the answer, in
 * batches — ground truth arrives later than the prediction, as it does in production.
 */
import { RouterApiError, type LabelEntry, type RouterClient } from '../shared/routerApi';

export interface LabelTally {
  sent: number;
  failed: number;
  firstError?: string;
}

export class DelayedLabels {
  private readonly queue: { due: number; entry: LabelEntry }[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  readonly tally: LabelTally = { sent: 0, failed: 0 };

  constructor(
    private readonly router: RouterClient,
    private readonly experiment: string,
    private readonly delayMs: number,
    private readonly batch = 100,
  ) {}

  /** Schedules a request's label. */
  add(requestId: string, label: number | string): void {
    this.queue.push({ due: Date.now() + this.delayMs, entry: { requestId, label } });
    this.timer ??= setInterval(() => this.flush(false), Math.max(50, Math.min(1000, this.delayMs / 4)));
  }

  /** Posts the labels that are due (all of them with `all`). */
  private flush(all: boolean): void {
    const now = Date.now();
    let due = 0;
    while (due < this.queue.length && (all || this.queue[due]!.due <= now)) due++;
    for (let start = 0; start < due; start += this.batch) {
      const entries = this.queue.slice(start, Math.min(due, start + this.batch)).map((q) => q.entry);
      const p = this.router
        .labels(this.experiment, entries)
        .then(() => {
          this.tally.sent += entries.length;
        })
        .catch((err: unknown) => {
          this.tally.failed += entries.length;
          this.tally.firstError ??=
            err instanceof RouterApiError
              ? `labels ${err.status}: ${err.message}`
              : `labels: ${(err as Error).message}`;
        })
        .finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
    this.queue.splice(0, due);
  }

  /** Waits until the last label is due (or `signal` aborts), posts the rest and waits for every post. */
  async drain(signal?: AbortSignal): Promise<LabelTally> {
    const last = this.queue.at(-1)?.due ?? 0;
    const wait = last - Date.now();
    if (wait > 0 && !signal?.aborted)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    clearInterval(this.timer);
    this.timer = undefined;
    this.flush(true);
    await Promise.all(this.inflight);
    return this.tally;
  }
}
