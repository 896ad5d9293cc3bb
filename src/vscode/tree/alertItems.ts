/** Tree items of the Experiments tree's alert list: a problems-style node per alert, worst first. */
import * as vscode from 'vscode';
import type { TreeNode } from './nodes';

type AlertsNode = Extract<TreeNode, { kind: 'alerts' }>;
type AlertNode = Extract<TreeNode, { kind: 'alert' }>;

const ICON = { error: 'error', warning: 'warning', info: 'info' } as const;

/** "Alerts · 1 error · 2 warnings", expanded: something is wrong and should be seen. */
export function describeAlerts(node: AlertsNode, summary: string): vscode.TreeItem {
  const item = new vscode.TreeItem('Alerts', vscode.TreeItemCollapsibleState.Expanded);
  item.description = summary;
  const worst = node.alerts[0]?.severity ?? 'info';
  item.iconPath = new vscode.ThemeIcon(ICON[worst], new vscode.ThemeColor(colorOf(worst)));
  item.contextValue = 'alerts';
  return item;
}

/** One alert: its message, the kind beside it, and a click that opens the dashboard. */
export function describeAlert(node: AlertNode): vscode.TreeItem {
  const a = node.alert;
  const item = new vscode.TreeItem(a.message, vscode.TreeItemCollapsibleState.None);
  item.description = a.kind;
  item.tooltip = `${node.experiment} — ${a.severity}: ${a.message}\nClick to open the dashboard.`;
  item.iconPath = new vscode.ThemeIcon(ICON[a.severity], new vscode.ThemeColor(colorOf(a.severity)));
  item.contextValue = `alert ${a.kind} ${a.severity}`;
  item.command = {
    command: 'modelCanary.openDashboard',
    title: 'Open Dashboard',
    arguments: [node.experiment],
  };
  return item;
}

function colorOf(severity: 'error' | 'warning' | 'info'): string {
  return severity === 'error'
    ? 'list.errorForeground'
    : severity === 'warning'
      ? 'list.warningForeground'
      : 'foreground';
}
