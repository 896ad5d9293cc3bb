import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { clusteredDiff, emptyClusterSums, moveUnit, type ClusterSums } from '../../src/core/stats';
import { assertClose } from '../harness/statsFixtures';

// Made by test/fixtures/units/clustered.py: statsmodels' cluster-robust (CR0) OLS of the
// request-level outcome on the arm, users as clusters, on seeded arms with heavy users.
interface Case {
  seed: number;
  kind: string;
  baseline: [number, number][];
  variant: [number, number][];
  estimate: number;
  se: number;
  pValue: number;
  ci95: [number, number];
  naiveSe: number;
}
const fixture = JSON.parse(
  readFileSync(path.join(__dirname, '../fixtures/units/clustered.json'), 'utf8'),
) as { cases: Case[] };

/** Folds users into an arm's sums one request at a time, as the report builder does. */
function sums(users: [number, number][]): ClusterSums {
  const s = emptyClusterSums();
  for (const [n, y] of users) {
    s.units++;
    // Requests arrive first (value 0), then their outcomes: the same moves the builder makes.
    for (let i = 0; i < n; i++) moveUnit(s, i, 0, i + 1, 0);
    moveUnit(s, n, 0, n, y);
  }
  return s;
}

describe('delta-method variance of request-level metrics under user-level assignment (against statsmodels cluster-robust OLS)', () => {
  it('matches the difference, its standard error, p and 95% interval to 1e-9 relative', () => {
    assert.ok(fixture.cases.length >= 6);
    for (const c of fixture.cases) {
      const r = clusteredDiff(sums(c.baseline), sums(c.variant));
      const label = `seed ${c.seed} (${c.kind})`;
      assertClose(r.estimate, c.estimate, 1e-9, 1e-12, `${label} estimate`);
      assertClose(r.se, c.se, 1e-9, 1e-12, `${label} se`);
      assertClose(r.pValue, c.pValue, 1e-7, 1e-300, `${label} p`);
      assertClose(r.ci95[0], c.ci95[0], 1e-9, 1e-12, `${label} ci lo`);
      assertClose(r.ci95[1], c.ci95[1], 1e-9, 1e-12, `${label} ci hi`);
    }
  });

  it('is wider than the i.i.d. error when heavy users dominate', () => {
    for (const c of fixture.cases.filter((x) => x.baseline.length >= 40))
      assert.ok(clusteredDiff(sums(c.baseline), sums(c.variant)).se > 1.5 * c.naiveSe, `seed ${c.seed}`);
  });

  it('reduces to the i.i.d. variance when every user sends one request', () => {
    const b = sums([
      [1, 1],
      [1, 0],
      [1, 0],
      [1, 1],
    ]);
    const v = sums([
      [1, 1],
      [1, 1],
      [1, 0],
      [1, 1],
    ]);
    const r = clusteredDiff(b, v);
    // p(1 − p)/n per arm (moments divided by n): 0.25/4 + 0.1875/4.
    assertClose(r.se, Math.sqrt(0.25 / 4 + 0.1875 / 4), 1e-12, 0, 'se');
    assert.deepEqual(clusteredDiff(emptyClusterSums(), v).ci95, [NaN, NaN]);
  });
});
