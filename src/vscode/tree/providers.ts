/** The three trees of the Model Canary container, over one node union and one refresh event each. */
import * as vscode from 'vscode';
import type { DoctorReport } from '../../kind/doctor';
import type { KubeContextInfo } from '../../kube/kubeconfig';
import type { Settings } from '../config';
import type { Environments } from '../environments';
import { loadKube } from '../kubeLoader';
import type { LiveState } from '../liveState';
import type { WorkspaceModel } from '../workspaceModel';
import { fileOf, type EnvironmentLive, type TreeNode } from './nodes';

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
    const selected = current.kind === 'context' ? current.context : undefined;
    if (!node) {
      const live = this.liveOfCurrent();
      const contexts = this.contexts(kindContext, selected, live);
      return [
        {
          kind: 'environment.local',
          current: current.kind === 'local',
          ...(current.kind === 'local' ? live : {}),
        },
        {
          kind: 'environment.kind',
          clusterName: this.settings().clusterName,
          current: selected === kindContext,
          doctor: this.doctor,
          exists: contexts.all.some((c) => c.name === kindContext),
          ...(selected === kindContext ? live : {}),
        },
        contexts.node,
      ];
    }
    switch (node.kind) {
      case 'environment.contexts':
        return node.contexts.map((context): TreeNode => {
          const isCurrent = context.name === node.current;
          return {
            kind: 'environment.context',
            context,
            current: isCurrent,
            ...(isCurrent ? { ...node.live, stackNamespace: this.settings().kubeNamespace } : {}),
          };
        });
      case 'environment.local':
      case 'environment.kind':
      case 'environment.context':
        if (node.error) return [{ kind: 'environment.error', message: node.error }];
        return (node.running?.components ?? []).map((component): TreeNode => ({
          kind: 'environment.component',
          component,
        }));
      default:
        return [];
    }
  }

  /** What the live state says about the selected environment. */
  private liveOfCurrent(): EnvironmentLive {
    const { status, error } = this.live.current;
    if (!status) return error ? { error } : {};
    return {
      ...(status.up
        ? {
            running: {
              routerUrl: status.routerUrl,
              ready: status.components.filter((c) => c.state === 'ready').length,
              total: status.components.length,
              components: status.components,
            },
          }
        : {}),
      // A report that failed while the environment runs is shown on the dashboard, not here.
      ...(error && !status.up ? { error } : {}),
    };
  }

  private contexts(
    kindContext: string,
    current: string | undefined,
    live: EnvironmentLive,
  ): { node: TreeNode; all: KubeContextInfo[] } {
    try {
      const kube = loadKube();
      const all = kube.listContexts(kube.loadKubeConfig());
      const contexts = all.filter((c) => c.name !== kindContext);
      return { node: { kind: 'environment.contexts', contexts, current, live }, all };
    } catch (err) {
      return { node: { kind: 'environment.contexts', contexts: [], error: (err as Error).message }, all: [] };
    }
  }
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** "running · 2/4 ready · http://127.0.0.1:8090" */
const running = (r: NonNullable<EnvironmentLive['running']>): string =>
  `running · ${r.ready}/${r.total} ready${r.routerUrl ? ` · ${r.routerUrl}` : ''}`;

/** An environment node has children when it shows its components or an error. */
function childState(node: EnvironmentLive): vscode.TreeItemCollapsibleState {
  return node.error || node.running?.components.length
    ? vscode.TreeItemCollapsibleState.Expanded
    : vscode.TreeItemCollapsibleState.None;
}

function describe(node: TreeNode): vscode.TreeItem {
  const None = vscode.TreeItemCollapsibleState.None;
  const Expanded = vscode.TreeItemCollapsibleState.Expanded;
  switch (node.kind) {
    case 'environment.local': {
      const item = new vscode.TreeItem('Local processes', childState(node));
      const r = node.running;
      item.description = `${node.current ? '● ' : ''}${node.error ? 'cannot read its state' : r ? running(r) : 'stopped — no Docker needed'}`;
      item.tooltip = node.error ?? 'MLServer and the router as processes on 127.0.0.1';
      item.iconPath = new vscode.ThemeIcon(node.error ? 'warning' : r ? 'vm-running' : 'vm-outline');
      item.contextValue = `environment.local ${r ? 'running' : 'stopped'}${node.current ? ' current' : ''}`;
      return item;
    }
    case 'environment.kind': {
      const item = new vscode.TreeItem(`kind: ${node.clusterName}`, childState(node));
      const blocker = node.doctor?.findings.find((f) => f.status === 'error');
      const r = node.running;
      const state = node.error
        ? 'unreachable'
        : r
          ? running(r)
          : node.current
            ? `stopped${node.exists === false ? ' — no such context; Create kind Cluster' : ''}`
            : !node.doctor
              ? 'not checked — run Doctor'
              : blocker
                ? blocker.detail
                : 'ready';
      item.description = `${node.current ? '● ' : ''}${state}`;
      item.tooltip = node.error ?? blocker?.fix ?? `Context kind-${node.clusterName}`;
      item.iconPath = new vscode.ThemeIcon(
        node.error || blocker ? 'warning' : r ? 'vm-running' : 'server-environment',
      );
      item.contextValue = `environment.kind ${blocker ? 'blocked' : 'ok'} ${r ? 'running' : 'stopped'}${node.current ? ' current' : ''}`;
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
      const item = new vscode.TreeItem(c.name, childState(node));
      const r = node.running;
      const state = node.error ? 'unreachable · ' : r ? `${running(r)} · ` : node.current ? 'stopped · ' : '';
      item.description = `${node.current ? '● selected · ' : ''}${state}${c.current ? 'kubectl current · ' : ''}${node.stackNamespace ? `namespace ${node.stackNamespace}` : c.namespace}`;
      item.tooltip = [
        `cluster ${c.cluster}`,
        `user ${c.user}`,
        `server ${c.server ?? 'unknown'}`,
        node.error ?? '',
      ]
        .filter(Boolean)
        .join('\n');
      item.iconPath = new vscode.ThemeIcon(
        node.error ? 'warning' : node.current ? 'pass-filled' : 'circle-large-outline',
      );
      item.contextValue = `environment.context ${r ? 'running' : 'stopped'}${node.current ? ' current' : ''}`;
      return item;
    }
    case 'environment.component': {
      const c = node.component;
      const item = new vscode.TreeItem(c.name, None);
      item.description = [c.kind === 'router' ? 'router' : 'model server', c.state, c.detail ?? '']
        .filter(Boolean)
        .join(' · ');
      item.tooltip = [c.url, c.id ? (/^\d+$/.test(c.id) ? `pid ${c.id}` : `pod ${c.id}`) : '', c.detail ?? '']
        .filter(Boolean)
        .join('\n');
      item.iconPath = new vscode.ThemeIcon(
        c.state === 'ready' ? 'pass' : c.state === 'stopped' ? 'circle-slash' : 'loading~spin',
      );
      item.contextValue = `environment.component ${c.kind}`;
      return item;
    }
    case 'environment.error': {
      const item = new vscode.TreeItem(node.message, None);
      item.tooltip = node.message;
      item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
      item.contextValue = 'environment.error';
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
