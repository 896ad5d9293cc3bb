// The scipy/numpy reference values of test/fixtures/drift (made by make_drift_fixtures.py) and the
// tolerance check the drift tests compare against them with.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KsMethod } from '../../src/core/drift/ks';
import type { SampleSpec } from '../fixtures/drift/rng';

export type Num = number | 'NaN' | 'Infinity' | '-Infinity';
interface KsCase {
  name: string;
  a: SampleSpec;
  b: SampleSpec;
  method: KsMethod;
  statistic: Num;
  pvalue: Num;
  used: 'exact' | 'asymp';
}
export interface Fixtures {
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

export const fixtures = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/drift/drift_fixtures.json'), 'utf8'),
) as Fixtures;

export const num = (v: Num): number => (typeof v === 'number' ? v : Number(v));

/** |actual - expected| <= rel·|expected| (or both NaN, or both equal). */
export function close(actual: number, expected: number, rel: number, abs = 0): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (actual === expected) return true;
  return Math.abs(actual - expected) <= Math.max(rel * Math.abs(expected), abs);
}

export function assertClose(actual: number, expected: number, rel: number, what: string, abs = 0): void {
  assert.ok(close(actual, expected, rel, abs), `${what}: got ${actual}, scipy ${expected}`);
}
