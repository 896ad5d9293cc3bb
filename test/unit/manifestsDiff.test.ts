import assert from 'node:assert/strict';
import { diffText, lineDiff, normalizeForDiff, unifiedDiff } from '../../src/kube/diff';
import { planApply } from '../../src/kube/applyPlan';
import { rolloutState } from '../../src/kube/rollout';
import { canaryWeights } from '../../src/kube/promote';
import { completeWeights, mergeExperiment } from '../../src/kube/stackState';
import { parseExperiment } from '../../src/core/spec/experiment';

describe('dry-run diffs of manifests', () => {
  it('strips what the server owns and sorts keys', () => {
    const live = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'c',
        uid: 'u',
        resourceVersion: '7',
        generation: 2,
        creationTimestamp: new Date(0),
        managedFields: [{ manager: 'x' }],
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
      status: { phase: 'x' },
      data: { b: '2', a: '1' },
    };
    assert.deepEqual(normalizeForDiff(live), {
      apiVersion: 'v1',
      data: { a: '1', b: '2' },
      kind: 'ConfigMap',
      metadata: { name: 'c' },
    });
  });

  it('summarises binary data, Secret values and very long ConfigMap values', () => {
    const n = normalizeForDiff({
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      binaryData: { 'router.js.gz': Buffer.from('hello').toString('base64') },
      data: { 'ref.csv': 'a\n'.repeat(500), small: 'x' },
    }) as { binaryData: Record<string, string>; data: Record<string, string> };
    assert.match(n.binaryData['router.js.gz']!, /^\(5 bytes, sha256 [0-9a-f]{16}\)$/);
    assert.match(n.data['ref.csv']!, /^\(501 lines, 1000 bytes, sha256 [0-9a-f]{16}\)$/);
    assert.equal(n.data.small, 'x');
    const secret = normalizeForDiff({
      kind: 'Secret',
      metadata: { name: 's' },
      data: { token: Buffer.from('hunter2').toString('base64') },
    });
    assert.deepEqual((secret as { data: unknown }).data, { token: '(7 bytes)' });
  });

  it('makes a minimal line diff', () => {
    const ops = lineDiff(['a', 'b', 'c', 'd'], ['a', 'x', 'c', 'd', 'e']);
    assert.deepEqual(
      ops.map((o) => `${o.op}${o.line}`),
      [' a', '-b', '+x', ' c', ' d', '+e'],
    );
  });

  it('prints unified hunks with context and correct ranges, and nothing for equal texts', () => {
    const a = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    const b = a.replace('line 3\n', 'line three\n').replace('line 18\n', '');
    assert.equal(unifiedDiff(a, a, 'a', 'b'), '');
    assert.equal(
      unifiedDiff(a, b, 'live: x', 'planned: x'),
      [
        '--- live: x',
        '+++ planned: x',
        '@@ -1,6 +1,6 @@',
        ' line 1',
        ' line 2',
        '-line 3',
        '+line three',
        ' line 4',
        ' line 5',
        ' line 6',
        '@@ -15,6 +15,5 @@',
        ' line 15',
        ' line 16',
        ' line 17',
        '-line 18',
        ' line 19',
        ' line 20',
        '',
      ].join('\n'),
    );
    assert.equal(
      unifiedDiff('', 'x\ny\n', '/dev/null', 'planned'),
      '--- /dev/null\n+++ planned\n@@ -0,0 +1,2 @@\n+x\n+y\n',
    );
  });

  it('a weight change shows as a one-line change in the router config', () => {
    const cm = (w: number) => ({
      kind: 'ConfigMap',
      metadata: { name: 'r' },
      data: { 'router.yaml': `experiments:\n  - name: p\n    weight: ${w}\n` },
    });
    const diff = unifiedDiff(diffText(cm(95)), diffText(cm(75)), 'live', 'planned');
    assert.deepEqual(
      diff
        .split('\n')
        .filter((l) => /^[-+]\s/.test(l))
        .map((l) => l.replace(/\s+/, ' ')),
      ['- weight: 95', '+ weight: 75'],
    );
  });
});

describe('apply plans, rollouts and weights', () => {
  it('orders objects so what others need exists first, custom resources last', () => {
    const o = (kind: string, name = kind.toLowerCase()) => ({ apiVersion: 'v1', kind, metadata: { name } });
    const plan = planApply('ctx', [
      o('Deployment'),
      o('Experiment'),
      o('Service'),
      o('ConfigMap', 'b'),
      o('Namespace'),
      o('ConfigMap', 'a'),
      o('Role'),
      o('ServiceAccount'),
    ]);
    assert.deepEqual(
      plan.steps.map((s) => s.ref),
      [
        'Namespace namespace',
        'ServiceAccount serviceaccount',
        'ConfigMap b',
        'ConfigMap a',
        'Role role',
        'Service service',
        'Deployment deployment',
        'Experiment experiment',
      ],
    );
    assert.deepEqual(plan.options, { fieldManager: 'model-canary', force: false, dryRun: false });
  });

  it('reads a rollout from Deployment status the way kubectl rollout status does', () => {
    const dep = (status: object, generation = 2) =>
      ({ metadata: { generation }, spec: { replicas: 2 }, status }) as never;
    assert.match(rolloutState(dep({ observedGeneration: 1 }), 'd').message, /controller to see the new spec/);
    assert.equal(
      rolloutState(dep({ observedGeneration: 2, updatedReplicas: 1 }), 'd').message,
      '1 of 2 replicas updated',
    );
    assert.equal(
      rolloutState(dep({ observedGeneration: 2, updatedReplicas: 2, replicas: 3 }), 'd').message,
      '1 old replicas still terminating',
    );
    assert.equal(
      rolloutState(dep({ observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 1 }), 'd')
        .message,
      '1 of 2 updated replicas available',
    );
    assert.equal(
      rolloutState(dep({ observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 2 }), 'd')
        .done,
      true,
    );
    const failed = rolloutState(
      dep({
        observedGeneration: 2,
        conditions: [
          { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'too slow' },
        ],
      }),
      'd',
    );
    assert.deepEqual([failed.failed, failed.message], [true, 'rollout failed: too slow']);
    assert.equal(rolloutState(undefined, 'd').message, 'not found');
  });

  it('the canary plan puts each candidate at 5%', () => {
    const exp = parseExperiment(
      `apiVersion: modelcanary.dev/v1alpha1\nkind: Experiment\nmetadata: { name: p }\nspec:\n  endpoint: p\n  variants:\n    - { name: a, model: m1, weight: 50 }\n    - { name: b, model: m2, weight: 30 }\n    - { name: c, model: m3, weight: 20 }\n  metrics: { primary: { name: conversion, kind: proportion } }\n`,
      'p.yaml',
    );
    assert.deepEqual(canaryWeights(exp), { a: 90, b: 5, c: 5 });
  });

  it('checks weights against the variants and keeps the other experiments when merging', () => {
    const entry = {
      name: 'p',
      endpoint: 'p',
      variants: [
        { name: 'v1', url: 'http://a', model: 'm', weight: 95 },
        { name: 'v2', url: 'http://b', model: 'n', weight: 5 },
      ],
    };
    // A partial split keeps the unnamed variants' weights (the rule of src/shared/weights.ts).
    assert.deepEqual(completeWeights(entry, { v2: 10 }), { v1: 95, v2: 10 });
    assert.throws(() => completeWeights(entry, { v9: 1 }), /unknown variant "v9"/);
    assert.throws(() => completeWeights(entry, { v1: -1 }), /≥ 0/);
    assert.throws(() => completeWeights(entry, { v1: 0, v2: 0 }), /add up to something positive/);
    const other = { ...entry, name: 'a-other' };
    assert.deepEqual(
      mergeExperiment({ experiments: [entry, other] }, { ...entry, endpoint: 'p2' }).map((e) => [
        e.name,
        e.endpoint,
      ]),
      [
        ['a-other', 'p'],
        ['p', 'p2'],
      ],
    );
  });
});
