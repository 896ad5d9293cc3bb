import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertsOf } from '../../src/core/analysis/alerts';
import { ReportBuilder } from '../../src/core/analysis/reportBuilder';
import { parseCsv } from '../../src/core/drift';
import { readSavedDetector } from '../../src/core/drift/savedDetector';
import {
  DEFAULT_ROLLOUT,
  evaluateRollout,
  initialRollout,
  startRollout,
  type RolloutSpec,
} from '../../src/core/rollout/rollout';
import { SpecError, type SpecProblem } from '../../src/core/spec/errors';
import { parseExperiment } from '../../src/core/spec/experiment';
import { scanWorkspace } from '../../src/core/workspace/discover';
import { parseDetectorAnswer } from '../../src/router/detectors';
import {
  ALIBI_DETECT_VERSION,
  MLSERVER_ALIBI_DETECT_VERSION,
  alibiDetectEnvDir,
} from '../../src/runtime/detectorServers';
import { pinnedVersions } from '../harness/tools';
import type { DetectorEvent } from '../../src/shared/detectors';
import { detectorLines } from '../../src/shared/detectorsText';

const SAMPLE_DETECTOR = join(import.meta.dirname, '../../sample-models/detectors/propensity-ks');

function experiment(detectors: string, name = 'shop'): string {
  return `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: ${name} }
spec:
  endpoint: shop
  variants:
    - { name: v1, model: m1, role: baseline, weight: 100 }
    - { name: v2, model: m2, weight: 0 }
  metrics:
    primary: { name: conversion, kind: proportion }
  drift:
    reference: ref.csv
    detectors:
${detectors}`;
}

function problemsOf(text: string): SpecProblem[] {
  try {
    parseExperiment(text, 'exp.yaml');
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected a SpecError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected the experiment to be rejected');
}

describe('bring-your-own detectors: spec.drift.detectors', () => {
  it('takes a detector with its defaults: kind drift, batchSize 200, no gate', () => {
    const exp = parseExperiment(
      experiment('      - { name: ks, path: ../detectors/ks, features: [age, basket_value] }\n'),
      'exp.yaml',
    );
    assert.deepEqual(exp.spec.drift?.detectors, [
      {
        name: 'ks',
        path: '../detectors/ks',
        kind: 'drift',
        features: ['age', 'basket_value'],
        batchSize: 200,
        gate: false,
      },
    ]);
  });

  it('rejects a bad entry naming the line, the field and the fix', () => {
    const problems = problemsOf(
      experiment(
        [
          '      - name: ks',
          '        path: a',
          '        kind: novelty',
          '        features: []',
          '        batchSize: 5',
          '      - { name: ks2, path: b, features: [age], gate: yes, window: 3 }',
          '',
        ].join('\n'),
      ),
    );
    const byField = (field: string): SpecProblem => {
      const found = problems.find((p) => p.field === field);
      assert.ok(found, `no problem for ${field} in ${JSON.stringify(problems)}`);
      return found;
    };
    assert.equal(byField('spec.drift.detectors[0].kind').message, 'must be "drift" or "outlier"');
    assert.equal(byField('spec.drift.detectors[0].kind').line, 16);
    assert.match(byField('spec.drift.detectors[0].features').message, /in the order of its reference data/);
    assert.match(byField('spec.drift.detectors[0].batchSize').message, /must be at least 10 requests/);
    assert.equal(byField('spec.drift.detectors[1].gate').message, 'must be true or false');
    assert.equal(byField('spec.drift.detectors[1].window').message, 'unknown field');
    assert.equal(byField('spec.drift.detectors[1].window').line, 19);
  });

  it('rejects a detector named twice and a feature named twice', () => {
    const problems = problemsOf(
      experiment(
        [
          '      - { name: ks, path: a, features: [age] }',
          '      - { name: ks, path: b, features: [age, basket_value, age] }',
          '',
        ].join('\n'),
      ),
    );
    assert.deepEqual(
      problems.map((p) => [p.field, p.line, p.message]),
      [
        ['spec.drift.detectors[1].name', 15, 'duplicate detector "ks"'],
        [
          'spec.drift.detectors[1].features',
          15,
          '"age" is named twice — each column of the detector\'s reference data once',
        ],
      ],
    );
  });

  it('reads what a saved detector folder is, and refuses one without config.toml', async () => {
    assert.deepEqual(await readSavedDetector(SAMPLE_DETECTOR), { method: 'KSDrift', kind: 'drift' });
    const dir = await mkdtemp(join(tmpdir(), 'mc-saved-'));
    try {
      await assert.rejects(
        readSavedDetector(dir),
        /has no config\.toml — give the folder alibi-detect's save_detector/,
      );
      await writeFile(join(dir, 'config.toml'), 'name = "IForest"\n');
      assert.deepEqual(await readSavedDetector(dir), { method: 'IForest', kind: 'outlier' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('bring-your-own detectors: the provisioned environment', () => {
  it('looks for the environment tools/install-alibi-detect.sh makes, at the versions it pins', () => {
    const pins = pinnedVersions();
    assert.equal(ALIBI_DETECT_VERSION, pins.ALIBI_DETECT_VERSION);
    assert.equal(MLSERVER_ALIBI_DETECT_VERSION, pins.MLSERVER_ALIBI_DETECT_VERSION);
    assert.equal(
      alibiDetectEnvDir('/cache', [3, 11, 7]),
      `/cache/python/alibi-detect-${pins.ALIBI_DETECT_VERSION}-mlserver-${pins.MLSERVER_VERSION}-py311`,
    );
  });
});

describe('bring-your-own detectors: the workspace check', () => {
  it('accepts the shipped sample detector and names the line of a folder that is not a saved detector', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'mc-ws-'));
    try {
      await cp(join(import.meta.dirname, '../../sample-models'), ws, { recursive: true });
      const file = join(ws, 'experiments/propensity.yaml');
      const text = await readFile(file, 'utf8');
      await writeFile(
        file,
        text.replace(
          '    window: 1000\n',
          [
            '    window: 1000',
            '    detectors:',
            '      - { name: ks, path: ../detectors/propensity-ks, features: [age, basket_value] }',
            '      - { name: gone, path: ../detectors/missing, features: [age] }',
            '      - { name: empty, path: ../data, features: [age] }',
            '',
          ].join('\n'),
        ),
      );
      const scan = await scanWorkspace(ws);
      const line = text.split('\n').findIndex((l) => l.includes('window: 1000')) + 1;
      assert.deepEqual(
        scan.problems.map((p) => [p.field, p.line, p.message]),
        [
          [
            'spec.drift.detectors[1].path',
            line + 3,
            'the detector folder ../detectors/missing does not exist (paths are relative to the experiment file)',
          ],
          [
            'spec.drift.detectors[2].path',
            line + 4,
            "../data has no config.toml — give the folder alibi-detect's save_detector(detector, folder) wrote",
          ],
        ],
      );
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });
});

describe('bring-your-own detectors: Alibi Detect answers through MLServer', () => {
  it('reads a drift answer: is_drift, one p-value and distance per feature, the threshold', () => {
    const answer = {
      model_name: 'shop-detector-ks',
      outputs: [
        { name: 'is_drift', shape: [], datatype: 'INT64', data: [1] },
        { name: 'distance', shape: [2], datatype: 'FP32', data: [0.04, 0.61] },
        { name: 'p_val', shape: [2], datatype: 'FP32', data: [0.71, 1e-30] },
        { name: 'threshold', shape: [], datatype: 'FP64', data: [0.0005] },
      ],
      parameters: { headers: { 'x-seldon-alibi-type': 'drift', 'x-seldon-alibi-method': 'ks' } },
    };
    assert.deepEqual(parseDetectorAnswer(answer, 'drift'), {
      method: 'ks',
      isDrift: 1,
      pValues: [0.71, 1e-30],
      distances: [0.04, 0.61],
      threshold: 0.0005,
    });
  });

  it('reads an outlier answer as a count and the largest and mean instance score', () => {
    const answer = {
      outputs: [
        { name: 'is_outlier', shape: [4], datatype: 'INT64', data: [0, 1, 0, 1] },
        { name: 'instance_score', shape: [4], datatype: 'FP64', data: [0.1, 0.9, 0.2, 0.8] },
      ],
    };
    assert.deepEqual(parseDetectorAnswer(answer, 'outlier'), { outliers: 2, maxScore: 0.9, meanScore: 0.5 });
  });

  it('says which kind the answer does not fit', () => {
    assert.throws(
      () => parseDetectorAnswer({ outputs: [] }, 'drift'),
      /without is_drift — is it a drift detector\?/,
    );
    assert.throws(
      () => parseDetectorAnswer({ outputs: [{ name: 'is_drift', data: [0] }] }, 'outlier'),
      /without is_outlier/,
    );
  });
});

describe('bring-your-own detectors: verdicts in the report and the rollout gate', () => {
  const reference = parseCsv('age,basket_value\n30,50\n40,60\n50,70\n');
  const batch = (
    variant: string,
    ts: number,
    isDrift: 0 | 1,
    extra: Partial<DetectorEvent> = {},
  ): DetectorEvent => ({
    type: 'detector',
    ts,
    experiment: 'shop',
    detector: 'ks',
    variant,
    rows: 200,
    from: ts - 1000,
    to: ts - 1,
    result: { isDrift, pValues: isDrift ? [0.4, 1e-9] : [0.4, 0.3], threshold: 0.0005, method: 'ks' },
    ...extra,
  });

  function builderFor(gate: boolean): ReportBuilder {
    const exp = parseExperiment(
      experiment(`      - { name: ks, path: d, features: [age, basket_value], gate: ${gate} }\n`),
      'exp.yaml',
    );
    return new ReportBuilder(exp, { reference });
  }

  it('keeps the latest verdict per variant with counts of judged, flagged and failed batches', () => {
    const b = builderFor(false);
    b.ingest(batch('v1', 1000, 0));
    b.ingest(batch('v1', 2000, 1));
    b.ingest(batch('v1', 3000, 0, { result: undefined, error: 'no answer within 30 s' }));
    b.ingest(batch('v2', 2500, 1));
    b.ingest(batch('v2', 2600, 1, { detector: 'gone' }));
    const d = b.report(4000).drift!.detectors!;
    assert.deepEqual(d.settings, [
      { detector: 'ks', kind: 'drift', gate: false, batchSize: 200, features: ['age', 'basket_value'] },
    ]);
    const v1 = d.verdicts.find((v) => v.variant === 'v1')!;
    assert.deepEqual(
      [v1.flagged, v1.batches, v1.flaggedBatches, v1.failedBatches, v1.error],
      [false, 2, 1, 1, 'no answer within 30 s'],
    );
    const v2 = d.verdicts.find((v) => v.variant === 'v2')!;
    assert.deepEqual([v2.flagged, v2.batches, v2.result?.pValues], [true, 1, [0.4, 1e-9]]);
  });

  const spec: RolloutSpec = { ...DEFAULT_ROLLOUT, minSamplesPerStep: 100, minStepSeconds: 0 };
  function evaluateWith(gate: boolean, flagged: 0 | 1): ReturnType<typeof evaluateRollout> {
    const b = builderFor(gate);
    const now = 1_764_000_000_000;
    const started = startRollout(initialRollout('shop', 'v1', 'v2', now), spec, b.report(now), now);
    b.ingest({ type: 'weights', ts: now, experiment: 'shop', weights: started.weights!, source: 'rollout' });
    for (let i = 0; i < 40; i++)
      b.ingest({
        type: 'request',
        id: `r${i}`,
        ts: now + i,
        experiment: 'shop',
        variant: i % 20 === 0 ? 'v2' : 'v1',
        latencyMs: 5,
        status: 200,
      });
    b.ingest(batch('v2', now + 100, flagged));
    b.ingest(batch('v1', now + 100, 0));
    return evaluateRollout(started.state, spec, b.report(now + 1000), now + 1000);
  }

  it('pauses a rollout when a gating detector flags the candidate, and says which', () => {
    const e = evaluateWith(true, 1);
    assert.equal(e.state.phase, 'Paused');
    assert.match(e.state.reason, /^paused: detector ks@v2 \(drift in the last 200 requests\)/);
    assert.deepEqual(
      e.state.gates.find((g) => g.name === 'detector'),
      { name: 'detector', ok: false, detail: 'flagged: ks@v2 (drift in the last 200 requests)' },
    );
  });

  it('lets the rollout go on when the gating detector does not flag, or the detector does not gate', () => {
    const clean = evaluateWith(true, 0);
    assert.notEqual(clean.state.phase, 'Paused', clean.state.reason);
    assert.deepEqual(
      clean.state.gates.find((g) => g.name === 'detector'),
      {
        name: 'detector',
        ok: true,
        detail: 'no flag from ks',
      },
    );
    const shown = evaluateWith(false, 1);
    assert.notEqual(shown.state.phase, 'Paused', shown.state.reason);
    assert.equal(
      shown.state.gates.find((g) => g.name === 'detector'),
      undefined,
    );
  });

  it('says each verdict in words for the report text and the dashboard', () => {
    const b = builderFor(true);
    assert.deepEqual(detectorLines(b.report(0).drift!.detectors!), [
      'detector ks (drift, gates the rollout): no verdict yet — a variant sends a batch once it has 200 recorded requests',
    ]);
    b.ingest(batch('v2', 2000, 1));
    b.ingest(
      batch('v1', 2000, 0, { result: undefined, error: 'cannot reach http://127.0.0.1:9/v2/models/x/infer' }),
    );
    assert.deepEqual(detectorLines(b.report(3000).drift!.detectors!), [
      'detector ks (drift, gates the rollout) on v2: DRIFT in the last 200 requests · age p=0.40, basket_value p=<0.0001 · threshold 0.000500 · 1 batches judged, 1 flagged',
      'detector ks (drift, gates the rollout) on v1: could not judge the last batch — cannot reach http://127.0.0.1:9/v2/models/x/infer · 0 batches judged, 0 flagged, 1 failed',
    ]);
  });

  it('raises an alert for a flagged batch (an error when the detector gates) and for a detector that cannot judge', () => {
    const b = builderFor(true);
    b.ingest(batch('v2', 2000, 1));
    b.ingest(batch('v1', 2000, 0));
    b.ingest(batch('v1', 2100, 0, { result: undefined, error: 'no answer within 30 s' }));
    const alerts = alertsOf(b.report(3000)).filter((a) => a.key.startsWith('drift:detector:'));
    assert.deepEqual(alerts, [
      {
        key: 'drift:detector:ks:v2',
        kind: 'drift',
        severity: 'error',
        variant: 'v2',
        subject: 'detector:ks',
        message: 'v2: detector ks flags drift in the last 200 requests',
      },
      {
        key: 'drift:detector:ks:v1:error',
        kind: 'drift',
        severity: 'warning',
        variant: 'v1',
        subject: 'detector:ks:error',
        message: 'v1: detector ks could not judge its last batch — no answer within 30 s',
      },
    ]);
  });
});
