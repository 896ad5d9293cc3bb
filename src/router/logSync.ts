/**
 * The event log's fdatasync, beside its writes (eventLog.ts): one at a time, on the thread pool,
 * never in front of the next write(2). A caller that needs durability is resolved by an
 * fdatasync that started after its lines were written.
 */
import { fdatasync } from './fileSync';

export interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class LogSync {
  /** Written, and not covered yet by an fdatasync that has started. */
  private waiters: Waiter[] = [];
  private syncing: Promise<void> | undefined;
  private dirty = false;
  /** Batches written so far: the file stays dirty when one was written during its fdatasync. */
  private batches = 0;
  private lastSync = 0;
  /** Set by the log's interval timer: fsync what is dirty at the end of the next turn. */
  due = false;

  constructor(
    private readonly intervalMs: number,
    private readonly warn: ((message: string) => void) | undefined,
    /** Asks the log for another turn (waiters or a due fsync came in during an fdatasync). */
    private readonly again: () => void,
  ) {}

  /** The fdatasync under way, if any. */
  get busy(): Promise<void> | undefined {
    return this.syncing;
  }

  get isDirty(): boolean {
    return this.dirty;
  }

  /** A batch was written. */
  wrote(): void {
    this.dirty = true;
    this.batches++;
  }

  /** At the end of a turn: `waiters`' lines are written; starts an fdatasync of `fd` when one is wanted. */
  endOfTurn(fd: number, waiters: Waiter[]): void {
    for (const w of waiters) this.waiters.push(w);
    const due = performance.now() - this.lastSync >= this.intervalMs;
    if (this.dirty && (this.waiters.length > 0 || this.due || due)) this.start(fd);
    else if (!this.dirty && !this.syncing) {
      // Everything written is fsynced already.
      this.due = false;
      for (const w of this.waiters.splice(0)) w.resolve();
    }
  }

  /** Before a segment closes: after the fdatasync under way, fsyncs `fd()` and resolves every waiter. */
  async final(fd: () => number): Promise<void> {
    while (this.syncing) await this.syncing;
    const waiters = this.waiters.splice(0);
    try {
      await fdatasync(fd());
      this.dirty = false;
      this.lastSync = performance.now();
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  }

  private start(fd: number): void {
    if (this.syncing) return;
    const waiters = this.waiters;
    this.waiters = [];
    const batches = this.batches;
    this.due = false;
    this.syncing = fdatasync(fd)
      .then(
        () => {
          if (this.batches === batches) this.dirty = false;
          this.lastSync = performance.now();
          for (const w of waiters) w.resolve();
        },
        (err: unknown) => {
          const error = err instanceof Error ? err : new Error(String(err));
          this.warn?.(`event log: fsync failed: ${error.message}`);
          for (const w of waiters) w.reject(error);
        },
      )
      .finally(() => {
        this.syncing = undefined;
        if (this.waiters.length > 0 || this.due) this.again();
      });
  }
}
