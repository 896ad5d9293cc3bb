import assert from 'node:assert/strict';
import type { DriftReport } from '../../src/shared/report';
import type { DriftSettings, ReferenceData } from '../../src/core/drift/detector';
import { DriftDetector, parseCsv } from '../../src/core/drift/detector';
import { uniforms } from '../fixtures/drift/rng';
import { assertClose } from '../harness/driftFixtures';

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
    assert.equal(r.threshold, 0.05 / 6, 'Bonferroni across 3 features × 2 variants');
    assert.equal(r.features.length, 6);
    const drifted = r.features.filter((f) => f.drift).map((f) => `${f.variant}/${f.name}`);
    assert.deepEqual(drifted, ['v2/age']);
    assert.deepEqual(r.variants, [
      { variant: 'v1', drift: false },
      { variant: 'v2', drift: true },
    ]);
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
