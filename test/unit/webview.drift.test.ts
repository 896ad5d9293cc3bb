import assert from 'node:assert/strict';
import { driftLevel, heatmap, mergeDrift, pushDrift } from '../../webview/panels/drift/shape';
import { report } from './webviewReportFixture';

describe('webview shaping: drift heatmap', () => {
  const drift = {
    reference: 'data/reference.csv',
    window: 1000,
    correction: 'bonferroni' as const,
    threshold: 0.01,
    features: [
      { name: 'tenure', variant: 'v2', test: 'ks', statistic: 0.09, pValue: 0.0004, drift: true },
      { name: 'tenure', variant: 'v1', test: 'ks', statistic: 0.02, pValue: 0.41, drift: false },
      { name: 'income', variant: 'v1', test: 'ks', statistic: 0.05, pValue: 0.03, drift: false },
      { name: 'plan', variant: 'v2', test: 'psi', statistic: 0.04, pValue: NaN, drift: false },
    ],
    prediction: [],
    datasetDrift: true,
  };

  it('classifies p-values against the per-feature threshold', () => {
    assert.equal(driftLevel({ pValue: 0.0004, statistic: 0.1, drift: true }, 0.01), 'drift');
    assert.equal(driftLevel({ pValue: 0.005, statistic: 0.1, drift: false }, 0.01), 'drift');
    assert.equal(driftLevel({ pValue: 0.03, statistic: 0.1, drift: false }, 0.01), 'near');
    assert.equal(driftLevel({ pValue: 0.41, statistic: 0.1, drift: false }, 0.01), 'ok');
    assert.equal(driftLevel({ pValue: NaN, statistic: 0.04, drift: false }, 0.01), 'ok');
    assert.equal(
      driftLevel(
        { pValue: null as unknown as number, statistic: null as unknown as number, drift: false },
        0.01,
      ),
      'none',
    );
  });

  it('lays out features × variants in the dashboard order, with text and a full-precision title', () => {
    const map = heatmap(drift, ['v1', 'v2']);
    assert.deepEqual(map.features, ['tenure', 'income', 'plan']);
    assert.deepEqual(map.variants, ['v1', 'v2']);
    assert.deepEqual(
      map.rows.map((r) => r.map((c) => (c ? `${c.text}:${c.level}` : '-'))),
      [
        ['0.41:ok', '0.0004:drift'],
        ['0.030:near', '-'],
        ['-', 'psi 0.04:ok'],
      ],
    );
    assert.match(
      map.rows[0]![1]!.title,
      /p = 0\.0004, statistic 0\.09; threshold 0\.01 \(bonferroni\) — drifting/,
    );
  });

  it('keeps a bounded p-value history per feature and variant, once per report', () => {
    const r = report({ drift });
    let samples = pushDrift([], r, 1000);
    samples = pushDrift(samples, r, 1000); // same report time: no duplicate
    assert.equal(samples.length, 4);
    for (let t = 2000; t < 12_000; t += 1000) samples = pushDrift(samples, r, t, 5);
    assert.equal(samples.filter((s) => s.feature === 'tenure' && s.variant === 'v2').length, 5);
    assert.equal(samples.find((s) => s.feature === 'plan')?.pValue, null);
    const merged = mergeDrift([{ ts: 1, feature: 'tenure', variant: 'v2', pValue: 0.5 }], samples);
    assert.equal(merged[0]?.ts, 1);
  });
});
