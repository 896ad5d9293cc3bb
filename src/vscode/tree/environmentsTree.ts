/** The Environments tree: local processes, the kind cluster and kubeconfig contexts, with the live stack. */
import * as vscode from 'vscode';
import type { DoctorReport } from '../../kind/doctor';
import type { KubeContextInfo } from '../../kube/kubeconfig';
import type { Settings } from '../config';
import type { Environments } from '../environments';
import { loadKube } from '../kubeLoader';
import type { LiveState } from '../liveState';
import { foreignNode, NodeTree } from './nodeTree';
import type { EnvironmentLive, TreeNode } from './nodes';

/** "running · 2/4 ready · http://127.0.0.1:8090 · gRPC 127.0.0.1:8091" */
const running = (r: NonNullable<EnvironmentLive['running']>): string =>
  `running · ${r.ready}/${r.total} ready${r.routerUrl ? ` · ${r.routerUrl}` : ''}${r.routerGrpc ? ` · gRPC ${r.routerGrpc}` : ''}`;

/** An environment node has children when it shows its components or an error. */
function childState(node: EnvironmentLive): vscode.TreeItemCollapsibleState {
  return node.error || node.running?.components.length
    ? vscode.TreeItemCollapsibleState.Expanded
    : vscode.TreeItemCollapsibleState.None;
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
              ...(status.routerGrpc ? { routerGrpc: status.routerGrpc } : {}),
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

  protected describe(node: TreeNode): vscode.TreeItem {
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
        const state = node.error
          ? 'unreachable · '
          : r
            ? `${running(r)} · `
            : node.current
              ? 'stopped · '
              : '';
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
        item.tooltip = [
          c.url,
          c.id ? (/^\d+$/.test(c.id) ? `pid ${c.id}` : `pod ${c.id}`) : '',
          c.detail ?? '',
        ]
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
      default:
        return foreignNode(node);
    }
  }
}
