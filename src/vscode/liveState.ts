/**
 * What is running now and what its reports say, refreshed on a timer while the environment
 * is up (and on demand after every command). Trees, the status bar and dashboards read it.
 */
import * as vscode from 'vscode';
import type { EnvironmentStatus } from '../runtime/runtime';
import type { Report } from '../shared/report';
import type { Config } from './config';
import type { Environments } from './environments';

export interface LiveSnapshot {
  status: EnvironmentStatus | undefined;
  reports: Map<string, Report>;
  error?: string;
  at: number;
}

export class LiveState implements vscode.Disposable {
  private snapshot: LiveSnapshot = { status: undefined, reports: new Map(), at: 0 };
  private readonly changed = new vscode.EventEmitter<LiveSnapshot>();
  readonly onDidChange = this.changed.event;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<LiveSnapshot> | undefined;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly environments: Environments,
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscriptions = [
      environments.onDidChange(() => void this.refresh()),
      config.onDidChange(() => this.schedule()),
    ];
  }

  get current(): LiveSnapshot {
    return this.snapshot;
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
    const reports = new Map<string, Report>();
    let status: EnvironmentStatus | undefined;
    let error: string | undefined;
    try {
      const runtime = this.environments.runtime();
      status = await runtime.status();
      if (status.up) {
        for (const exp of status.experiments) {
          try {
            reports.set(exp.name, await runtime.report(exp.name));
          } catch (err) {
            error = (err as Error).message;
          }
        }
      }
    } catch (err) {
      error = (err as Error).message;
    }
    if (error && error !== this.snapshot.error) this.log.warn(`refresh: ${error}`);
    this.snapshot = { status, reports, error, at: Date.now() };
    this.changed.fire(this.snapshot);
    return this.snapshot;
  }

  // Poll while something runs; when nothing does, look again only now and then.
  private schedule(): void {
    clearTimeout(this.timer);
    const up = this.snapshot.status?.up ?? false;
    const seconds = up ? this.config.settings.refreshIntervalSeconds : 15;
    this.timer = setTimeout(() => void this.refresh(), seconds * 1000);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.changed.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
