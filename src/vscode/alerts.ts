/**
 * Alerts in VS Code: a new guardrail breach, sample-ratio mismatch, drift or rollout
 * transition in a live report becomes a notification with actions (Open Dashboard, and Pause
 * Rollout while one progresses), once. The Experiments tree lists the current ones
 * (./alertList.ts); the router sends the same alerts to webhooks (docs/alerts.md).
 */
import * as vscode from 'vscode';
import { alertsOf } from '../core/analysis/alerts';
import type { LiveState } from './liveState';

const ACTIONS = ['Open Dashboard', 'Pause Rollout'];

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
          // Pause Rollout only where there is a rollout to pause: the same command as the palette's.
          const actions = report.rollout?.state === 'Progressing' ? ACTIONS : ACTIONS.slice(0, 1);
          void show(`Model Canary — ${experiment}: ${alert.message}`, ...actions).then((choice) => {
            if (choice === 'Open Dashboard')
              void vscode.commands.executeCommand('modelCanary.openDashboard', experiment);
            if (choice === 'Pause Rollout')
              void vscode.commands.executeCommand('modelCanary.pauseRollout', experiment);
          });
        }
      }
    });
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
