/** Prediction drift: a variant's current scored requests against its own earliest ones. */
import { alignCounts, chi2Homogeneity, countCategories } from './chi2';
import type { DriftTestResult } from './features';
import { ks2sampSorted } from './ks';
import type { VariantWindows } from './variantWindows';

/** KS on the scores when both windows hold enough of them, else chi-square on the predicted classes; undefined until the current window holds `minSamples`. */
export function testPrediction(state: VariantWindows, minSamples: number): DriftTestResult | undefined {
  const ref = state.predReference;
  const cur = state.predCurrent;
  if (cur.rows.length < minSamples) return undefined;
  const refProba = finiteSorted(ref.proba, ref.rows.length);
  const curProba = finiteSorted(cur.proba, cur.rows.length);
  if (refProba.length >= minSamples && curProba.length >= minSamples) {
    const r = ks2sampSorted(refProba, curProba, 'auto');
    return { test: 'ks', statistic: r.statistic, pValue: r.pValue };
  }
  const refCls = definedValues(ref.cls, ref.rows.length);
  const curCls = definedValues(cur.cls, cur.rows.length);
  if (refCls.length < minSamples || curCls.length < minSamples) return undefined;
  const [r, c] = alignCounts(countCategories(refCls), countCategories(curCls));
  const res = chi2Homogeneity(r, c);
  return { test: 'chi2', statistic: res.statistic, pValue: res.pValue };
}

function finiteSorted(values: Float64Array, size: number): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < size; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) out.push(v);
  }
  return Float64Array.from(out).sort();
}

function definedValues(values: (string | undefined)[], size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < size; i++) {
    const v = values[i];
    if (v !== undefined) out.push(v);
  }
  return out;
}
