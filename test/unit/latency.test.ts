import assert from 'node:assert/strict';
import { LatencyRecorder, VariantLatencies } from '../../src/core/metrics/latency';
import { uniforms } from '../fixtures/drift/rng';

/** Lognormal(mu, sigma) latencies in ms by Box–Muller on a seeded generator. */
function lognormal(n: number, seed: number, mu = 1.5, sigma = 1): Float64Array {
  const u = uniforms(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    out[i] = Math.exp(mu + sigma * z);
  }
  return out;
}

/** The exact order statistic at rank q·(n-1), the rank DDSketch answers for. */
function exactQuantile(sorted: Float64Array, q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

describe('latency sketches (DDSketch, 1% relative accuracy)', () => {
  it('p50/p95/p99 of 100k lognormal latencies are within 1% of the exact sorted quantiles', () => {
    const values = lognormal(100_000, 11);
    const r = new LatencyRecorder();
    values.forEach((v, i) => r.record(1_700_000_000_000 + i, v));
    const sorted = Float64Array.from(values).sort();
    const q = r.quantiles();
    for (const [name, p] of [
      ['p50', 0.5],
      ['p95', 0.95],
      ['p99', 0.99],
    ] as const) {
      const exact = exactQuantile(sorted, p);
      const rel = Math.abs(q[name] - exact) / exact;
      assert.ok(rel <= 0.01, `${name}: sketch ${q[name]}, exact ${exact}, relative error ${rel}`);
    }
    for (const p of [0.001, 0.1, 0.25, 0.75, 0.9, 0.999]) {
      const exact = exactQuantile(sorted, p);
      assert.ok(Math.abs(r.quantile(p) - exact) / exact <= 0.01, `q${p}`);
    }
    assert.equal(r.count, 100_000);
  });

  it('merging two recorders equals recording the union, in total and per bucket', () => {
    const a = lognormal(20_000, 1);
    const b = lognormal(30_000, 2, 2, 0.5);
    const ra = new LatencyRecorder();
    const rb = new LatencyRecorder();
    const all = new LatencyRecorder();
    a.forEach((v, i) => {
      ra.record(i * 10, v);
      all.record(i * 10, v);
    });
    b.forEach((v, i) => {
      rb.record(i * 7, v);
      all.record(i * 7, v);
    });
    ra.merge(rb);
    assert.deepEqual(ra.quantiles(), all.quantiles());
    assert.deepEqual(ra.series(), all.series());
    const sorted = Float64Array.from([...a, ...b]).sort();
    const exact = exactQuantile(sorted, 0.99);
    assert.ok(Math.abs(ra.quantiles().p99 - exact) / exact <= 0.01);
  });

  it('keeps per-bucket percentiles for charts, bounded to the newest buckets', () => {
    const r = new LatencyRecorder({ bucketMs: 1000, maxBuckets: 5 });
    for (let s = 0; s < 8; s++) for (let i = 0; i < 100; i++) r.record(s * 1000 + i, s + 1);
    const series = r.series();
    assert.deepEqual(
      series.map((b) => b.start),
      [3000, 4000, 5000, 6000, 7000],
    );
    assert.ok(series.every((b) => b.count === 100));
    assert.ok(Math.abs((series[0]?.p50 ?? 0) - 4) / 4 <= 0.01);
    // A late value older than every kept bucket still counts in the total.
    r.record(0, 1);
    assert.equal(r.series().length, 5);
    assert.equal(r.count, 801);
  });

  it('records per variant and reports NaN percentiles for a variant with no requests', () => {
    const v = new VariantLatencies({ bucketMs: 10_000 });
    v.record('v1', 0, 5);
    v.record('v2', 0, 50);
    v.record('v1', 0, Number.NaN);
    assert.deepEqual(v.variants(), ['v1', 'v2']);
    assert.ok(Math.abs(v.quantiles('v2').p50 - 50) / 50 <= 0.01);
    assert.ok(Number.isNaN(v.quantiles('v3').p95));
    assert.equal(v.recorder('v1').count, 1);
  });
});
