/**
 * The regression guard: a guarded ratio fails only when it is worse than its documented bound
 * by more than the noise measured over repeated runs (bench/bounds.json, `--calibrate`).
 */
import type { Figure } from './figures';

export interface Bounds {
  /** Why the guard exists and how the bounds were chosen (kept in the file for readers). */
  about: string;
  ratios: Record<
    string,
    {
      /** The documented bound: the target where it is met, else today's figure. */
      bound: number;
      /** Relative noise over repeated runs (0.2 = 20%), from `--calibrate`. */
      noise: number;
      why: string;
      calibrated?: string;
    }
  >;
}

export interface Verdict {
  ok: boolean;
  lines: string[];
}

/** The largest value a ratio may take (or smallest, when higher is better) before it fails. */
export function limitOf(better: Figure['better'], bound: number, noise: number): number {
  return better === 'lower' ? bound * (1 + noise) : bound * Math.max(0, 1 - noise);
}

export function guard(figures: readonly Figure[], bounds: Bounds): Verdict {
  const lines: string[] = [];
  let ok = true;
  for (const [id, b] of Object.entries(bounds.ratios)) {
    const f = figures.find((x) => x.id === id);
    if (!f) {
      ok = false;
      lines.push(`✗ ${id}: not measured — its bench did not record it (skipped, or a tool is missing)`);
      continue;
    }
    const limit = limitOf(f.better, b.bound, b.noise);
    const worse = f.better === 'lower' ? f.value > limit : f.value < limit;
    if (worse) ok = false;
    const cmp = f.better === 'lower' ? '≤' : '≥';
    lines.push(
      `${worse ? '✗' : '✓'} ${f.label}: ${f.value.toFixed(3)}${f.unit} (bound ${cmp} ${b.bound}${f.unit}, noise ±${Math.round(b.noise * 100)}%: fails past ${limit.toFixed(3)}${f.unit})`,
    );
  }
  lines.push(
    ok
      ? 'bench guard: every ratio within its bound'
      : 'bench guard: a ratio is worse than its bound (see ✗ above)',
  );
  return { ok, lines };
}
