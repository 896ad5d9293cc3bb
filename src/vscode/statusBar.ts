/** The status bar item: the current environment and the focused experiment's split and verdict; click opens its dashboard. */
import * as vscode from 'vscode';
import type { Environments } from './environments';
import type { LiveState } from './liveState';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'modelCanary.status',
    vscode.StatusBarAlignment.Left,
    50,
  );
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly live: LiveState,
    private readonly environments: Environments,
  ) {
    this.item.name = 'Model Canary';
    this.subscriptions = [
      live.onDidChange(() => this.update()),
      environments.onDidChange(() => this.update()),
    ];
    this.update();
  }

  private update(): void {
    const snapshot = this.live.current;
    const env = this.environments.label();
    const status = snapshot.status;
    if (!status && snapshot.error) {
      this.item.text = `$(warning) Canary: ${env} — cannot read`;
      this.item.tooltip = `Model Canary: ${snapshot.error}\nClick to refresh.`;
      this.item.command = 'modelCanary.refresh';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      this.item.show();
      return;
    }
    if (!status?.up) {
      this.item.text = `$(debug-disconnect) Canary: ${env} — stopped`;
      this.item.tooltip = 'Model Canary: the environment is not running. Click to start it.';
      this.item.command = 'modelCanary.startLocal';
      this.item.backgroundColor = undefined;
      this.item.show();
      return;
    }
    // The focused experiment: the first deployed one with a report.
    const [name, report] = [...snapshot.reports.entries()][0] ?? [];
    if ((!name || !report) && status.experiments.length > 0 && snapshot.error) {
      this.item.text = `$(warning) Canary: ${env} — no report`;
      this.item.tooltip = `Model Canary: ${status.experiments.map((e) => e.name).join(', ')} deployed, but the report could not be read: ${snapshot.error}`;
      this.item.command = 'modelCanary.showLogs';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      this.item.show();
      return;
    }
    if (!name || !report) {
      this.item.text = `$(beaker) Canary: ${env} — no experiment`;
      this.item.tooltip = 'Model Canary: running, nothing deployed. Run Deploy Experiment.';
      this.item.command = 'modelCanary.deployExperiment';
      this.item.backgroundColor = undefined;
      this.item.show();
      return;
    }
    const split = report.variants.map((v) => `${v.name} ${Math.round(v.weight)}`).join(' · ');
    const decision = report.comparisons[0]?.decision ?? 'no candidate';
    const alarm = report.srm.mismatch || report.guardrails.some((g) => !g.ok) || report.drift?.datasetDrift;
    this.item.text = `${alarm ? '$(warning)' : '$(beaker)'} ${name}: ${split} · ${decision}`;
    this.item.tooltip = [
      `Model Canary — ${env}`,
      ...report.comparisons.map((c) => `${c.variant}: ${c.decision} — ${c.reason}`),
      report.srm.mismatch ? 'Sample-ratio mismatch: the split does not match the weights.' : '',
      report.drift?.datasetDrift ? 'Drift detected.' : '',
      'Click to open the dashboard.',
    ]
      .filter(Boolean)
      .join('\n');
    this.item.command = { command: 'modelCanary.openDashboard', title: 'Open Dashboard', arguments: [name] };
    this.item.backgroundColor = alarm ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
