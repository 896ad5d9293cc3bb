/**
 * Alerts in VS Code: a new guardrail breach, sample-ratio mismatch, drift or rollout
 * transition in a live report becomes a notification with actions, once.
 */
import * as vscode from 'vscode';
import { alertsOf } from '../core/analysis/alerts';
import type { LiveState } from './liveState';

export class AlertNotifier implements vscode.Disposable {
  private readonly seen = new Set<string>();
  private readonly primed = new Set<string>();
  private readonly subscription: vscode.Disposable;

  constructor(live: LiveState, log: vscode.LogOutputChannel) {
    this.subscription = live.onDidChange((snapshot) => {
      for (const [experiment, report] of snapshot.reports) {
        const first = !this.primed.has(experiment);
        this.primed.add(experiment);
        for (const alert of alertsOf(report)) {
          const key = `${experiment}|${alert.key}`;
          if (this.seen.has(key)) continue;
          this.seen.add(key);
          // What happened before this window opened is history, not news.
          if (first && alert.kind === 'rollout') continue;
          log.warn(`${experiment}: ${alert.message}`);
          if (alert.severity === 'info') continue;
          const show =
            alert.severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
          void show(`Model Canary — ${experiment}: ${alert.message}`, 'Open Dashboard', 'Roll Back').then(
            (choice) => {
              if (choice === 'Open Dashboard')
                void vscode.commands.executeCommand('modelCanary.openDashboard', experiment);
              if (choice === 'Roll Back')
                void vscode.commands.executeCommand('modelCanary.rollBack', experiment);
            },
          );
        }
      }
    });
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
