/**
 * The workspace as the trees see it: one scan of every workspace folder, redone when a
 * model-settings.json or YAML file changes, with problems published as diagnostics.
 */
import * as vscode from 'vscode';
import type { WorkspaceScan } from '../core/workspace/discover';
import { loadEngine } from './engine';

export class WorkspaceModel implements vscode.Disposable {
  private scans: WorkspaceScan[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('modelCanary');
  private readonly disposables: vscode.Disposable[] = [this.changed, this.diagnostics];
  private pending: Promise<WorkspaceScan[]> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly log: vscode.LogOutputChannel) {
    for (const pattern of ['**/model-settings.json', '**/*.{yaml,yml}', '**/*.joblib', '**/*.csv']) {
      const watcher = vscode.workspace.createFileSystemWatcher(pattern);
      const later = (): void => this.refreshSoon();
      this.disposables.push(
        watcher,
        watcher.onDidCreate(later),
        watcher.onDidChange(later),
        watcher.onDidDelete(later),
      );
    }
    this.disposables.push(vscode.workspace.onDidChangeWorkspaceFolders(() => this.refreshSoon()));
  }

  /** The latest scans, one per workspace folder. */
  get current(): readonly WorkspaceScan[] {
    return this.scans;
  }

  /** Rescans now (concurrent calls share one scan). */
  refresh(): Promise<WorkspaceScan[]> {
    this.pending ??= this.scanAll().finally(() => (this.pending = undefined));
    return this.pending;
  }

  // Saving a file fires several watcher events; one scan answers them all.
  private refreshSoon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), 300);
  }

  private async scanAll(): Promise<WorkspaceScan[]> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const started = Date.now();
    this.scans = await Promise.all(
      folders.filter((f) => f.uri.scheme === 'file').map((f) => loadEngine().scanWorkspace(f.uri.fsPath)),
    );
    this.publishDiagnostics();
    const models = this.scans.reduce((n, s) => n + s.models.length, 0);
    const experiments = this.scans.reduce((n, s) => n + s.experiments.length, 0);
    this.log.info(
      `workspace scanned in ${Date.now() - started} ms: ${models} model versions, ${experiments} experiments`,
    );
    this.changed.fire();
    return this.scans;
  }

  private publishDiagnostics(): void {
    this.diagnostics.clear();
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const problem of this.scans.flatMap((s) => s.problems)) {
      const pos = new vscode.Position(Math.max(0, problem.line - 1), Math.max(0, problem.column - 1));
      const message = problem.field ? `${problem.field}: ${problem.message}` : problem.message;
      const diagnostic = new vscode.Diagnostic(
        new vscode.Range(pos, pos.translate(0, 1)),
        message,
        vscode.DiagnosticSeverity.Error,
      );
      diagnostic.source = 'Model Canary';
      byFile.set(problem.file, [...(byFile.get(problem.file) ?? []), diagnostic]);
    }
    for (const [file, list] of byFile) this.diagnostics.set(vscode.Uri.file(file), list);
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
