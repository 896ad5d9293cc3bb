/** The three trees of the Model Canary container, over one node union and one refresh event each. */
import * as vscode from 'vscode';
import type { DoctorReport } from '../../kind/doctor';
import type { Settings } from '../config';
import type { WorkspaceModel } from '../workspaceModel';
import { loadKube } from '../kubeLoader';
import { fileOf, type TreeNode } from './nodes';

abstract class NodeTree implements vscode.TreeDataProvider<TreeNode> {
  protected readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  refresh(): void {
    this.changed.fire(undefined);
  }

  abstract getChildren(node?: TreeNode): TreeNode[] | Promise<TreeNode[]>;

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const item = describe(node);
    const file = fileOf(node);
    if (file && node.kind !== 'problem') {
      item.resourceUri ??= vscode.Uri.file(file);
    }
    if (file) {
      const line = node.kind === 'problem' ? node.problem.line - 1 : 0;
      item.command = {
        command: 'modelCanary.openFile',
        title: 'Open File',
        arguments: [vscode.Uri.file(file), line],
      };
    }
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export class ModelsTree extends NodeTree {
  constructor(private readonly workspace: WorkspaceModel) {
    super();
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (node)
      return node.kind === 'model' ? node.problems.map((problem) => ({ kind: 'problem', problem })) : [];
    return this.workspace.current.flatMap((scan) =>
      scan.models.map((model): TreeNode => ({
        kind: 'model',
        model,
        problems: scan.problems.filter((p) => p.file === model.settingsFile),
      })),
    );
  }
}

export class ExperimentsTree extends NodeTree {
  constructor(private readonly workspace: WorkspaceModel) {
    super();
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (!node) {
      return this.workspace.current.flatMap((scan) =>
        scan.experiments.map((entry): TreeNode => ({
          kind: 'experiment',
          entry,
          problems: scan.problems.filter((p) => p.file === entry.file),
        })),
      );
    }
    if (node.kind !== 'experiment') return [];
    const problems = node.problems.map((problem): TreeNode => ({ kind: 'problem', problem }));
    const exp = node.entry.experiment;
    if (!exp) return problems;
    const total = exp.spec.variants.reduce((sum, v) => sum + v.weight, 0);
    const variants = exp.spec.variants.map((variant): TreeNode => ({
      kind: 'variant',
      experimentFile: exp.file,
      variant,
      share: total > 0 ? variant.weight / total : 0,
    }));
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
    return [...problems, ...variants, ...shadow];
  }
}

export class EnvironmentsTree extends NodeTree {
  private doctor: DoctorReport | undefined;

  constructor(private readonly settings: () => Settings) {
    super();
  }

  /** Shows the latest doctor findings on the kind node. */
  setDoctorReport(report: DoctorReport): void {
    this.doctor = report;
    this.refresh();
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (!node) {
      return [
        { kind: 'environment.local' },
        { kind: 'environment.kind', clusterName: this.settings().clusterName, doctor: this.doctor },
        this.contextsNode(),
      ];
    }
    if (node.kind === 'environment.contexts') {
      return node.contexts.map((context): TreeNode => ({ kind: 'environment.context', context }));
    }
    return [];
  }

  private contextsNode(): TreeNode {
    try {
      const kube = loadKube();
      const kindContext = `kind-${this.settings().clusterName}`;
      const contexts = kube.listContexts(kube.loadKubeConfig()).filter((c) => c.name !== kindContext);
      return { kind: 'environment.contexts', contexts };
    } catch (err) {
      return { kind: 'environment.contexts', contexts: [], error: (err as Error).message };
    }
  }
}

function describe(node: TreeNode): vscode.TreeItem {
  const None = vscode.TreeItemCollapsibleState.None;
  const Expanded = vscode.TreeItemCollapsibleState.Expanded;
  switch (node.kind) {
    case 'environment.local': {
      const item = new vscode.TreeItem('Local processes', None);
      item.description = 'MLServer + router on 127.0.0.1, no Docker needed';
      item.iconPath = new vscode.ThemeIcon('vm');
      item.contextValue = 'environment.local';
      return item;
    }
    case 'environment.kind': {
      const item = new vscode.TreeItem(`kind: ${node.clusterName}`, None);
      const blocker = node.doctor?.findings.find((f) => f.status === 'error');
      item.description = !node.doctor ? 'not checked — run Doctor' : blocker ? blocker.detail : 'ready';
      item.tooltip = blocker?.fix ?? `Context kind-${node.clusterName}`;
      item.iconPath = new vscode.ThemeIcon(blocker ? 'warning' : 'server-environment');
      item.contextValue = `environment.kind ${blocker ? 'blocked' : 'ok'}`;
      return item;
    }
    case 'environment.contexts': {
      const item = new vscode.TreeItem('Kubernetes contexts', node.contexts.length ? Expanded : None);
      item.description = node.error
        ? 'kubeconfig unreadable'
        : node.contexts.length
          ? `${node.contexts.length}`
          : 'none in kubeconfig';
      item.tooltip = node.error;
      item.iconPath = new vscode.ThemeIcon('cloud');
      item.contextValue = 'environment.contexts';
      return item;
    }
    case 'environment.context': {
      const c = node.context;
      const item = new vscode.TreeItem(c.name, None);
      item.description = `${c.current ? '● current · ' : ''}${c.namespace}`;
      item.tooltip = `cluster ${c.cluster}\nuser ${c.user}\nserver ${c.server ?? 'unknown'}`;
      item.iconPath = new vscode.ThemeIcon(c.current ? 'pass-filled' : 'circle-large-outline');
      item.contextValue = `environment.context${c.current ? ' current' : ''}`;
      return item;
    }
    case 'model': {
      const invalid = node.problems.length > 0;
      const item = new vscode.TreeItem(node.model.name, invalid ? Expanded : None);
      item.description = invalid
        ? `${node.problems.length} problem(s)`
        : node.model.implementation.replace(/^mlserver_/, '');
      item.tooltip = `${node.model.dir}\n${node.model.implementation}`;
      item.iconPath = new vscode.ThemeIcon(invalid ? 'error' : 'symbol-class');
      item.contextValue = `model file${invalid ? ' invalid' : ''}`;
      return item;
    }
    case 'experiment': {
      const invalid = node.problems.length > 0;
      const label = node.entry.experiment?.metadata.name ?? node.entry.name ?? node.entry.file;
      const item = new vscode.TreeItem(label, Expanded);
      item.description = invalid
        ? `${node.problems.length} problem(s)`
        : node.entry.file.split('/').slice(-2).join('/');
      item.iconPath = new vscode.ThemeIcon(invalid ? 'error' : 'beaker');
      item.contextValue = `experiment file${invalid ? ' invalid' : ''}`;
      return item;
    }
    case 'variant': {
      const v = node.variant;
      const item = new vscode.TreeItem(`${v.name} (${v.role})`, None);
      item.description = `${v.model} · weight ${v.weight} (${(node.share * 100).toFixed(1)}%)`;
      item.iconPath = new vscode.ThemeIcon(v.role === 'baseline' ? 'circle-filled' : 'debug-breakpoint-log');
      item.contextValue = `variant ${v.role}`;
      return item;
    }
    case 'shadow': {
      const item = new vscode.TreeItem(`${node.variant} (shadow)`, None);
      item.description = `${node.model} · mirrors ${node.percent}% of requests`;
      item.iconPath = new vscode.ThemeIcon('mirror');
      item.contextValue = 'variant shadow';
      return item;
    }
    case 'problem': {
      const p = node.problem;
      const item = new vscode.TreeItem(p.field ? `${p.field}: ${p.message}` : p.message, None);
      item.description = `line ${p.line}`;
      item.tooltip = `${p.file}:${p.line}:${p.column}`;
      item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
      item.contextValue = 'problem file';
      return item;
    }
  }
}
