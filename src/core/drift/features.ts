/**
 * Feature drift: which reference columns are tested and how (planned once from the reference
 * data), and one feature's test of a variant's input window against its reference side.
 */
import { alignCounts, chi2Homogeneity, countCategories } from './chi2';
import {
  JENSEN_SHANNON_THRESHOLD,
  PSI_THRESHOLD,
  WASSERSTEIN_MIN_SCALE,
  WASSERSTEIN_THRESHOLD,
  binCounts,
  jensenShannon,
  populationStd,
  psi,
  quantileEdges,
  wassersteinSorted,
} from './distances';
import { ks2sampSorted } from './ks';
import type { ReferenceData } from './reference';
import type { DriftSettings, DriftTest, FeaturePlan, FeatureType } from './settings';
import type { VariantWindows } from './variantWindows';

interface NumericFeature extends FeaturePlan {
  type: 'numeric';
  column: number;
  refSorted: Float64Array;
  edges: Float64Array;
  refBins: Float64Array;
  refScale: number;
}

interface CategoricalFeature extends FeaturePlan {
  type: 'categorical';
  column: number;
  refCounts: Map<string, number>;
}

/** A planned feature with its reference side and its column in the variant's windows. */
export type Feature = NumericFeature | CategoricalFeature;

/** One test's outcome; `pValue` is NaN for distance tests. */
export type DriftTestResult = { test: DriftTest; statistic: number; pValue: number };

/** True for the tests that give a p-value (the rest are distances with a fixed threshold). */
export function hasPValue(test: string): boolean {
  return test === 'ks' || test === 'chi2';
}

/** The fixed drift threshold of a distance test. */
export function distanceThreshold(test: string): number {
  if (test === 'psi') return PSI_THRESHOLD;
  if (test === 'wasserstein') return WASSERSTEIN_THRESHOLD;
  return JENSEN_SHANNON_THRESHOLD;
}

/** A numeric input as a number; NaN (missing) unless it is a finite number or numeric string. */
export function toNumber(raw: unknown): number {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : NaN;
  if (typeof raw === 'string' && raw.trim() !== '') {
    const v = Number(raw);
    return Number.isFinite(v) ? v : NaN;
  }
  return NaN;
}

/** A categorical input as a string; undefined (missing) unless it is a string, number or boolean. */
export function toCategory(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  return undefined;
}

/** One feature's test on a variant's input window; undefined while it holds fewer than `minSamples` values. */
export function testFeature(
  f: Feature,
  state: VariantWindows,
  minSamples: number,
): DriftTestResult | undefined {
  const size = state.inputs.length;
  if (f.type === 'numeric') {
    const column = state.numeric[f.column] as Float64Array;
    let count = 0;
    for (let i = 0; i < size; i++) if (!Number.isNaN(column[i] as number)) count++;
    if (count < minSamples) return undefined;
    const cur = new Float64Array(count);
    let k = 0;
    for (let i = 0; i < size; i++) {
      const v = column[i] as number;
      if (!Number.isNaN(v)) cur[k++] = v;
    }
    cur.sort();
    switch (f.test) {
      case 'ks': {
        const r = ks2sampSorted(f.refSorted, cur, 'auto');
        return { test: 'ks', statistic: r.statistic, pValue: r.pValue };
      }
      case 'chi2': {
        const r = chi2Homogeneity(f.refBins, binCounts(f.edges, cur));
        return { test: 'chi2', statistic: r.statistic, pValue: r.pValue };
      }
      case 'psi':
        return { test: 'psi', statistic: psi(f.refBins, binCounts(f.edges, cur)), pValue: NaN };
      case 'jensenshannon':
        return {
          test: 'jensenshannon',
          statistic: jensenShannon(f.refBins, binCounts(f.edges, cur)),
          pValue: NaN,
        };
      case 'wasserstein':
        return {
          test: 'wasserstein',
          statistic: wassersteinSorted(f.refSorted, cur) / f.refScale,
          pValue: NaN,
        };
    }
  }
  const column = state.categorical[f.column] as (string | undefined)[];
  const values: string[] = [];
  for (let i = 0; i < size; i++) {
    const v = column[i];
    if (v !== undefined) values.push(v);
  }
  if (values.length < minSamples) return undefined;
  const [ref, cur] = alignCounts(f.refCounts, countCategories(values));
  if (f.test === 'psi') return { test: 'psi', statistic: psi(ref, cur), pValue: NaN };
  if (f.test === 'jensenshannon')
    return { test: 'jensenshannon', statistic: jensenShannon(ref, cur), pValue: NaN };
  const r = chi2Homogeneity(ref, cur);
  return { test: 'chi2', statistic: r.statistic, pValue: r.pValue };
}

/** Resolve the configured features against the reference data and prepare each one's reference side. */
export function planFeatures(settings: DriftSettings, reference: ReferenceData): Feature[] {
  const requested: { name: string; type?: FeatureType; explicit: boolean }[] =
    settings.features === 'auto'
      ? reference.columns.map((name) => ({ name, explicit: false }))
      : settings.features.map((f) =>
          typeof f === 'string'
            ? { name: f, explicit: true }
            : { name: f.name, type: f.type, explicit: true },
        );
  const known = new Set(reference.columns);
  const features: Feature[] = [];
  let numericColumn = 0;
  let categoricalColumn = 0;
  for (const r of requested) {
    if (!known.has(r.name)) {
      throw new Error(
        `drift feature "${r.name}" is not a column of ${settings.reference} ` +
          `(its columns: ${reference.columns.join(', ') || 'none'}) — fix the name in drift.features`,
      );
    }
    const raw = reference.rows
      .map((row) => row[r.name] as unknown)
      .filter((v) => v !== undefined && v !== null);
    const type: FeatureType = r.type ?? (raw.every((v) => typeof v === 'number') ? 'numeric' : 'categorical');
    if (type === 'numeric') {
      const values = Float64Array.from(raw.map(toNumber).filter((v) => !Number.isNaN(v))).sort();
      if (values.length === 0) {
        if (!r.explicit) continue;
        throw new Error(`drift feature "${r.name}" has no numeric values in ${settings.reference}`);
      }
      const edges = quantileEdges(values);
      features.push({
        name: r.name,
        type,
        test: numericTest(settings.test),
        column: numericColumn++,
        refSorted: values,
        edges,
        refBins: binCounts(edges, values),
        refScale: Math.max(populationStd(values), WASSERSTEIN_MIN_SCALE),
      });
    } else {
      const values = raw.map(toCategory).filter((v): v is string => v !== undefined);
      if (values.length === 0) {
        if (!r.explicit) continue;
        throw new Error(`drift feature "${r.name}" has no values in ${settings.reference}`);
      }
      features.push({
        name: r.name,
        type,
        test: categoricalTest(settings.test),
        column: categoricalColumn++,
        refCounts: countCategories(values),
      });
    }
  }
  return features;
}

function numericTest(test: DriftSettings['test']): DriftTest {
  return test === 'auto' ? 'ks' : test;
}

function categoricalTest(test: DriftSettings['test']): DriftTest {
  return test === 'psi' || test === 'jensenshannon' ? test : 'chi2';
}
