import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReportBuilder } from '../../src/core/analysis/reportBuilder';
import { parseEventLine } from '../../src/core/analysis/events';
import { SpecError } from '../../src/core/spec/errors';
import { parseExperiment } from '../../src/core/spec/experiment';
import { AUC_BINS } from '../../src/core/stats/modelStats';
import type { ExperimentEvent } from '../../src/shared/events';
import type { ModelEstimate } from '../../src/shared/modelMetrics';
import { formatReportText } from '../../src/core/analysis/format';
import { modelMetricsTable } from '../../src/shared/modelMetricsFormat';
import { plain } from '../../src/shared/format';

// Model metrics from delayed ground truth (#15 item 8), against the independent Python
// reference in test/fixtures/model-metrics (scipy/statsmodels where they have the statistic,
// DeLong by Sun & Xu's midranks otherwise).

interface Arm {
  label: (number | string)[];
  predict: (number | string)[];
  proba?: number[];
}
interface Case {
  task: 'classification' | 'regression';
  seed: number;
  arms: Record<'v1' | 'v2', Arm>;
  expected: Record<'v1' | 'v2', Record<string, ModelEstimate> & { binTiedPairShare?: number }>;
  differences: Record<string, ModelEstimate>;
}
const FIXTURE = JSON.parse(
  readFileSync(join(__dirname, '../fixtures/model-metrics/model_metrics.json'), 'utf8'),
) as { bins: number; cases: Case[] };

const experiment = (model: string, guardrails = ''): ReturnType<typeof parseExperiment> =>
  parseExperiment(
    `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: quality }
spec:
  endpoint: quality
  variants:
    - { name: v1, model: m1, weight: 50 }
    - { name: v2, model: m2, weight: 50 }
  metrics:
    primary: { name: conversion, kind: proportion }
    model: ${model}
${guardrails}`,
    'quality.yaml',
  );

const T0 = 1_765_000_000_000;

/**
 * The case's requests with their recorded outputs, then labels: every 7th request first gets a
 * wrong label that a later one replaces (latest wins), and a forced request's label is excluded.
 */
function events(c: Case): ExperimentEvent[] {
  const out: ExperimentEvent[] = [];
  const labels: ExperimentEvent[] = [];
  let ts = T0;
  for (const variant of ['v1', 'v2'] as const) {
    const arm = c.arms[variant];
    arm.label.forEach((label, i) => {
      const id = `${variant}-${i}`;
      const outputs = { predict: arm.predict[i]!, ...(arm.proba ? { proba: arm.proba[i]! } : {}) };
      out.push({
        type: 'request',
        id,
        ts: ts++,
        experiment: 'quality',
        variant,
        latencyMs: 5,
        status: 200,
        assignment: 'weighted',
        outputs,
      });
      if (i % 7 === 0) {
        const wrong = c.task === 'regression' ? Number(label) + 100 : Number(label) === 1 ? 0 : 1;
        labels.push({ type: 'label', id, ts: ts++, experiment: 'quality', label: wrong, variant });
      }
      labels.push({ type: 'label', id, ts: ts + 1_000_000, experiment: 'quality', label, variant });
    });
  }
  out.push({
    type: 'request',
    id: 'forced-1',
    ts: ts++,
    experiment: 'quality',
    variant: 'v2',
    latencyMs: 5,
    status: 200,
    assignment: 'forced',
    outputs: { predict: 1, proba: 0.9 },
  });
  labels.push({ type: 'label', id: 'forced-1', ts: ts++, experiment: 'quality', label: 0, variant: 'v2' });
  return [...out, ...labels.sort((a, b) => a.ts - b.ts)];
}

function close(actual: ModelEstimate | undefined, expected: ModelEstimate, tol: number, what: string): void {
  assert.ok(actual, `${what} is missing`);
  assert.ok(Math.abs(actual.value - expected.value) <= tol, `${what}: ${actual.value} vs ${expected.value}`);
  for (const k of [0, 1] as const)
    assert.ok(
      Math.abs(actual.ci95[k] - expected.ci95[k]) <= tol,
      `${what} ci95[${k}]: ${actual.ci95[k]} vs ${expected.ci95[k]}`,
    );
}

describe('model metrics from labels', () => {
  it('bins AUC scores as the reference does', () => assert.equal(AUC_BINS, FIXTURE.bins));

  for (const c of FIXTURE.cases) {
    it(`matches the reference per variant and candidate − baseline (${c.task}, seed ${c.seed})`, () => {
      const model =
        c.task === 'classification' ? '{ task: classification, positiveClass: 1 }' : '{ task: regression }';
      const builder = new ReportBuilder(experiment(model));
      for (const e of events(c)) builder.ingest(e);
      const report = builder.report(T0 + 10_000_000);
      const m = report.modelMetrics!;
      assert.equal(m.task, c.task);
      assert.equal(m.excludedLabels, 1, 'the forced request’s label is counted beside');
      for (const variant of ['v1', 'v2'] as const) {
        const got = m.variants.find((v) => v.variant === variant)!;
        const n = c.arms[variant].label.length;
        assert.equal(got.labels, n, `${variant}: one label per request, the latest`);
        assert.equal(got.scored, n);
        for (const [metric, expected] of Object.entries(c.expected[variant])) {
          if (metric === 'aucRaw' || metric === 'binTiedPairShare') continue;
          close(got[metric as 'auc'], expected as ModelEstimate, 1e-9, `${variant} ${metric}`);
        }
        // Binning moves the AUC by at most half the share of positive–negative pairs sharing a bin.
        const raw = c.expected[variant].aucRaw;
        const share = c.expected[variant].binTiedPairShare;
        if (raw && share !== undefined)
          assert.ok(
            Math.abs(got.auc!.value - raw.value) <= share / 2 + 1e-12 && share < 0.01,
            `${variant} binned AUC ${got.auc!.value} vs raw ${raw.value} (tied share ${share})`,
          );
      }
      for (const [metric, expected] of Object.entries(c.differences)) {
        const d = m.differences.find((x) => x.metric === metric && x.variant === 'v2');
        assert.ok(d, `difference of ${metric}`);
        close({ value: d.difference, ci95: d.ci95 }, expected, 1e-9, `v2 − v1 ${metric}`);
      }
    });
  }

  it('reads label lines and still loads logs without them', () => {
    const line = parseEventLine(
      '{"type":"label","id":"r1","ts":1,"experiment":"quality","label":"yes","variant":"v1"}',
    );
    assert.ok(line.ok && line.event.type === 'label');
    const bad = parseEventLine('{"type":"label","id":"r1","ts":1,"experiment":"quality"}');
    assert.deepEqual(bad, { ok: false, error: 'label without a numeric or string "label"' });
    const builder = new ReportBuilder(experiment('{ task: classification }'));
    builder.ingest({
      type: 'request',
      id: 'a',
      ts: T0,
      experiment: 'quality',
      variant: 'v1',
      latencyMs: 1,
      status: 200,
    });
    const m = builder.report(T0).modelMetrics!;
    assert.equal(m.variants[0]!.labels, 0);
    assert.ok(Number.isNaN(m.variants[0]!.auc!.value));
    const regression = new ReportBuilder(experiment('{ task: regression }')).report(T0).modelMetrics;
    assert.equal(regression?.task, 'regression');
  });

  it('counts labels whose request recorded no prediction, without scoring them', () => {
    const builder = new ReportBuilder(experiment('{ task: classification }'));
    builder.ingest({
      type: 'request',
      id: 'a',
      ts: T0,
      experiment: 'quality',
      variant: 'v2',
      latencyMs: 1,
      status: 200,
    });
    builder.ingest({ type: 'label', id: 'a', ts: T0 + 1, experiment: 'quality', label: 1, variant: 'v2' });
    builder.ingest({ type: 'label', id: 'zz', ts: T0 + 1, experiment: 'quality', label: 1 });
    const m = builder.report(T0 + 2).modelMetrics!;
    const v2 = m.variants.find((v) => v.variant === 'v2')!;
    assert.deepEqual([v2.labels, v2.scored, m.unattributedLabels], [1, 0, 1]);
  });

  it('refuses model guardrails that do not fit the model, saying what to write', () => {
    assert.throws(
      () => experiment('{ task: regression }', '    guardrails: { model: { auc: { maxDrop: 0.01 } } }'),
      (err: unknown) =>
        err instanceof SpecError &&
        /auc is not a regression metric — a regression model has mae, rmse/.test(err.message),
    );
    assert.throws(
      () =>
        parseExperiment(
          `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: q }
spec:
  endpoint: q
  variants: [{ name: v1, model: m1, weight: 1 }]
  metrics:
    primary: { name: c, kind: proportion }
    guardrails: { model: { auc: { maxDrop: 0.01 } } }
`,
          'q.yaml',
        ),
      (err: unknown) =>
        err instanceof SpecError && /model guardrails need spec\.metrics\.model/.test(err.message),
    );
    assert.throws(() => experiment('{ task: ranking }'), SpecError);
  });

  it('shows per-variant metrics with intervals and candidate − baseline in the report text', () => {
    const c = FIXTURE.cases[1]!;
    const builder = new ReportBuilder(experiment('{ task: classification, positiveClass: 1 }'));
    for (const e of events(c)) builder.ingest(e);
    const report = builder.report(T0 + 10_000_000);
    const text = formatReportText(report);
    assert.match(text, /Model metrics from labels \(classification, positive class 1; value \(95% CI\)\):/);
    const auc = c.expected.v2.auc!;
    assert.ok(text.includes(`${plain(auc.value)} (${plain(auc.ci95[0])}, ${plain(auc.ci95[1])})`), text);
    assert.match(text, /v2 − v1: accuracy −0\.08 \(−0\.14, −0\.0192\), AUC −0\.107/);
    assert.match(text, /1 labels for excluded \(forced, debug\) requests set aside/);
    const empty = new ReportBuilder(experiment('{ task: regression }')).report(T0).modelMetrics!;
    const table = modelMetricsTable(empty);
    assert.deepEqual(table.header, ['variant', 'labels (scored)', 'MAE', 'RMSE']);
    assert.deepEqual(
      table.rows[0]!.cells.map((x) => x.text),
      ['0 (0)', '—', '—'],
    );
    assert.match(table.notes.join('\n'), /no labels yet — post ground truth/);
  });

  it('keeps predictions for a bounded number of recent requests: an older label is counted, not scored', () => {
    const builder = new ReportBuilder(experiment('{ task: classification }'), { idMemory: 1_000 });
    for (let i = 0; i < 5_000; i++)
      builder.ingest({
        type: 'request',
        id: `r${i}`,
        ts: T0 + i,
        experiment: 'quality',
        variant: 'v1',
        latencyMs: 1,
        status: 200,
        assignment: 'weighted',
        outputs: { predict: 1, proba: 0.8 },
      });
    builder.ingest({
      type: 'label',
      id: 'r0',
      ts: T0 + 6_000,
      experiment: 'quality',
      label: 1,
      variant: 'v1',
    });
    builder.ingest({
      type: 'label',
      id: 'r4999',
      ts: T0 + 6_000,
      experiment: 'quality',
      label: 1,
      variant: 'v1',
    });
    const v1 = builder.report(T0 + 7_000).modelMetrics!.variants[0]!;
    assert.deepEqual([v1.labels, v1.scored, v1.accuracy!.value], [2, 1, 1]);
  });

  it('scores a late label in its request’s run, never in the current one (analyze and the router alike)', () => {
    const log: ExperimentEvent[] = [
      { type: 'run', ts: T0, experiment: 'quality', run: 'r1', weights: { v1: 50, v2: 50 } },
      {
        type: 'request',
        id: 'a',
        ts: T0 + 1,
        experiment: 'quality',
        variant: 'v2',
        latencyMs: 1,
        status: 200,
        run: 'r1',
        outputs: { predict: 1, proba: 0.9 },
      },
      { type: 'run', ts: T0 + 2, experiment: 'quality', run: 'r2', weights: { v1: 50, v2: 50 } },
      { type: 'label', id: 'a', ts: T0 + 3, experiment: 'quality', label: 1, variant: 'v2', run: 'r1' },
    ];
    const labelsIn = (run: string): number => {
      const builder = new ReportBuilder(experiment('{ task: classification }'), { run });
      for (const e of log) builder.ingest(e);
      const v2 = builder.report(T0 + 4).modelMetrics!.variants.find((v) => v.variant === 'v2')!;
      return v2.scored;
    };
    assert.deepEqual([labelsIn('r1'), labelsIn('r2')], [1, 0]);
  });
});
