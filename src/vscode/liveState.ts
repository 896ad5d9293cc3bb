/**
 * What is running now and what its reports say, refreshed on a timer while the environment
 * is up (and on demand after every command). Trees, the status bar and dashboards read it.
 */
import * as vscode from 'vscode';
import type { EnvironmentStatus } from '../runtime/runtime';
import type { ExperimentRuns } from '../operations/runs';
import { loadEngine } from './engine';
import type { Report } from '../shared/report';
import type { Config } from './config';
import type { Environments } from './environments';
import { nextPollDelayMs } from './pollDelay';

export interface LiveSnapshot {
  status: EnvironmentStatus | undefined;
  reports: Map<string, Report>;
  /** Each deployed experiment's runs (read again only when its current run changes). */
  runs: Map<string, ExperimentRuns>;
  error?: string;
  at: number;
}

export class LiveState implements vscode.Disposable {
  private snapshot: LiveSnapshot = { status: undefined, reports: new Map(), runs: new Map(), at: 0 };
  private readonly changed = new vscode.EventEmitter<LiveSnapshot>();
  readonly onDidChange = this.changed.event;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<LiveSnapshot> | undefined;
  private readonly subscriptions: vscode.Disposable[];
  /** Reads that failed in a row, and how long the last one took: the polling backs off on both. */
  private failures = 0;
  private lastReadMs = 0;

  constructor(
    private readonly environments: Environments,
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscriptions = [
      environments.onDidChange(() => this.switched()),
      config.onDidChange(() => this.schedule()),
    ];
  }

  get current(): LiveSnapshot {
    return this.snapshot;
  }

  /**
   * Another environment was selected: forget what the previous one said at once (trees, status
   * bar and dashboards show the new selection, not stale state), then read the new one.
   */
  private switched(): void {
    this.failures = 0;
    this.snapshot = { status: undefined, reports: new Map(), runs: new Map(), at: Date.now() };
    this.changed.fire(this.snapshot);
    void this.refresh();
  }

  /** Reads status and reports now; concurrent calls share one read. */
  refresh(): Promise<LiveSnapshot> {
    this.running ??= this.read().finally(() => {
      this.running = undefined;
      this.schedule();
    });
    return this.running;
  }

  private async read(): Promise<LiveSnapshot> {
    const started = Date.now();
    const environment = JSON.stringify(this.environments.current);
    const reports = new Map<string, Report>();
    const runs = new Map<string, ExperimentRuns>();
    let status: EnvironmentStatus | undefined;
    let error: string | undefined;
    try {
      const runtime = this.environments.runtime();
      status = await runtime.status();
      if (status.up) {
        for (const exp of status.experiments) {
          try {
            const report = await runtime.report(exp.name);
            reports.set(exp.name, report);
            const known = this.snapshot.runs.get(exp.name);
            // The runs change only with the current run; an older router without them keeps the tree quiet.
            const current =
              known && known.current === (report.run?.id ?? null)
                ? known
                : await loadEngine()
                    .experimentRuns(runtime, { experiment: exp.name })
                    .catch(() => known);
            if (current) runs.set(exp.name, current);
          } catch (err) {
            error = (err as Error).message;
          }
        }
      }
    } catch (err) {
      error = (err as Error).message;
    }
    if (error && error !== this.snapshot.error) this.log.warn(`refresh: ${error}`);
    this.lastReadMs = Date.now() - started;
    this.failures = error ? this.failures + 1 : 0;
    // The user picked another environment while this read ran: its answer is not about the current one.
    if (environment !== JSON.stringify(this.environments.current)) {
      this.failures = 0;
      return this.read();
    }
    this.snapshot = { status, reports, runs, error, at: Date.now() };
    this.changed.fire(this.snapshot);
    return this.snapshot;
  }

  // Poll while something runs; when nothing does, look again only now and then; back off on failures.
  private schedule(): void {
    clearTimeout(this.timer);
    const delay = nextPollDelayMs({
      up: this.snapshot.status?.up ?? false,
      failures: this.failures,
      intervalSeconds: this.config.settings.refreshIntervalSeconds,
      lastReadMs: this.lastReadMs,
    });
    this.timer = setTimeout(() => void this.refresh(), delay);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.changed.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
