/** The Experiments tree: the workspace's experiments with their variants, shadow and live state. */
import * as vscode from 'vscode';
import type { LiveState } from '../liveState';
import type { WorkspaceModel } from '../workspaceModel';
import { describeProblem, foreignNode, NodeTree } from './nodeTree';
import type { TreeNode } from './nodes';
import { percent, runText } from '../../shared/format';
import { alertsSummary, currentAlerts } from '../alertList';
import { describeAlert, describeAlerts } from './alertItems';
import { describeStep, stepNodes } from './graphSteps';

export class ExperimentsTree extends NodeTree {
  constructor(
    private readonly workspace: WorkspaceModel,
    private readonly live: LiveState,
  ) {
    super();
  }

  getChildren(node?: TreeNode): TreeNode[] {
    const snapshot = this.live.current;
    if (!node) {
      return this.workspace.current.flatMap((scan) =>
        scan.experiments.map((entry): TreeNode => {
          const report = entry.name ? snapshot.reports.get(entry.name) : undefined;
          return {
            kind: 'experiment',
            entry,
            problems: scan.problems.filter((p) => p.file === entry.file),
            live: !!report,
            driftFlag: report?.drift?.datasetDrift,
            srmMismatch: report?.srm.mismatch,
          };
        }),
      );
    }
    if (node.kind === 'runs')
      return [...node.runs.runs].reverse().map((run): TreeNode => ({
        kind: 'run',
        experimentFile: node.experimentFile,
        experiment: node.experiment,
        run,
        current: run.id === node.runs.current,
      }));
    if (node.kind === 'alerts')
      return node.alerts.map((alert): TreeNode => ({
        kind: 'alert',
        experimentFile: node.experimentFile,
        experiment: node.experiment,
        alert,
      }));
    if (node.kind === 'variant') return stepNodes(node);
    if (node.kind !== 'experiment') return [];
    const problems = node.problems.map((problem): TreeNode => ({ kind: 'problem', problem }));
    const exp = node.entry.experiment;
    if (!exp) return problems;
    const report = snapshot.reports.get(exp.metadata.name);
    const total = exp.spec.variants.reduce((sum, v) => sum + v.weight, 0);
    const variants = exp.spec.variants.map((variant): TreeNode => {
      const live = report?.variants.find((v) => v.name === variant.name);
      const drifting = report?.drift?.features
        .filter((f) => f.variant === variant.name && f.drift)
        .map((f) => f.name);
      return {
        kind: 'variant',
        experimentFile: exp.file,
        variant,
        share: total > 0 ? variant.weight / total : 0,
        live,
        comparison: report?.comparisons.find((c) => c.variant === variant.name),
        drifting,
      };
    });
    const mirror = exp.spec.routing?.mirror;
    const shadow: TreeNode[] = mirror
      ? [
          {
            kind: 'shadow',
            experimentFile: exp.file,
            variant: mirror.variant,
            model: mirror.model,
            percent: mirror.percent,
          },
        ]
      : [];
    const runs = snapshot.runs.get(exp.metadata.name);
    const history: TreeNode[] = runs?.runs.length
      ? [{ kind: 'runs', experimentFile: exp.file, experiment: exp.metadata.name, runs }]
      : [];
    const active = report ? currentAlerts(report) : [];
    const alerts: TreeNode[] = active.length
      ? [{ kind: 'alerts', experimentFile: exp.file, experiment: exp.metadata.name, alerts: active }]
      : [];
    return [...problems, ...alerts, ...variants, ...shadow, ...history];
  }

  protected describe(node: TreeNode): vscode.TreeItem {
    const None = vscode.TreeItemCollapsibleState.None;
    const Expanded = vscode.TreeItemCollapsibleState.Expanded;
    switch (node.kind) {
      case 'experiment': {
        const invalid = node.problems.length > 0;
        const label = node.entry.experiment?.metadata.name ?? node.entry.name ?? node.entry.file;
        const item = new vscode.TreeItem(label, Expanded);
        const flags = [node.live ? 'live' : '', node.srmMismatch ? 'SRM!' : '', node.driftFlag ? 'drift' : '']
          .filter(Boolean)
          .join(' · ');
        item.description = invalid
          ? `${node.problems.length} problem(s)`
          : flags || vscode.workspace.asRelativePath(node.entry.file);
        item.iconPath = new vscode.ThemeIcon(
          invalid
            ? 'error'
            : node.srmMismatch || node.driftFlag
              ? 'warning'
              : node.live
                ? 'beaker'
                : 'beaker-stop',
        );
        item.contextValue = `experiment file${invalid ? ' invalid' : ''}${node.live ? ' live' : ''}`;
        return item;
      }
      case 'variant': {
        const v = node.variant;
        const item = new vscode.TreeItem(`${v.name} (${v.role})`, v.graph ? Expanded : None);
        const live = node.live;
        const parts = [
          v.model,
          live
            ? `weight ${live.weight} · observed ${percent(live.observedShare)}`
            : `weight ${v.weight} (${percent(node.share)})`,
        ];
        if (node.comparison) parts.push(node.comparison.decision);
        if (node.drifting?.length) parts.push(`drift: ${node.drifting.join(', ')}`);
        item.description = parts.join(' · ');
        item.tooltip = node.comparison ? `${node.comparison.decision}: ${node.comparison.reason}` : undefined;
        item.iconPath = new vscode.ThemeIcon(
          node.drifting?.length
            ? 'warning'
            : v.role === 'baseline'
              ? 'circle-filled'
              : 'debug-breakpoint-log',
        );
        item.contextValue = `variant ${v.role}${live ? ' live' : ''}`;
        return item;
      }
      case 'step':
        return describeStep(node);
      case 'shadow': {
        const item = new vscode.TreeItem(`${node.variant} (shadow)`, None);
        item.description = `${node.model} · mirrors ${node.percent}% of requests`;
        item.iconPath = new vscode.ThemeIcon('mirror');
        item.contextValue = 'variant shadow';
        return item;
      }
      case 'runs': {
        const item = new vscode.TreeItem('Runs', vscode.TreeItemCollapsibleState.Collapsed);
        item.description = `${node.runs.runs.length} (each deploy starts one)`;
        item.iconPath = new vscode.ThemeIcon('history');
        item.contextValue = 'runs';
        return item;
      }
      case 'run': {
        const item = new vscode.TreeItem(node.current ? `${node.run.id} (current)` : node.run.id, None);
        item.description = runText({ ...node.run, id: '' }, false);
        item.tooltip = `${runText(node.run, node.current)}\nClick to show this run's report.`;
        item.iconPath = new vscode.ThemeIcon(node.current ? 'play-circle' : 'circle-outline');
        item.contextValue = `run${node.current ? ' current' : ''}`;
        item.command = {
          command: 'modelCanary.showReport',
          title: 'Show Report of a Run',
          arguments: [node],
        };
        return item;
      }
      case 'problem':
        return describeProblem(node);
      case 'alerts':
        return describeAlerts(node, alertsSummary(node.alerts));
      case 'alert':
        return describeAlert(node);
      default:
        return foreignNode(node);
    }
  }
}
