import assert from 'node:assert/strict';
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
import { sample } from '../fixtures/drift/rng';
import { assertClose, close, fixtures, num } from '../harness/driftFixtures';

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
