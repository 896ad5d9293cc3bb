// Runs inside VS Code's extension host with the workspace sample-models (a temp copy) open.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ModelCanaryApi } from '../../../src/extension';

const extensionId = 'modelcanary.model-canary';

/** The part of activate()'s result these tests read; `trees` is asked of the extension. */
type Api = ModelCanaryApi & {
  readonly trees?: {
    readonly models: vscode.TreeDataProvider<unknown>;
    readonly experiments?: vscode.TreeDataProvider<unknown>;
    readonly environments?: vscode.TreeDataProvider<unknown>;
  };
};

interface Manifest {
  contributes?: {
    commands?: { command: string }[];
    views?: Record<string, { id: string }[]>;
  };
}

function labelOf(item: vscode.TreeItem): string {
  const l = item.label;
  return typeof l === 'string' ? l : (l?.label ?? '');
}

describe('Model Canary in the extension host', function () {
  let extension: vscode.Extension<Api>;
  let api: Api;

  before(async function () {
    const ext = vscode.extensions.getExtension<Api>(extensionId);
    assert.ok(ext, `extension ${extensionId} is not loaded`);
    extension = ext;
    api = await ext.activate();
  });

  it('activates', function () {
    assert.equal(extension.isActive, true);
    assert.ok(api, 'activate() returned no API');
  });

  it('registers exactly the contributed modelCanary.* commands', async function () {
    const manifest = extension.packageJSON as Manifest;
    const contributed = (manifest.contributes?.commands ?? []).map((c) => c.command).sort();
    assert.ok(contributed.length > 0, 'package.json contributes no commands');
    // VS Code adds commands of its own for each contributed view (`<view id>.focus`, ...).
    const generated = Object.values(manifest.contributes?.views ?? {})
      .flat()
      .map((v) => `${v.id}.`);
    const registered = (await vscode.commands.getCommands(true))
      .filter((c) => c.startsWith('modelCanary.'))
      .filter((c) => !generated.some((prefix) => c.startsWith(prefix)))
      .sort();
    const unregistered = contributed.filter((c) => !registered.includes(c));
    const uncontributed = registered.filter((c) => !contributed.includes(c));
    assert.deepEqual(
      { unregistered, uncontributed },
      { unregistered: [], uncontributed: [] },
      `contributed: [${contributed.join(', ')}], registered: [${registered.join(', ')}]`,
    );
  });

  it('shows the seven sample model versions (the pipeline steps too) in the Models tree', async function () {
    await api.refresh();
    assert.ok(
      api.trees?.models,
      'activate() must return the tree providers as `trees: { models, experiments, environments }` for this test',
    );
    const models = api.trees.models;
    const roots = (await models.getChildren()) ?? [];
    const labels = await Promise.all(roots.map(async (n) => labelOf(await models.getTreeItem(n))));
    assert.equal(roots.length, 7, `Models tree roots: [${labels.join(', ')}]`);
    for (const v of [
      'propensity-v1',
      'propensity-v2',
      'propensity-v3',
      'propensity-xgb',
      'propensity-v1-encoded',
      'propensity-features',
      'offer-decision',
    ]) {
      assert.ok(
        labels.some((l) => l.includes(v)),
        `${v} not in [${labels.join(', ')}]`,
      );
    }
  });
});
