/** The Models tree: the workspace's model versions, whether each is deployed, and their spec problems. */
import * as vscode from 'vscode';
import type { LiveState } from '../liveState';
import type { WorkspaceModel } from '../workspaceModel';
import { describeProblem, foreignNode, NodeTree } from './nodeTree';
import type { TreeNode } from './nodes';

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

  protected describe(node: TreeNode): vscode.TreeItem {
    const None = vscode.TreeItemCollapsibleState.None;
    const Expanded = vscode.TreeItemCollapsibleState.Expanded;
    switch (node.kind) {
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
      case 'problem':
        return describeProblem(node);
      default:
        return foreignNode(node);
    }
  }
}
