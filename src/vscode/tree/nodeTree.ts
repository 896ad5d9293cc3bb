/**
 * The base of the three trees of the Model Canary container: one refresh event, and Open File
 * (resource URI and click command) for nodes that stand for a file; each tree describes its nodes.
 */
import * as vscode from 'vscode';
import { fileOf, type TreeNode } from './nodes';

export abstract class NodeTree implements vscode.TreeDataProvider<TreeNode> {
  protected readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  refresh(): void {
    this.changed.fire(undefined);
  }

  abstract getChildren(node?: TreeNode): TreeNode[] | Promise<TreeNode[]>;

  /** The item of one of this tree's nodes (without Open File, which getTreeItem adds). */
  protected abstract describe(node: TreeNode): vscode.TreeItem;

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const item = this.describe(node);
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

/** A spec problem under a model or an experiment. */
export function describeProblem(node: Extract<TreeNode, { kind: 'problem' }>): vscode.TreeItem {
  const None = vscode.TreeItemCollapsibleState.None;
  const p = node.problem;
  const item = new vscode.TreeItem(p.field ? `${p.field}: ${p.message}` : p.message, None);
  item.description = `line ${p.line}`;
  item.tooltip = `${p.file}:${p.line}:${p.column}`;
  item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
  item.contextValue = 'problem file';
  return item;
}

/** A node another tree shows (never asked of this one): its kind as its label. */
export function foreignNode(node: TreeNode): vscode.TreeItem {
  return new vscode.TreeItem(node.kind, vscode.TreeItemCollapsibleState.None);
}
