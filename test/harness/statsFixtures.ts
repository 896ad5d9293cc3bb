// Reference values from scipy/statsmodels, made by test/fixtures/stats/make_stats_fixtures.py
// (its header records the library versions and the command). null in the JSON means NaN.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MomentSummary } from '../../src/core/stats';

export type Num = number | null;
export interface Fixtures {
  header: Record<string, string | number>;
  proportions: {
    label: string;
    xb: number;
    nb: number;
    xv: number;
    nv: number;
    alpha: number;
    z: number;
    pValue: number;
    newcombe: [Num, Num];
    relativeMethod: string;
    relative: [Num, Num];
    chanceToBeat: number;
  }[];
  welch: {
    label: string;
    alpha: number;
    a: MomentSummary;
    b: MomentSummary;
    t: number;
    df: number;
    pValue: number;
    diff: number;
    ci: [number, number];
  }[];
  moments: { label: string; values: number[]; split: number; n: number; mean: number; m2: number }[];
  srm: { label: string; observed: number[]; weights: number[]; chi2: number; pValue: number }[];
  multiple: { pValues: number[]; holm: number[]; bh: number[] }[];
  power: {
    baselineRate: number;
    absolute: number;
    alpha: number;
    power: number;
    ratio: number;
    nRaw: number;
  }[];
}

export const fixtures = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/stats/stats_fixtures.json'), 'utf8'),
) as Fixtures;

/** Asserts |actual − expected| ≤ max(rel·|expected|, abs); null expected means NaN. */
export function assertClose(actual: number, expected: Num, rel: number, abs: number, what: string): void {
  if (expected === null) {
    assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
    return;
  }
  const tolerance = Math.max(rel * Math.abs(expected), abs);
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: got ${actual}, expected ${expected} (difference ${Math.abs(actual - expected)} > ${tolerance})`,
  );
}
