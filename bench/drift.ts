/**
 * Cost of the drift tests and latency sketches, each beside a baseline measured in the same run.
 * Prints figures only; no assertions (tests do not time things).
 * Run: node --import tsx bench/drift.ts
 *
 * - KS on 1k×1k (target ≤ 1 ms): our ks2samp (copies, sorts, exact p-value) vs scipy's
 *   ks_2samp on the same samples, timed inside Python (no process start-up in the figure).
 * - Latency sketch insert: DDSketch accept() vs a naive baseline that stores every value and
 *   sorts once to read p50/p95/p99 (per value, amortized).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ks2samp } from '../src/core/drift/ks';
import { LatencyRecorder } from '../src/core/metrics/latency';
import { sample, uniforms } from '../test/fixtures/drift/rng';
import { record } from './lib/figures';

let sink = 0;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Median wall time of fn in microseconds over `runs` runs after a warm-up. */
function medianMicros(fn: () => number, runs: number): number {
  for (let i = 0; i < Math.min(200, runs); i++) sink += fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    sink += fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return median(times);
}

/** A Python interpreter that imports scipy: $MODEL_CANARY_PYTHON, the fixture venv, the MLServer envs, python3. */
function findPython(): { exe: string; scipy: string } | undefined {
  const candidates: string[] = [];
  if (process.env.MODEL_CANARY_PYTHON) candidates.push(process.env.MODEL_CANARY_PYTHON);
  candidates.push('/tmp/drift-venv/bin/python');
  for (const root of [join(homedir(), '.cache', 'model-canary'), join(process.cwd(), '.model-canary')]) {
    if (!existsSync(root)) continue;
    for (const entry of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      if (entry.endsWith(join('bin', 'python'))) candidates.push(join(root, entry));
    }
  }
  candidates.push('python3');
  for (const exe of candidates) {
    try {
      const v = execFileSync(exe, ['-c', 'import scipy; print(scipy.__version__)'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return { exe, scipy: v.trim() };
    } catch {
      // not this one
    }
  }
  return undefined;
}

const SCIPY_TIMER = `
import json, sys, time
import numpy as np
from scipy import stats
d = json.load(sys.stdin)
a = np.array(d["a"]); b = np.array(d["b"]); runs = d["runs"]
for _ in range(50): stats.ks_2samp(a, b)
ts = []
for _ in range(runs):
    t0 = time.perf_counter_ns(); stats.ks_2samp(a, b); ts.append(time.perf_counter_ns() - t0)
ts.sort()
print(ts[len(ts) // 2] / 1000)
`;

function ksFigures(): void {
  const a = sample({ seed: 1, n: 1000, dist: 'normal' });
  const b = sample({ seed: 2, n: 1000, dist: 'normal', loc: 0.05 });
  const ours = medianMicros(() => ks2samp(a, b).pValue, 3000);
  record({
    id: 'drift.ks',
    label: 'KS 1k×1k',
    value: ours,
    unit: 'µs',
    better: 'lower',
    ratio: false,
    target: 1000,
  });
  console.log(`KS 1k×1k (auto → exact), ours:            ${ours.toFixed(1)} µs median of 3000`);
  const python = findPython();
  if (python === undefined) {
    console.log('KS 1k×1k, scipy baseline:                 skipped (no python with scipy found)');
  } else {
    const out = execFileSync(python.exe, ['-c', SCIPY_TIMER], {
      input: JSON.stringify({ a: [...a], b: [...b], runs: 1000 }),
      encoding: 'utf8',
    });
    const scipyMicros = Number(out.trim());
    console.log(
      `KS 1k×1k, scipy ${python.scipy} ks_2samp:          ${scipyMicros.toFixed(1)} µs median of 1000 (${python.exe})`,
    );
    console.log(`KS 1k×1k, ratio scipy / ours:              ${(scipyMicros / ours).toFixed(1)}×`);
    record({
      id: 'drift.ksVsScipy',
      label: "KS 1k×1k: ours ÷ scipy's ks_2samp",
      value: ours / scipyMicros,
      unit: '×',
      better: 'lower',
      ratio: true,
    });
  }
  const c = sample({ seed: 3, n: 1500, dist: 'normal', loc: 0.05 });
  console.log(
    `KS 1k×1.5k (exact, unequal sizes), ours:   ${medianMicros(() => ks2samp(a, c).pValue, 500).toFixed(1)} µs`,
  );
  const big1 = sample({ seed: 4, n: 20000, dist: 'normal' });
  const big2 = sample({ seed: 5, n: 20000, dist: 'normal', loc: 0.02 });
  console.log(
    `KS 20k×20k (asymptotic), ours:             ${medianMicros(() => ks2samp(big1, big2).pValue, 100).toFixed(1)} µs`,
  );
}

function sketchFigures(): void {
  const n = 1_000_000;
  const u = uniforms(9);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    values[i] = Math.exp(1.5 + z);
  }
  const sketchNs: number[] = [];
  const naiveNs: number[] = [];
  for (let round = 0; round < 7; round++) {
    const r = new LatencyRecorder();
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) r.record(i, values[i] as number);
    const q = r.quantiles();
    sketchNs.push(Number(process.hrtime.bigint() - t0) / n);
    sink += q.p99;

    t0 = process.hrtime.bigint();
    const kept = new Float64Array(n);
    for (let i = 0; i < n; i++) kept[i] = values[i] as number;
    kept.sort();
    sink += (kept[Math.floor(0.5 * (n - 1))] as number) + (kept[Math.floor(0.99 * (n - 1))] as number);
    naiveNs.push(Number(process.hrtime.bigint() - t0) / n);
  }
  const s = median(sketchNs);
  const b = median(naiveNs);
  record({
    id: 'drift.sketchVsSort',
    label: 'DDSketch insert ÷ store-all-and-sort',
    value: s / b,
    unit: '×',
    better: 'lower',
    ratio: true,
  });
  console.log(
    `latency sketch insert (DDSketch 1%, total + 10 s buckets): ${s.toFixed(1)} ns/op (median of 7 rounds of 10^6)`,
  );
  console.log(`naive baseline (store all + sort once for p50/p99):        ${b.toFixed(1)} ns/op`);
  console.log(
    `ratio naive / sketch: ${(b / s).toFixed(2)}× (the sketch stays ~kB per variant; the baseline keeps 8 MB per 10^6)`,
  );
}

console.log(`drift and latency benchmarks (Node ${process.version})`);
ksFigures();
sketchFigures();
if (sink === 42) console.log('');
