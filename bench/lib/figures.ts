/**
 * Figures for the regression guard (bench/run.ts). A bench prints its figures for people as
 * before and also records them here; when `BENCH_FIGURES` names a file (the runner sets it),
 * each figure is appended to it as one JSON line. Run alone, a bench records nothing.
 *
 * A ratio compares two things measured side by side in the same run (the router and nginx, our
 * KS and scipy's), so it travels between machines where absolute times do not: only ratios are
 * guarded (bench/bounds.json), absolute figures are reported.
 */
import { appendFileSync } from 'node:fs';

export interface Figure {
  /** Stable id, `<bench>.<figure>`, the key of bench/bounds.json. */
  id: string;
  /** What it measures, for the table. */
  label: string;
  value: number;
  unit: string;
  /** Which way is better. */
  better: 'lower' | 'higher';
  /** A ratio of two measurements of the same run (guardable), or an absolute figure. */
  ratio: boolean;
  /** The target the issues set, when there is one. */
  target?: number;
}

/**
 * Flags that change how a bench measures (`--pin`: bench/lib/pin.ts; `--open-loop`:
 * bench/lib/vegeta.ts). A run with one of them prints its figures and records none, so the guard
 * and the README's table keep the usual layout's.
 */
const LAYOUT_FLAGS = ['--pin', '--open-loop'];
const usualLayout = !LAYOUT_FLAGS.some((flag) => process.argv.includes(flag));

/** Records one figure (see above); returns its value, so a bench can record as it prints. */
export function record(figure: Figure): number {
  const file = process.env.BENCH_FIGURES;
  if (file && usualLayout && Number.isFinite(figure.value))
    appendFileSync(file, `${JSON.stringify(figure)}\n`);
  return figure.value;
}

/** Whether the runner asked for the quick variant (fewer rounds, shorter loads). */
export const quick = process.env.BENCH_QUICK === '1';
