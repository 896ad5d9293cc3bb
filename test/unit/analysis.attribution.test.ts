import assert from 'node:assert/strict';
import { ReportBuilder } from '../../src/core/analysis/reportBuilder';
import { parseExperiment } from '../../src/core/spec/experiment';
import type { ExperimentEvent } from '../../src/shared/events';
import { seededRandom } from '../../src/core/stats/random';

// #15 item 5, attribution windows: a conversion arrives a while after its request, so under the
// old rule a young request counts as "not converted" until then. After a ramp the canary's
// requests are all young and the baseline's mostly old: an A/A experiment looks like a loss
// exactly when the rollout decides. Counting only units whose window has passed, with the
// feedback that came within it, removes that bias.

const HOUR = 3_600_000;
const START = 1_764_000_000_000;

const experiment = (window: string | undefined, sticky: boolean) =>
  parseExperiment(
    `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: windows }
spec:
  endpoint: windows
  variants: [{ name: v1, model: m1, weight: 100 }, { name: v2, model: m2, weight: 0 }]
${sticky ? '  routing: { sticky: { header: x-user-id } }\n' : ''}  metrics: { primary: { name: conversion, kind: proportion${window ? `, window: ${window}` : ''} } }
`,
    'windows.yaml',
  );

interface Scenario {
  /** Units per second (users with a sticky key, each with 1–3 requests a few minutes apart). */
  rate: number;
  /** The baseline alone until the ramp, then 50/50 until the report. */
  rampAt: number;
  reportAt: number;
  conversion: number;
  /** Mean of the exponential delay of a conversion. */
  meanDelay: number;
  sticky: boolean;
}

const SCENARIO: Scenario = {
  rate: 1.5,
  rampAt: 4 * HOUR,
  reportAt: 7 * HOUR,
  conversion: 0.1,
  meanDelay: 0.5 * HOUR,
  sticky: false,
};

/** An A/A log (both arms convert alike) in time order, up to the moment of the report. */
function simulate(seed: number, s: Scenario): ExperimentEvent[] {
  const random = seededRandom(seed);
  const timed: ExperimentEvent[] = [
    { type: 'weights', ts: START + s.rampAt, experiment: 'windows', weights: { v1: 50, v2: 50 } },
  ];
  const units = Math.floor((s.reportAt / 1000) * s.rate);
  for (let u = 0; u < units; u++) {
    const first = START + Math.floor((u / s.rate) * 1000);
    const variant = first < START + s.rampAt || random() < 0.5 ? 'v1' : 'v2';
    const requests = s.sticky ? 1 + Math.floor(random() * 3) : 1;
    for (let r = 0; r < requests; r++) {
      const ts = first + r * Math.floor(random() * 5 * 60_000);
      if (ts >= START + s.reportAt) break;
      const id = `${seed}-${u}-${r}`;
      timed.push({
        type: 'request',
        id,
        ts,
        experiment: 'windows',
        variant,
        latencyMs: 3,
        status: 200,
        ...(s.sticky ? { assignment: 'sticky' as const, user: `user-${u}` } : {}),
      });
      if (random() >= s.conversion) continue;
      const at = ts + Math.floor(-Math.log(1 - random()) * s.meanDelay);
      if (at < START + s.reportAt)
        timed.push({
          type: 'feedback',
          id,
          ts: at,
          experiment: 'windows',
          metric: 'conversion',
          value: 1,
          variant,
        });
    }
  }
  return timed.sort((a, b) => a.ts - b.ts);
}

function lift(events: readonly ExperimentEvent[], window: string | undefined, sticky: boolean) {
  const builder = new ReportBuilder(experiment(window, sticky));
  for (const e of events) builder.ingest(e);
  const report = builder.report(START + SCENARIO.reportAt);
  return { comparison: report.comparisons[0]!, attribution: report.attribution! };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) =>
  Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)) * (xs.length / (xs.length - 1)));

describe('attribution windows', function () {
  this.timeout(120_000);

  for (const sticky of [false, true]) {
    const unit = sticky ? 'users' : 'requests';
    it(`removes the bias of delayed conversions on a newly ramped arm (A/A, ${unit}, 12 seeds)`, () => {
      const seeds = 12;
      const old: number[] = [];
      const windowed: number[] = [];
      let oldRollbacks = 0;
      let windowedDecided = 0;
      for (let seed = 1; seed <= seeds; seed++) {
        const events = simulate(seed * 7919, { ...SCENARIO, sticky, rate: sticky ? 1 : SCENARIO.rate });
        const before = lift(events, undefined, sticky);
        const after = lift(events, '2h', sticky);
        old.push(before.comparison.relativeLift);
        windowed.push(after.comparison.relativeLift);
        if (before.comparison.decision === 'rollback') oldRollbacks++;
        if (after.comparison.decision === 'rollback' || after.comparison.decision === 'promote')
          windowedDecided++;
        assert.equal(before.attribution.rule, 'immediate');
        assert.equal(after.attribution.rule, 'window');
        const v2 = after.attribution.variants!.v2!;
        // The canary has run 3 h with a 2 h window: about a third of its units matured.
        assert.ok(v2.matured > 0 && v2.pending > v2.matured, `seed ${seed}: v2 ${JSON.stringify(v2)}`);
      }
      const se = sd(windowed) / Math.sqrt(seeds);
      console.log(
        `      ${unit}: mean relative lift, old rule ${(mean(old) * 100).toFixed(1)}% (rollback in ${oldRollbacks} of ${seeds}); ` +
          `2h window ${(mean(windowed) * 100).toFixed(1)}% ± ${(se * 100).toFixed(1)}% (s.e.), promote or rollback in ${windowedDecided} of ${seeds}`,
      );
      // True lift 0. The old rule's expected bias here is about −13% (a canary 0–3 h old has 83% of
      // its conversions in, the baseline about 95%: 4 h of old traffic and 3 h at half the rate,
      // (4 + 1.5 × 0.83) / 5.5).
      assert.ok(mean(old) < -0.08, `old rule: mean lift ${mean(old)} — the simulation shows no bias`);
      // The windowed mean is within 3 standard errors of 0 (and the standard error is small enough
      // for that to mean something: under the old rule's bias it would be 8 away).
      assert.ok(se < 0.025, `standard error ${se} too large to judge`);
      assert.ok(Math.abs(mean(windowed)) < 3 * se, `windowed: mean lift ${mean(windowed)} ± ${se}`);
    });
  }

  it('counts feedback within the window only, and matures units on the log clock alone', () => {
    const exp = experiment('10s', false);
    const b = new ReportBuilder(exp);
    const req = (id: string, ts: number, variant = 'v1'): ExperimentEvent => ({
      type: 'request',
      id,
      ts,
      experiment: 'windows',
      variant,
      latencyMs: 1,
      status: 200,
    });
    const fb = (id: string, ts: number): ExperimentEvent => ({
      type: 'feedback',
      id,
      ts,
      experiment: 'windows',
      metric: 'conversion',
      value: 1,
      variant: 'v1',
    });
    b.ingest(req('a', START));
    b.ingest(req('b', START + 1000));
    b.ingest(req('c', START + 5000));
    b.ingest(fb('a', START + 10_000)); // at the end of a's window: counts
    // After b's window: the clock passes the ends of a's and b's windows, they mature, then the
    // feedback comes too late to count.
    b.ingest(fb('b', START + 11_500));
    // No event has moved the clock past c's window, however late the report is asked for.
    let r = b.report(START + 100 * HOUR);
    assert.deepEqual(r.attribution!.variants!.v1, { matured: 2, pending: 1, overflow: 0, late: 1 });
    assert.equal(r.comparisons[0]!.baselineRate, 0.5);
    b.ingest(req('d', START + 15_001));
    r = b.report(START + 15_001);
    assert.deepEqual(r.attribution!.variants!.v1, { matured: 3, pending: 1, overflow: 0, late: 1 });
    assert.equal(r.comparisons[0]!.baselineRate, 1 / 3);
    // The per-variant feedback still records the late conversion.
    assert.equal(r.variants[0]!.feedback.conversion!.count, 2);
  });

  it('leaves units beyond the pending cap out of the A/B and says how many', () => {
    const b = new ReportBuilder(experiment('1m', false), { unitMemory: { pending: 3 } });
    for (let i = 0; i < 5; i++)
      b.ingest({
        type: 'request',
        id: `r${i}`,
        ts: START + i,
        experiment: 'windows',
        variant: 'v1',
        latencyMs: 1,
        status: 200,
      });
    b.ingest({ type: 'weights', ts: START + 61_003, experiment: 'windows', weights: { v1: 100 } });
    const r = b.report(START + 61_003);
    assert.deepEqual(r.attribution!.variants!.v1, { matured: 3, pending: 0, overflow: 2, late: 0 });
    assert.equal(r.variants[0]!.requests, 5);
  });

  it('refuses a window that is not a duration, saying how to write one', () => {
    assert.throws(
      () => experiment('24 hours', false),
      /metrics\.primary\.window.*"24 hours" is not a duration — write a number and a unit, like 500ms, 30s, 10m, 24h or 7d/s,
    );
    for (const ok of ['500ms', '30s', '10m', '24h', '7d', '1.5h'])
      assert.equal(experiment(ok, false).spec.metrics.primary.window, ok);
  });
});
