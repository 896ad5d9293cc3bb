/** The three trees of the Model Canary container, over one node union and one refresh event each. */
import * as vscode from 'vscode';
import type { DoctorReport } from '../../kind/doctor';
import type { Settings } from '../config';
import type { Environments } from '../environments';
import { loadKube } from '../kubeLoader';
import type { LiveState } from '../liveState';
import type { WorkspaceModel } from '../workspaceModel';
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
    if (file && node.kind !== 'problem' && node.kind !== 'variant' && node.kind !== 'shadow')
      item.resourceUri ??= vscode.Uri.file(file);
    if (file && (node.kind === 'problem' || node.kind === 'model')) {
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
  constructor(
    private readonly workspace: WorkspaceModel,
    private readonly live: LiveState,
  ) {
    super();
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (node)
      return node.kind === 'model' ? node.problems.map((problem) => ({ kind: 'problem', problem })) : [];
    const servers = this.live.current.status?.up
      ? this.live.current.status.components.filter((c) => c.kind === 'model-server')
      : [];
    return this.workspace.current.flatMap((scan) =>
      scan.models.map((model): TreeNode => ({
        kind: 'model',
        model,
        problems: scan.problems.filter((p) => p.file === model.settingsFile),
        server: servers.find((s) => s.name === model.name),
      })),
    );
  }
}

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
    return [...problems, ...variants, ...shadow];
  }
}

export class EnvironmentsTree extends NodeTree {
  private doctor: DoctorReport | undefined;

  constructor(
    private readonly settings: () => Settings,
    private readonly environments: Environments,
    private readonly live: LiveState,
  ) {
    super();
  }

  /** Shows the latest doctor findings on the kind node. */
  setDoctorReport(report: DoctorReport): void {
    this.doctor = report;
    this.refresh();
  }

  getChildren(node?: TreeNode): TreeNode[] {
    const current = this.environments.current;
    const kindContext = `kind-${this.settings().clusterName}`;
    if (!node) {
      const status = this.live.current.status;
      return [
        {
          kind: 'environment.local',
          current: current.kind === 'local',
          running:
            status?.up && current.kind === 'local'
              ? {
                  routerUrl: status.routerUrl,
                  ready: status.components.filter((c) => c.state === 'ready').length,
                  total: status.components.length,
                }
              : undefined,
        },
        {
          kind: 'environment.kind',
          clusterName: this.settings().clusterName,
          current: current.kind === 'context' && current.context === kindContext,
          doctor: this.doctor,
        },
        this.contextsNode(kindContext, current.kind === 'context' ? current.context : undefined),
      ];
    }
    if (node.kind === 'environment.contexts') {
      return node.contexts.map((context): TreeNode => ({
        kind: 'environment.context',
        context,
        current: context.name === node.current,
      }));
    }
    return [];
  }

  private contextsNode(kindContext: string, current: string | undefined): TreeNode {
    try {
      const kube = loadKube();
      const contexts = kube.listContexts(kube.loadKubeConfig()).filter((c) => c.name !== kindContext);
      return { kind: 'environment.contexts', contexts, current };
    } catch (err) {
      return { kind: 'environment.contexts', contexts: [], error: (err as Error).message };
    }
  }
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function describe(node: TreeNode): vscode.TreeItem {
  const None = vscode.TreeItemCollapsibleState.None;
  const Expanded = vscode.TreeItemCollapsibleState.Expanded;
  switch (node.kind) {
    case 'environment.local': {
      const item = new vscode.TreeItem('Local processes', None);
      const r = node.running;
      item.description = `${node.current ? '● ' : ''}${r ? `running · ${r.ready}/${r.total} ready · ${r.routerUrl ?? ''}` : 'stopped — no Docker needed'}`;
      item.tooltip = 'MLServer and the router as processes on 127.0.0.1';
      item.iconPath = new vscode.ThemeIcon(r ? 'vm-running' : 'vm-outline');
      item.contextValue = `environment.local ${r ? 'running' : 'stopped'}${node.current ? ' current' : ''}`;
      return item;
    }
    case 'environment.kind': {
      const item = new vscode.TreeItem(`kind: ${node.clusterName}`, None);
      const blocker = node.doctor?.findings.find((f) => f.status === 'error');
      item.description = `${node.current ? '● ' : ''}${!node.doctor ? 'not checked — run Doctor' : blocker ? blocker.detail : 'ready'}`;
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
      item.description = `${node.current ? '● selected · ' : ''}${c.current ? 'kubectl current · ' : ''}${c.namespace}`;
      item.tooltip = `cluster ${c.cluster}\nuser ${c.user}\nserver ${c.server ?? 'unknown'}`;
      item.iconPath = new vscode.ThemeIcon(node.current ? 'pass-filled' : 'circle-large-outline');
      item.contextValue = `environment.context${node.current ? ' current' : ''}`;
      return item;
    }
    case 'model': {
      const invalid = node.problems.length > 0;
      const item = new vscode.TreeItem(node.model.name, invalid ? Expanded : None);
      const state = node.server
        ? node.server.state === 'ready'
          ? 'deployed · ready'
          : `deployed · ${node.server.state}`
        : 'not deployed';
      item.description = invalid ? `${node.problems.length} problem(s)` : state;
      item.tooltip = `${node.model.dir}\n${node.model.implementation}${node.server ? `\n${node.server.url} (pid ${node.server.id})` : ''}${node.server?.detail ? `\n${node.server.detail}` : ''}`;
      item.iconPath = new vscode.ThemeIcon(
        invalid
          ? 'error'
          : node.server?.state === 'ready'
            ? 'pass'
            : node.server
              ? 'warning'
              : 'symbol-class',
      );
      item.contextValue = `model file${invalid ? ' invalid' : ''}${node.server ? ' deployed' : ''}`;
      return item;
    }
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
      const item = new vscode.TreeItem(`${v.name} (${v.role})`, None);
      const live = node.live;
      const parts = [
        v.model,
        live
          ? `weight ${live.weight} · observed ${pct(live.observedShare)}`
          : `weight ${v.weight} (${pct(node.share)})`,
      ];
      if (node.comparison) parts.push(node.comparison.decision);
      if (node.drifting?.length) parts.push(`drift: ${node.drifting.join(', ')}`);
      item.description = parts.join(' · ');
      item.tooltip = node.comparison ? `${node.comparison.decision}: ${node.comparison.reason}` : undefined;
      item.iconPath = new vscode.ThemeIcon(
        node.drifting?.length ? 'warning' : v.role === 'baseline' ? 'circle-filled' : 'debug-breakpoint-log',
      );
      item.contextValue = `variant ${v.role}${live ? ' live' : ''}`;
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
