/**
 * A full report over 10^6 events (target ≤ 1 s), beside a naive baseline measured in the
 * same run: the same counts from a plain two-pass aggregation with sort-based percentiles.
 * Prints figures and peak memory; asserts nothing.  node --import tsx bench/report.ts
 */
import { ReportBuilder } from '../src/core/analysis/reportBuilder';
import { parseExperiment } from '../src/core/spec/experiment';
import type { ExperimentEvent } from '../src/shared/events';
import { seededRandom } from '../src/core/stats/random';

const N = Number(process.env.EVENTS ?? 1_000_000);
const experiment = parseExperiment(
  `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: bench }
spec:
  endpoint: bench
  variants:
    - { name: v1, model: m1, role: baseline, weight: 95 }
    - { name: v2, model: m2, weight: 5 }
  metrics:
    primary: { name: conversion, kind: proportion }
    guardrails: { latencyP95Ms: { max: 50 }, errorRate: { max: 0.01 } }
`,
  'bench.yaml',
);

const random = seededRandom(7);
const events: ExperimentEvent[] = [];
let ts = 1_764_000_000_000;
for (let i = 0; events.length < N; i++) {
  ts += 1;
  const variant = random() < 0.95 ? 'v1' : 'v2';
  const id = `r${i}`;
  events.push({
    type: 'request',
    id,
    ts,
    experiment: 'bench',
    variant,
    latencyMs: 2 + 20 * random() ** 3,
    status: random() < 0.002 ? 502 : 200,
  });
  if (random() < 0.6)
    events.push({
      type: 'feedback',
      id,
      ts: ts + 1,
      experiment: 'bench',
      metric: 'conversion',
      value: random() < 0.1 ? 1 : 0,
    });
}
events.length = N;

function ours(): number {
  const t0 = performance.now();
  const b = new ReportBuilder(experiment);
  for (const e of events) b.ingest(e);
  const r = b.report(ts);
  if (r.variants.length !== 2) throw new Error('unexpected');
  return performance.now() - t0;
}

// The obvious implementation: collect, then count and sort.
function naive(): number {
  const t0 = performance.now();
  const variantOf = new Map<string, string>();
  const latencies: Record<string, number[]> = { v1: [], v2: [] };
  const latest = new Map<string, number>();
  for (const e of events) {
    if (e.type === 'request') {
      variantOf.set(e.id, e.variant);
      if (e.status < 500) latencies[e.variant]!.push(e.latencyMs);
    } else if (e.type === 'feedback') latest.set(e.id, e.value);
  }
  const conversions: Record<string, number> = { v1: 0, v2: 0 };
  for (const [id, v] of latest) if (v === 1) conversions[variantOf.get(id)!]!++;
  for (const l of Object.values(latencies)) {
    l.sort((a, b) => a - b);
    void [0.5, 0.95, 0.99].map((q) => l[Math.floor(q * (l.length - 1))]);
  }
  return performance.now() - t0;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runs = Number(process.env.RUNS ?? 3);
const a: number[] = [];
const b: number[] = [];
for (let i = 0; i < runs; i++) {
  a.push(ours());
  b.push(naive());
}
const heap = process.memoryUsage();
console.log(`events: ${N.toLocaleString('en-US')} (requests and feedback)`);
console.log(
  `report builder (ingest + report): ${median(a).toFixed(0)} ms   target ≤ 1000 ms   ${median(a) <= 1000 ? 'met' : `missed by ${(median(a) - 1000).toFixed(0)} ms`}`,
);
console.log(
  `naive baseline (counts + sorted percentiles, no statistics): ${median(b).toFixed(0)} ms   ratio ${(median(a) / median(b)).toFixed(2)}×`,
);
console.log(
  `peak RSS ${(heap.rss / 1e6).toFixed(0)} MB, heap used ${(heap.heapUsed / 1e6).toFixed(0)} MB (the events themselves included)`,
);
