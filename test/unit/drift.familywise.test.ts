import assert from 'node:assert/strict';
import type { DriftSettings, ReferenceData } from '../../src/core/drift/detector';
import { DriftDetector } from '../../src/core/drift/detector';
import { benjaminiHochbergAdjust } from '../../src/core/stats';
import { seededRandom, standardNormal } from '../../src/core/stats/random';

// #15 item 7: one correction across features × variants, so that datasetDrift holds its
// nominal level on A/A traffic however many variants there are.

const random = seededRandom(707);
const PLANS = ['basic', 'gold', 'silver'];
const row = () => ({
  age: 40 + 10 * standardNormal(random),
  tenure: 12 + 4 * standardNormal(random),
  plan: PLANS[Math.floor(random() * 3)]!,
});
const REFERENCE: ReferenceData = {
  columns: ['age', 'tenure', 'plan'],
  rows: Array.from({ length: 1000 }, row),
};

function settings(correction: 'bonferroni' | 'fdr'): DriftSettings {
  return { reference: 'ref.csv', features: 'auto', test: 'auto', pValue: 0.05, correction, window: 200 };
}

/** A detector fed 200 rows per variant from the reference's own distribution (no drift anywhere). */
function aaDetector(variants: readonly string[], correction: 'bonferroni' | 'fdr'): DriftDetector {
  const d = new DriftDetector(settings(correction), REFERENCE);
  for (let i = 0; i < 200; i++) for (const v of variants) d.observe(v, i, row(), undefined);
  return d;
}

describe('drift: one correction across features × variants', function () {
  this.timeout(120_000);

  for (const correction of ['bonferroni', 'fdr'] as const) {
    it(`keeps datasetDrift at or below 5% in 400 seeded A/A runs with 3 variants × 3 features (${correction})`, () => {
      const variants = ['v1', 'v2', 'v3'];
      const runs = 400;
      let alarms = 0;
      let perVariantAlarms = 0;
      for (let run = 0; run < runs; run++) {
        const r = aaDetector(variants, correction).report();
        assert.equal(r.features.length, 9);
        if (r.datasetDrift) alarms++;
        // The old rule corrected within each variant only: 0.05/3 per feature.
        if (r.features.some((f) => f.pValue < 0.05 / 3)) perVariantAlarms++;
      }
      const rate = alarms / runs;
      const old = perVariantAlarms / runs;
      console.log(
        `      A/A drift (${correction}), 3 variants × 3 features, ${runs} runs: datasetDrift ${(rate * 100).toFixed(1)}%; corrected per variant only ${(old * 100).toFixed(1)}%`,
      );
      assert.ok(rate <= 0.05, `datasetDrift rate ${rate}`);
      assert.ok(old > 0.05, `a per-variant correction should exceed the level here, got ${old}`);
    });
  }

  it('flags with Benjamini–Hochberg over the whole family (statsmodels fdr_bh through benjaminiHochbergAdjust)', () => {
    const d = new DriftDetector(settings('fdr'), REFERENCE);
    // v2's age moves a little, v3's a lot: discoveries are decided over all 9 p-values together.
    for (let i = 0; i < 200; i++) {
      d.observe('v1', i, row(), undefined);
      d.observe('v2', i, { ...row(), age: 40 + 10 * standardNormal(random) + 2.5 }, undefined);
      d.observe('v3', i, { ...row(), age: 40 + 10 * standardNormal(random) + 6 }, undefined);
    }
    const r = d.report();
    const q = benjaminiHochbergAdjust(r.features.map((f) => f.pValue));
    // Alibi Detect's strict comparison: a discovery when p is below its step-up cut-off, i.e. q-value < 0.05 here.
    assert.deepEqual(
      r.features.map((f) => f.drift),
      q.map((x) => x < 0.05),
    );
    assert.ok(r.features.some((f) => f.drift && f.variant === 'v3'));
    assert.deepEqual(
      r.variants?.map((v) => v.variant),
      ['v1', 'v2', 'v3'],
    );
    assert.equal(
      r.datasetDrift,
      r.variants?.some((v) => v.drift),
    );
  });
});
