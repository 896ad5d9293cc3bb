import assert from 'node:assert/strict';
import { ReportBuilder } from '../../src/core/analysis/reportBuilder';
import { parseEventLine } from '../../src/core/analysis/events';
import { formatReportText } from '../../src/core/analysis/format';
import { parseCsv } from '../../src/core/drift';
import { parseExperiment } from '../../src/core/spec/experiment';
import { excludedText } from '../../src/shared/format';
import type { ExperimentEvent, RequestEvent } from '../../src/shared/events';
import type { Report } from '../../src/shared/report';
import { seededRandom, standardNormal } from '../../src/core/stats/random';

// Experiment traffic only (#15 item 2): the split, the SRM, the A/B and the drift windows are
// computed on randomised requests; forced, debug and shadow calls are reported beside them.

const EXPERIMENT = parseExperiment(
  `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: traffic }
spec:
  endpoint: traffic
  variants:
    - { name: v1, model: m1, weight: 95 }
    - { name: v2, model: m2, weight: 5 }
  routing:
    debugHeaders: [x-smoke-test]
    mirror: { variant: v3, model: m3 }
  metrics: { primary: { name: conversion, kind: proportion } }
  drift: { reference: ref.csv, features: [age], window: 400, pValue: 0.05 }
`,
  'traffic.yaml',
);

const random = seededRandom(15);
const age = (mean: number): number => Math.round(mean + 10 * standardNormal(random));
const REFERENCE = parseCsv(['age', ...Array.from({ length: 1000 }, () => String(age(40)))].join('\n'));

interface Log {
  events: ExperimentEvent[];
  /** What the log holds, counted while it was made (the expected values). */
  randomised: Record<'v1' | 'v2', { requests: number; conversions: number }>;
  forced: number;
  debug: number;
  shadow: number;
  excludedFeedback: number;
}

/** 20k randomised requests at 95/5 converting at 10% in both arms, 3k forced to v2 converting at 50% with drifted ages, 300 smoke-test calls, a shadow call for every 40th. */
function makeLog(): Log {
  const log: Log = {
    events: [],
    randomised: { v1: { requests: 0, conversions: 0 }, v2: { requests: 0, conversions: 0 } },
    forced: 0,
    debug: 0,
    shadow: 0,
    excludedFeedback: 0,
  };
  let ts = 1_764_000_000_000;
  const request = (id: string, variant: string, extra: Partial<RequestEvent>, mean: number): void => {
    log.events.push({
      type: 'request',
      id,
      ts: ts++,
      experiment: 'traffic',
      variant,
      latencyMs: 5,
      status: 200,
      inputs: { age: age(mean) },
      outputs: { predict: 1 },
      ...extra,
    });
  };
  const convert = (id: string): void => {
    log.events.push({
      type: 'feedback',
      id,
      ts: ts++,
      experiment: 'traffic',
      metric: 'conversion',
      value: 1,
    });
  };
  for (let i = 0; i < 26_000; i++) {
    const u = random();
    if (i % 8 === 3 && log.forced < 3_000) {
      const id = `f-${i}`;
      request(id, 'v2', { assignment: 'forced' }, 60);
      log.forced++;
      if (random() < 0.5) {
        convert(id);
        log.excludedFeedback++;
      }
    } else if (i % 80 === 5 && log.debug < 300) {
      const id = `d-${i}`;
      request(id, 'v1', { assignment: 'debug', debugHeader: 'x-smoke-test' }, 40);
      log.debug++;
      convert(id);
      log.excludedFeedback++;
    } else if (log.randomised.v1.requests + log.randomised.v2.requests < 20_000) {
      const variant = u < 0.05 ? 'v2' : 'v1';
      const id = `r-${i}`;
      request(id, variant, { assignment: i % 2 ? 'sticky' : 'weighted' }, 40);
      log.randomised[variant].requests++;
      if (random() < 0.1) {
        convert(id);
        log.randomised[variant].conversions++;
      }
      if (i % 40 === 0) {
        request(id, 'v3', { assignment: 'shadow', shadow: true }, 40);
        log.shadow++;
      }
    }
  }
  return log;
}

function reportOf(events: readonly ExperimentEvent[]): Report {
  const builder = new ReportBuilder(EXPERIMENT, { reference: REFERENCE });
  for (const e of events) builder.ingest(e);
  return builder.report(1_764_100_000_000);
}

/** The same log as a router that predates the field wrote it: no `assignment`, no `debugHeader`. */
function withoutAssignment(events: readonly ExperimentEvent[]): ExperimentEvent[] {
  return events.map((e) => {
    if (e.type !== 'request') return e;
    const { assignment: _a, debugHeader: _d, ...old } = e;
    return old;
  });
}

describe('experiment traffic only: forced, debug and shadow requests are reported beside the experiment', () => {
  const log = makeLog();
  const report = reportOf(log.events);
  const old = reportOf(withoutAssignment(log.events));

  it('counts only randomised requests in the split and the conversion rates', () => {
    for (const name of ['v1', 'v2'] as const) {
      const v = report.variants.find((x) => x.name === name)!;
      const expected = log.randomised[name];
      assert.equal(v.requests, expected.requests, `${name} requests`);
      assert.equal(v.feedback.conversion?.rate, expected.conversions / expected.requests, `${name} rate`);
    }
    const c = report.comparisons[0]!;
    assert.equal(c.variantRate, log.randomised.v2.conversions / log.randomised.v2.requests);
  });

  it('tests the split of randomised requests only, so 3,000 forced calls fake no sample-ratio mismatch', () => {
    // Pearson's chi-square against 95/5, computed here from the counts the log was made with.
    const n1 = log.randomised.v1.requests;
    const n2 = log.randomised.v2.requests;
    const total = n1 + n2;
    const chi2 = (n1 - 0.95 * total) ** 2 / (0.95 * total) + (n2 - 0.05 * total) ** 2 / (0.05 * total);
    assert.ok(Math.abs(report.srm.chi2 - chi2) < 1e-9 * Math.max(1, chi2), `${report.srm.chi2} vs ${chi2}`);
    assert.equal(report.srm.mismatch, false, JSON.stringify(report.srm));
    // Read as an old log, the same requests are all counted and the split looks broken.
    assert.equal(old.srm.mismatch, true, JSON.stringify(old.srm));
    assert.ok(old.srm.pValue < 1e-20, `old-log SRM p ${old.srm.pValue}`);
  });

  it("keeps forced requests' drifted inputs out of the drift windows", () => {
    const ageAt = (r: Report, variant: string) =>
      r.drift!.features.find((f) => f.name === 'age' && f.variant === variant)!;
    assert.equal(ageAt(report, 'v2').drift, false, JSON.stringify(ageAt(report, 'v2')));
    assert.equal(ageAt(old, 'v2').drift, true, JSON.stringify(ageAt(old, 'v2')));
    assert.equal(report.drift!.datasetDrift, false);
  });

  it('reports what it left out, per reason, per variant and per debug header, with their feedback', () => {
    const x = report.excluded!;
    assert.equal(x.forced, log.forced);
    assert.equal(x.debug, log.debug);
    assert.equal(x.shadow, log.shadow);
    assert.equal(x.other, 0);
    assert.equal(x.feedback, log.excludedFeedback);
    assert.deepEqual(x.headers, { 'x-smoke-test': log.debug });
    assert.deepEqual(x.variants, {
      v1: { forced: 0, debug: log.debug, other: 0 },
      v2: { forced: log.forced, debug: 0, other: 0 },
    });
    assert.equal(report.shadow?.requests, log.shadow);
    const text = formatReportText(report);
    const n = (x: number): string => x.toLocaleString('en-US');
    assert.ok(
      text.includes(
        `${n(log.forced)} forced requests, ${n(log.debug)} debug requests (x-smoke-test), ${n(log.shadow)} shadow requests ` +
          `and ${n(log.excludedFeedback)} feedback events for them, excluded`,
      ),
      text,
    );
  });

  it('loads a log written before the field: such a request counts as randomised unless it is a shadow call', () => {
    const line = JSON.stringify(withoutAssignment([log.events[0]!])[0]);
    const parsed = parseEventLine(line);
    assert.ok(parsed.ok);
    assert.equal(old.excluded!.forced, 0);
    assert.equal(old.excluded!.shadow, log.shadow);
    assert.equal(
      old.variants.reduce((n, v) => n + v.requests, 0),
      log.randomised.v1.requests + log.randomised.v2.requests + log.forced + log.debug,
    );
  });

  it('refuses an assignment that is not a string, and leaves out one it does not know', () => {
    const bad = parseEventLine(
      '{"type":"request","id":"a","ts":1,"experiment":"traffic","variant":"v1","latencyMs":1,"status":200,"assignment":3}',
    );
    assert.deepEqual(bad, { ok: false, error: '"assignment" must be a string' });
    const future = parseEventLine(
      '{"type":"request","id":"a","ts":1,"experiment":"traffic","variant":"v1","latencyMs":1,"status":200,"assignment":"replayed"}',
    );
    assert.ok(future.ok);
    const r = reportOf([future.event]);
    assert.equal(r.variants[0]!.requests, 0);
    assert.equal(r.excluded!.other, 1);
  });

  it('says nothing was left out when nothing was', () => {
    const clean = reportOf(log.events.filter((e) => e.type !== 'request' || e.assignment === 'weighted'));
    assert.equal(excludedText(clean.excluded), undefined);
    assert.doesNotMatch(formatReportText(clean), /Experiment traffic only/);
  });
});

/** A one-variant experiment file with `routing` as given (YAML flow mapping). */
const withRouting = (routing: string) =>
  parseExperiment(
    `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: t }
spec:
  endpoint: t
  variants: [{ name: v1, model: m, weight: 1 }]
  routing: ${routing}
  metrics: { primary: { name: c, kind: proportion } }
`,
    't.yaml',
  );

describe('experiment file: routing.debugHeaders', () => {
  it('accepts header names and refuses anything else, naming the field', () => {
    assert.deepEqual(EXPERIMENT.spec.routing?.debugHeaders, ['x-smoke-test']);
    assert.throws(
      () => withRouting("{ debugHeaders: ['x smoke'] }"),
      /spec\.routing\.debugHeaders(\.|\[)0\]?.*HTTP header name/,
    );
  });
});

describe('experiment file: routing.scoreSample', () => {
  const withScores = (value: string) => withRouting(`{ scoreSample: ${value} }`);

  it('takes a share from 0 to 1 and refuses anything else, naming the field', () => {
    assert.equal(withScores('0.2').spec.routing?.scoreSample, 0.2);
    assert.equal(withScores('0').spec.routing?.scoreSample, 0);
    for (const bad of ['1.5', '-0.1', 'all'])
      assert.throws(() => withScores(bad), /spec\.routing\.scoreSample/, `scoreSample: ${bad}`);
  });
});
