import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KsMethod } from '../../src/core/drift/ks';
import { ks2samp } from '../../src/core/drift/ks';
import { kstwoSf, smirnov } from '../../src/core/drift/kolmogorov';
import { chi2Categories, chi2Homogeneity } from '../../src/core/drift/chi2';
import {
  binCounts,
  jensenShannon,
  psi,
  quantileEdges,
  wasserstein,
  wassersteinNormed,
} from '../../src/core/drift/distances';
import { benjaminiHochberg, bonferroni, bonferroniThreshold } from '../../src/core/drift/corrections';
import type { DriftReport } from '../../src/shared/report';
import type { DriftSettings, ReferenceData } from '../../src/core/drift/detector';
import { DriftDetector, parseCsv } from '../../src/core/drift/detector';
import { TimeWindow } from '../../src/core/drift/window';
import { seededRandom } from '../../src/simulator/random';
import type { SampleSpec } from '../fixtures/drift/rng';
import { sample, uniforms } from '../fixtures/drift/rng';

type Num = number | 'NaN' | 'Infinity' | '-Infinity';
interface KsCase {
  name: string;
  a: SampleSpec;
  b: SampleSpec;
  method: KsMethod;
  statistic: Num;
  pvalue: Num;
  used: 'exact' | 'asymp';
}
interface Fixtures {
  scipy: string;
  numpy: string;
  ks: KsCase[];
  ksLiteral: { a: number[]; b: number[]; method: KsMethod; statistic: Num; pvalue: Num }[];
  kstwo: { n: number; x: number; sf: Num }[];
  smirnov: { n: number; x: number; sf: Num }[];
  chi2: { reference: number[]; current: number[]; statistic: Num; pvalue: Num; dof: number }[];
  distances: {
    name: string;
    a: SampleSpec;
    b: SampleSpec;
    edges: number[];
    refCounts: number[];
    curCounts: number[];
    psi: number;
    jensenshannon: number;
    wasserstein: number;
    wassersteinNormed: number;
  }[];
  categoricalDistances: { reference: number[]; current: number[]; psi: number; jensenshannon: number }[];
}

const fixtures = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/drift/drift_fixtures.json'), 'utf8'),
) as Fixtures;

const num = (v: Num): number => (typeof v === 'number' ? v : Number(v));

/** |actual - expected| <= rel·|expected| (or both NaN, or both equal). */
function close(actual: number, expected: number, rel: number, abs = 0): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (actual === expected) return true;
  return Math.abs(actual - expected) <= Math.max(rel * Math.abs(expected), abs);
}

function assertClose(actual: number, expected: number, rel: number, what: string, abs = 0): void {
  assert.ok(close(actual, expected, rel, abs), `${what}: got ${actual}, scipy ${expected}`);
}

describe('drift: two-sample Kolmogorov–Smirnov (scipy.stats.ks_2samp)', () => {
  it(`matches scipy ${fixtures.scipy} on ${fixtures.ks.length} seeded cases from 1 to 46,351 samples`, function () {
    this.timeout(120_000);
    const failures: string[] = [];
    for (const c of fixtures.ks) {
      const r = ks2samp(sample(c.a), sample(c.b), c.method);
      const okStat = close(r.statistic, num(c.statistic), 1e-9, 1e-12);
      const okP = close(r.pValue, num(c.pvalue), 1e-3);
      if (!okStat || !okP || r.method !== c.used) {
        failures.push(
          `${c.name} [${c.method}]: D ${r.statistic} vs ${num(c.statistic)}, p ${r.pValue} vs ${num(c.pvalue)}, ` +
            `method ${r.method} vs ${c.used}`,
        );
      }
    }
    assert.deepEqual(failures, []);
  });

  it('switches from exact to asymptotic above 10,000 samples, as scipy auto does', () => {
    const a = sample({ seed: 1, n: 10000, dist: 'normal' });
    const b = sample({ seed: 2, n: 10001, dist: 'normal' });
    assert.equal(ks2samp(a, a.subarray(0, 9000)).method, 'exact');
    assert.equal(ks2samp(a, b).method, 'asymp');
  });

  it('handles ties and literal samples like scipy', () => {
    for (const c of fixtures.ksLiteral) {
      const r = ks2samp(c.a, c.b, c.method);
      assertClose(r.statistic, num(c.statistic), 1e-9, `D ${JSON.stringify(c)}`);
      assertClose(r.pValue, num(c.pvalue), 1e-3, `p ${JSON.stringify(c)}`);
    }
  });

  it('propagates NaN and rejects nothing on empty samples (NaN result)', () => {
    assert.ok(Number.isNaN(ks2samp([1, NaN, 2], [1, 2]).pValue));
    assert.ok(Number.isNaN(ks2samp([], [1, 2]).statistic));
  });

  it('does not modify its inputs', () => {
    const a = [3, 1, 2];
    ks2samp(a, [0.5, 4]);
    assert.deepEqual(a, [3, 1, 2]);
  });

  it(`kstwo.sf matches scipy on ${fixtures.kstwo.length} (n, x) points across all Simard–L'Ecuyer branches`, () => {
    const failures: string[] = [];
    for (const c of fixtures.kstwo) {
      const got = kstwoSf(c.x, c.n);
      if (!close(got, num(c.sf), 1e-3, 1e-300)) failures.push(`n=${c.n} x=${c.x}: ${got} vs ${num(c.sf)}`);
    }
    assert.deepEqual(failures, []);
  });

  it('smirnov matches scipy.special.smirnov', () => {
    const failures: string[] = [];
    for (const c of fixtures.smirnov) {
      const got = smirnov(c.n, c.x);
      if (!close(got, num(c.sf), 1e-3, 1e-300)) failures.push(`n=${c.n} x=${c.x}: ${got} vs ${num(c.sf)}`);
    }
    assert.deepEqual(failures, []);
  });
});

describe('drift: chi-square homogeneity (scipy.stats.chi2_contingency, correction=False)', () => {
  it(`matches scipy on ${fixtures.chi2.length} 2×k tables (missing categories, huge counts, tiny p)`, () => {
    for (const c of fixtures.chi2) {
      const r = chi2Homogeneity(c.reference, c.current);
      const what = JSON.stringify([c.reference, c.current]);
      assertClose(r.statistic, num(c.statistic), 1e-9, `statistic ${what}`, 1e-12);
      assertClose(r.pValue, num(c.pvalue), 1e-3, `p ${what}`, 1e-300);
      assert.equal(r.dof, c.dof, `dof ${what}`);
    }
  });

  it('defines a single category as statistic 0, p 1, and an empty side as NaN', () => {
    assert.deepEqual(chi2Homogeneity([5], [7]), { statistic: 0, pValue: 1, dof: 0 });
    const empty = chi2Homogeneity([0, 0], [3, 4]);
    assert.ok(Number.isNaN(empty.statistic) && Number.isNaN(empty.pValue));
  });

  it('drops categories seen on neither side and aligns category maps', () => {
    const a = chi2Homogeneity([5, 0, 7], [3, 0, 9]);
    const b = chi2Homogeneity([5, 7], [3, 9]);
    assert.deepEqual(a, b);
    const m = chi2Categories(
      new Map([
        ['a', 5],
        ['b', 7],
      ]),
      new Map([
        ['b', 9],
        ['c', 2],
      ]),
    );
    assert.deepEqual(m, chi2Homogeneity([5, 7, 0], [0, 9, 2]));
  });
});

describe('drift: distances on reference-decile bins', () => {
  it(`PSI, Jensen–Shannon and normed Wasserstein match numpy/scipy on ${fixtures.distances.length} cases`, () => {
    for (const c of fixtures.distances) {
      const ref = sample(c.a);
      const cur = sample(c.b);
      const edges = quantileEdges(Float64Array.from(ref).sort());
      assert.deepEqual([...edges], c.edges, `edges ${c.name}`);
      const rc = binCounts(edges, ref);
      const cc = binCounts(edges, cur);
      assert.deepEqual([...rc], c.refCounts, `reference bins ${c.name}`);
      assert.deepEqual([...cc], c.curCounts, `current bins ${c.name}`);
      assertClose(psi(rc, cc), c.psi, 1e-9, `psi ${c.name}`, 1e-12);
      assertClose(jensenShannon(rc, cc), c.jensenshannon, 1e-9, `js ${c.name}`, 1e-12);
      assertClose(wasserstein(ref, cur), c.wasserstein, 1e-9, `wasserstein ${c.name}`, 1e-12);
      assertClose(wassersteinNormed(ref, cur), c.wassersteinNormed, 1e-9, `normed ${c.name}`, 1e-12);
    }
  });

  it('PSI and Jensen–Shannon on category counts match numpy/scipy', () => {
    for (const c of fixtures.categoricalDistances) {
      assertClose(psi(c.reference, c.current), c.psi, 1e-9, `psi ${JSON.stringify(c)}`, 1e-12);
      assertClose(
        jensenShannon(c.reference, c.current),
        c.jensenshannon,
        1e-9,
        `js ${JSON.stringify(c)}`,
        1e-12,
      );
    }
  });
});

describe('drift: multiple-testing corrections', () => {
  it('Bonferroni flags p < alpha / n (Alibi Detect)', () => {
    assert.equal(bonferroniThreshold(0.05, 4), 0.0125);
    assert.deepEqual(bonferroni([0.01, 0.0125, 0.2, 0.001], 0.05).drift, [true, false, false, true]);
  });

  it('Benjamini–Hochberg flags every p below the largest qualifying q·k/n', () => {
    // Sorted: 0.001 (<0.0125), 0.02 (<0.025), 0.03 (<0.0375), 0.2 (>=0.05) → cut-off 0.0375.
    const r = benjaminiHochberg([0.03, 0.2, 0.001, 0.02], 0.05);
    assertClose(r.threshold, 0.0375, 1e-12, 'cut-off');
    assert.deepEqual(r.drift, [true, false, true, true]);
    // Step-up: 0.04 < 0.05·4/4 rescues everything below it even though 0.03 > 0.05·2/4.
    assert.deepEqual(benjaminiHochberg([0.03, 0.031, 0.04, 0.039], 0.05).drift, [true, true, true, true]);
    assert.deepEqual(benjaminiHochberg([0.5, 0.9], 0.05).drift, [false, false]);
  });
});

describe('drift: time windows', () => {
  it('keeps the most recent rows by timestamp even when they arrive out of order', () => {
    const w = new TimeWindow(3, 'latest');
    const held = new Map<number, number>();
    for (const ts of [5, 1, 9, 7, 2, 8]) {
      const slot = w.admit(ts);
      if (slot >= 0) held.set(slot, ts);
    }
    assert.deepEqual(
      [...held.values()].sort((a, b) => a - b),
      [7, 8, 9],
    );
  });

  it('holds exactly what a sorted list would, in order, out of order and after switching', () => {
    const random = seededRandom(7);
    for (const keep of ['latest', 'earliest'] as const)
      for (const disorderFrom of [Infinity, 0, 40, 700])
        for (const capacity of [1, 5, 64]) {
          const w = new TimeWindow(capacity, keep);
          const held: { ts: number; seq: number }[] = new Array(capacity);
          const model: { ts: number; seq: number }[] = [];
          for (let i = 0; i < 1000; i++) {
            // In order (with ties) until `disorderFrom`, then anywhere in a wide range.
            const ts = i < disorderFrom ? Math.floor(i / 3) : Math.floor(random() * 2000);
            const row = { ts, seq: i };
            const evictedBefore = model.length === capacity;
            model.push(row);
            // The model: sort by (ts, arrival), keep the last (latest) or first (earliest) `capacity`.
            model.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
            const dropped =
              model.length > capacity ? (keep === 'latest' ? model.shift() : model.pop()) : undefined;
            const slot = w.admit(ts);
            if (dropped === row) assert.equal(slot, -1, `row ${i} should not be kept`);
            else {
              assert.ok(slot >= 0, `row ${i} should be kept`);
              if (evictedBefore) assert.equal(w.evictedTs, dropped!.ts);
              held[slot] = row;
            }
            const live = held
              .slice(0, w.length)
              .map((r) => r.seq)
              .sort((a, b) => a - b);
            assert.deepEqual(
              live,
              model.map((r) => r.seq).sort((a, b) => a - b),
              `after row ${i}`,
            );
          }
        }
  });

  it('keeps the earliest rows for a prediction reference', () => {
    const w = new TimeWindow(2, 'earliest');
    const held = new Map<number, number>();
    for (const ts of [5, 3, 9, 1]) {
      const slot = w.admit(ts);
      if (slot >= 0) held.set(slot, ts);
    }
    assert.deepEqual(
      [...held.values()].sort((a, b) => a - b),
      [1, 3],
    );
  });
});

describe('drift: reference CSV', () => {
  it('parses a header, quoted fields and numbers per column', () => {
    const data = parseCsv(
      '\ufeffage,plan,"note, quoted"\r\n41,gold,"a ""b"", c"\n7,,x\n\n3.5e1,silver,"multi\nline"\n',
    );
    assert.deepEqual(data.columns, ['age', 'plan', 'note, quoted']);
    assert.deepEqual(data.rows, [
      { age: 41, plan: 'gold', 'note, quoted': 'a "b", c' },
      { age: 7, 'note, quoted': 'x' },
      { age: 35, plan: 'silver', 'note, quoted': 'multi\nline' },
    ]);
  });

  it('keeps a column with any non-number as strings', () => {
    const data = parseCsv('code\n1\n2\nx3\n');
    assert.deepEqual(data.rows, [{ code: '1' }, { code: '2' }, { code: 'x3' }]);
  });
});

/** A reference of 2,000 rows: two normal features, one categorical. */
function referenceData(): ReferenceData {
  const u = uniforms(42);
  const normal = (): number => {
    let x = 0;
    for (let k = 0; k < 12; k++) x += u();
    return x - 6;
  };
  const plans = ['basic', 'gold', 'silver'];
  const rows = Array.from({ length: 2000 }, () => ({
    age: 40 + 10 * normal(),
    tenure: 12 + 4 * normal(),
    plan: plans[Math.floor(u() * 3)] as string,
  }));
  return { columns: ['age', 'tenure', 'plan'], rows };
}

const SETTINGS: DriftSettings = {
  reference: 'data/reference.csv',
  features: 'auto',
  test: 'auto',
  pValue: 0.05,
  correction: 'bonferroni',
  window: 500,
};

/** Feed n requests per variant; `shiftAge` moves the candidate's age by that many years. */
function feed(detector: DriftDetector, n: number, shiftAge: number, seed = 7, t0 = 0): void {
  const u = uniforms(seed);
  const normal = (): number => {
    let x = 0;
    for (let k = 0; k < 12; k++) x += u();
    return x - 6;
  };
  const plans = ['basic', 'gold', 'silver'];
  for (let i = 0; i < n; i++) {
    for (const [variant, shift] of [
      ['v1', 0],
      ['v2', shiftAge],
    ] as const) {
      detector.observe(
        variant,
        t0 + i,
        {
          age: 40 + 10 * normal() + shift,
          tenure: 12 + 4 * normal(),
          plan: plans[Math.floor(u() * 3)] as string,
        },
        { predict: u() < 0.3 ? 1 : 0, proba: u() },
      );
    }
  }
}

describe('drift: detector', () => {
  it('flags a shifted feature of the canary and nothing else', () => {
    const d = new DriftDetector(SETTINGS, referenceData());
    assert.deepEqual(d.plan(), [
      { name: 'age', type: 'numeric', test: 'ks' },
      { name: 'tenure', type: 'numeric', test: 'ks' },
      { name: 'plan', type: 'categorical', test: 'chi2' },
    ]);
    feed(d, 500, 5);
    const r = d.report();
    assert.equal(r.threshold, 0.05 / 3);
    assert.equal(r.features.length, 6);
    const drifted = r.features.filter((f) => f.drift).map((f) => `${f.variant}/${f.name}`);
    assert.deepEqual(drifted, ['v2/age']);
    assert.equal(r.datasetDrift, true);
    const age = r.features.find((f) => f.variant === 'v2' && f.name === 'age');
    assert.ok(age !== undefined && age.test === 'ks' && age.pValue < 1e-6);
  });

  it('reports no dataset drift when nothing moved', () => {
    const d = new DriftDetector(SETTINGS, referenceData());
    feed(d, 500, 0);
    const r = d.report();
    assert.equal(r.datasetDrift, false);
    assert.ok(r.features.every((f) => !f.drift));
  });

  it('reports no entry for a feature until the window holds 30 values', () => {
    const d = new DriftDetector(SETTINGS, referenceData());
    feed(d, 29, 5);
    assert.equal(d.report().features.length, 0);
    feed(d, 1, 5, 8, 29);
    assert.equal(d.report().features.length, 6);
  });

  it('Bonferroni and FDR decide differently on two borderline features', () => {
    // Reference: x/y half and half. Current: 225 and 224 x of 400 → chi-square p ≈ 0.0345 and
    // 0.0424. Bonferroni (0.05/2 = 0.025) flags neither; Benjamini–Hochberg (0.0424 < 0.05·2/2)
    // flags both.
    const reference: ReferenceData = {
      columns: ['a', 'b'],
      rows: Array.from({ length: 1000 }, (_, i) => ({ a: i % 2 ? 'x' : 'y', b: i % 2 ? 'x' : 'y' })),
    };
    const reports = (['bonferroni', 'fdr'] as const).map((correction) => {
      const d = new DriftDetector({ ...SETTINGS, correction, window: 400 }, reference);
      for (let i = 0; i < 400; i++)
        d.observe('v2', i, { a: i < 225 ? 'x' : 'y', b: i < 224 ? 'x' : 'y' }, undefined);
      return d.report();
    });
    const [bon, fdr] = reports as [DriftReport, DriftReport];
    assertClose(bon.features[0]?.pValue ?? NaN, 0.03449524948621726, 1e-3, 'p(a)');
    assertClose(bon.features[1]?.pValue ?? NaN, 0.04240093346425007, 1e-3, 'p(b)');
    assert.equal(bon.threshold, 0.025);
    assert.equal(fdr.threshold, 0.05);
    assert.deepEqual(
      bon.features.map((f) => f.drift),
      [false, false],
    );
    assert.deepEqual(
      fdr.features.map((f) => f.drift),
      [true, true],
    );
    assert.equal(bon.datasetDrift, false);
    assert.equal(fdr.datasetDrift, true);
  });

  it('evicts by timestamp: only the most recent window rows count', () => {
    const d = new DriftDetector({ ...SETTINGS, window: 200, features: ['age'] }, referenceData());
    // 300 shifted requests, then 200 unshifted ones with later timestamps: no drift left.
    feed(d, 300, 8, 1, 0);
    assert.equal(d.report().features.find((f) => f.variant === 'v2')?.drift, true);
    feed(d, 200, 0, 2, 1000);
    assert.equal(d.report().features.find((f) => f.variant === 'v2')?.drift, false);
    // Late shifted requests older than everything held are not kept.
    feed(d, 200, 8, 3, 500);
    assert.equal(d.report().features.find((f) => f.variant === 'v2')?.drift, false);
  });

  it('declared categorical features and string values use chi-square', () => {
    const ref: ReferenceData = {
      columns: ['region'],
      rows: Array.from({ length: 300 }, (_, i) => ({ region: i % 3 })),
    };
    const d = new DriftDetector(
      { ...SETTINGS, features: [{ name: 'region', type: 'categorical' }], window: 100 },
      ref,
    );
    for (let i = 0; i < 100; i++) d.observe('v1', i, { region: String(i % 2) }, undefined);
    const [f] = d.report().features;
    assert.ok(f !== undefined && f.test === 'chi2' && f.drift);
  });

  it('distance tests report their value, no p-value, and drift above their thresholds', () => {
    for (const test of ['psi', 'wasserstein', 'jensenshannon'] as const) {
      const d = new DriftDetector({ ...SETTINGS, test }, referenceData());
      feed(d, 500, 10);
      const r = d.report();
      const age2 = r.features.find((f) => f.variant === 'v2' && f.name === 'age');
      const age1 = r.features.find((f) => f.variant === 'v1' && f.name === 'age');
      assert.equal(age2?.test, test);
      assert.ok(Number.isNaN(age2?.pValue), `${test} has no p-value`);
      assert.equal(age2?.drift, true, `${test} flags the shift (${age2?.statistic})`);
      assert.equal(age1?.drift, false, `${test} does not flag v1 (${age1?.statistic})`);
      const plan = r.features.find((f) => f.name === 'plan');
      assert.equal(plan?.test, test === 'wasserstein' ? 'chi2' : test);
    }
  });

  it('prediction drift compares each variant with its own first window of scores', () => {
    const d = new DriftDetector({ ...SETTINGS, window: 200 }, referenceData());
    const u = uniforms(5);
    for (let i = 0; i < 200; i++) d.observe('v1', i, undefined, { proba: u() });
    for (let i = 200; i < 249; i++) d.observe('v1', i, undefined, { proba: u() });
    assert.equal(d.report().prediction.length, 0, 'no entry before 50 current scores');
    d.observe('v1', 249, undefined, { proba: u() });
    const [same] = d.report().prediction;
    assert.ok(same !== undefined && same.test === 'ks' && !same.drift);
    for (let i = 250; i < 450; i++) d.observe('v1', i, undefined, { proba: 0.5 + u() / 2 });
    const [moved] = d.report().prediction;
    assert.ok(moved !== undefined && moved.drift && moved.pValue < 1e-6);
  });

  it('prediction drift on classes uses chi-square when no score is given', () => {
    const d = new DriftDetector({ ...SETTINGS, window: 100 }, referenceData());
    for (let i = 0; i < 100; i++) d.observe('v1', i, undefined, { predict: i % 10 < 3 ? 'yes' : 'no' });
    for (let i = 100; i < 200; i++) d.observe('v1', i, undefined, { predict: i % 10 < 7 ? 'yes' : 'no' });
    const [p] = d.report().prediction;
    assert.ok(p !== undefined && p.test === 'chi2' && p.drift);
  });

  it('names the columns when a configured feature is not in the reference', () => {
    assert.throws(
      () => new DriftDetector({ ...SETTINGS, features: ['agee'] }, referenceData()),
      /drift feature "agee" is not a column of data\/reference.csv \(its columns: age, tenure, plan\)/,
    );
  });

  it('keeps memory bounded: 100,000 requests leave at most window rows per variant', () => {
    const d = new DriftDetector({ ...SETTINGS, window: 50, features: ['age'] }, referenceData());
    for (let i = 0; i < 100_000; i++) d.observe('v1', i, { age: 40 }, { proba: 0.5 });
    const r = d.report();
    assert.equal(r.window, 50);
    assert.equal(r.features.length, 1);
  });
});
