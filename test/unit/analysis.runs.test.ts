import assert from 'node:assert/strict';
import { ReportBuilder } from '../../src/core/analysis/reportBuilder';
import { parseEventLine } from '../../src/core/analysis/events';
import { parseExperiment } from '../../src/core/spec/experiment';
import type { ExperimentEvent, RunEvent } from '../../src/shared/events';

// #15 item 3, runs: a report covers one run of the experiment. A line's run is its `run` field,
// else the run started last before it; feedback without a run inside a run counts only for a
// request that run saw.

const experiment = parseExperiment(
  `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: runs }
spec:
  endpoint: runs
  variants: [{ name: v1, model: m1, weight: 50 }, { name: v2, model: m2, weight: 50 }]
  metrics: { primary: { name: conversion, kind: proportion } }
`,
  'runs.yaml',
);

let ts = 1_764_000_000_000;
const request = (id: string, variant: string, run?: string): ExperimentEvent => ({
  type: 'request',
  id,
  ts: ts++,
  experiment: 'runs',
  variant,
  latencyMs: 1,
  status: 200,
  ...(run ? { run } : {}),
});
const feedback = (id: string, variant?: string, run?: string): ExperimentEvent => ({
  type: 'feedback',
  id,
  ts: ts++,
  experiment: 'runs',
  metric: 'conversion',
  value: 1,
  ...(variant ? { variant } : {}),
  ...(run ? { run } : {}),
});
const runStart = (run: string, weights: Record<string, number>): ExperimentEvent => ({
  type: 'run',
  ts: ts++,
  experiment: 'runs',
  run,
  reason: 'deploy',
  weights,
});

const log: ExperimentEvent[] = [
  request('old-1', 'v1'), // before any run (an older log)
  runStart('r1', { v1: 50, v2: 50 }),
  request('a', 'v1', 'r1'),
  request('b', 'v2'), // untagged: belongs to r1 by position
  runStart('r2', { v1: 90, v2: 10 }),
  request('c', 'v1', 'r2'),
  feedback('a', 'v1', 'r1'), // late feedback of r1
  feedback('old-1', 'v1'), // late feedback of a request from before the runs
  feedback('c', 'v1', 'r2'),
];

function reportOf(run: string | undefined) {
  const b = new ReportBuilder(experiment, { run });
  for (const e of log) b.ingest(e);
  return b.report(ts);
}

describe('runs: a report covers one run of the experiment', () => {
  it('counts each request and feedback in its own run, by its run field or its position', () => {
    const counts = (run: string | undefined) => {
      const r = reportOf(run);
      return r.variants.map((v) => [v.requests, v.feedback.conversion?.count ?? 0]);
    };
    assert.deepEqual(counts(undefined), [
      [1, 0],
      [0, 0],
    ]);
    assert.deepEqual(counts('r1'), [
      [1, 1],
      [1, 0],
    ]);
    assert.deepEqual(counts('r2'), [
      [1, 1],
      [0, 0],
    ]);
  });

  it('starts a run with the weights in force and says which run it covers', () => {
    const r = reportOf('r2');
    assert.deepEqual(r.run, { id: 'r2', startedAt: log[4]!.ts, reason: 'deploy' });
    assert.deepEqual(
      r.variants.map((v) => v.weight),
      [90, 10],
    );
    // The SRM expects the run's own weights: one request on v1 at 90/10 is no mismatch.
    assert.equal(r.srm.mismatch, false);
    assert.equal(reportOf(undefined).run, undefined);
  });

  it('reads run lines, and refuses a run line without its id or weights', () => {
    const parsed = parseEventLine(JSON.stringify(log[1]));
    assert.ok(parsed.ok);
    assert.equal(parseEventLine('{"type":"run","ts":1,"experiment":"runs","weights":{}}').ok, false);
    assert.equal(parseEventLine('{"type":"run","ts":1,"experiment":"runs","run":"r"}').ok, false);
  });
});

// With router replicas every replica logs the run it adopts from the ConfigMap (the same id and
// start), so the leader's merged stream holds the run event once per replica, a late replica's
// (one that restarted after the deploy) after later events of the others.
describe('runs across replicas: the same run event from each replica is one run', () => {
  it("keeps the first start and the weights changed since, and counts every replica's requests", () => {
    const start = runStart('r3', { v1: 90, v2: 10 }) as RunEvent;
    const merged: ExperimentEvent[] = [
      start, // replica a
      request('x1', 'v1', 'r3'),
      { ...start }, // replica b, same line
      request('x2', 'v2', 'r3'),
      { type: 'weights', ts: ts++, experiment: 'runs', weights: { v1: 50, v2: 50 }, source: 'kubernetes' },
      { ...start, weights: { v1: 50, v2: 50 } }, // replica c, adopted late with the weights of then
      request('x3', 'v1', 'r3'),
      request('x4', 'v2', 'r3'),
    ];
    const b = new ReportBuilder(experiment, { run: 'r3' });
    for (const e of merged) b.ingest(e);
    const r = b.report(ts);
    assert.deepEqual(r.run, { id: 'r3', startedAt: start.ts, reason: 'deploy' });
    assert.deepEqual(
      r.variants.map((v) => [v.requests, v.weight]),
      [
        [2, 50],
        [2, 50],
      ],
    );
    assert.deepEqual(
      r.timeline?.weights.map((w) => [w.source, w.weights.v2]),
      [
        ['run', 10],
        ['kubernetes', 50],
      ],
    );
  });
});
