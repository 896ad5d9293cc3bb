/** A graph variant's steps in the Experiments tree: in the graph's order, each with its live latency and errors. */
import * as vscode from 'vscode';
import { dependencies } from '../../core/spec/graphRefs';
import { slowestStep, stepSummary } from '../../shared/graphSteps';
import type { TreeNode } from './nodes';

type VariantNode = Extract<TreeNode, { kind: 'variant' }>;
type StepNode = Extract<TreeNode, { kind: 'step' }>;

/** The steps of a graph variant (none for a single model). */
export function stepNodes(node: VariantNode): TreeNode[] {
  const graph = node.variant.graph;
  if (!graph) return [];
  const live = node.live?.steps ?? [];
  const slowest = slowestStep(live);
  return graph.steps.map((s): StepNode => ({
    kind: 'step',
    experimentFile: node.experimentFile,
    variant: node.variant.name,
    step: s.name,
    after: dependencies(s),
    live: live.find((l) => l.name === s.name),
    slowest: s.name === slowest,
  }));
}

/** `propensity-features · after the request · p50 9.9 ms · p95 11.6 ms · errors 0 of 40 · slowest`. */
export function describeStep(node: StepNode): vscode.TreeItem {
  const item = new vscode.TreeItem(node.step, vscode.TreeItemCollapsibleState.None);
  const reads = node.after.length ? `after ${node.after.join(', ')}` : 'reads the request';
  const parts = [reads, ...(node.live ? [stepSummary(node.live)] : []), ...(node.slowest ? ['slowest'] : [])];
  item.description = parts.join(' · ');
  item.tooltip = `Step ${node.step} of ${node.variant}: ${parts.join(' · ')}`;
  item.iconPath = new vscode.ThemeIcon(
    node.live && node.live.errors > 0 ? 'error' : node.slowest ? 'watch' : 'symbol-event',
  );
  item.contextValue = 'step';
  return item;
}
