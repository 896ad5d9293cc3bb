/**
 * A graph variant's steps as the dashboard and the Experiments tree draw them (docs/graphs.md):
 * in waves (a step sits one wave after the last step it reads from, so side-by-side steps share a
 * wave), each with its latency and errors, the slowest marked. Pure: the webview imports it too.
 */
import type { VariantReport } from './report';
import { count, ms } from './format';

export type ReportStep = NonNullable<VariantReport['steps']>[number];

/** The steps in waves; without `after` (older reports) one step per wave, in the report's order. */
export function stepWaves(steps: readonly ReportStep[]): ReportStep[][] {
  const wave = new Map<string, number>();
  const waves: ReportStep[][] = [];
  steps.forEach((step, i) => {
    const reads = step.after?.filter((name) => wave.has(name)) ?? [];
    const at = step.after ? Math.max(-1, ...reads.map((name) => wave.get(name)!)) + 1 : i;
    wave.set(step.name, at);
    (waves[at] ??= []).push(step);
  });
  return waves.filter((w) => w.length > 0);
}

/** `p50 9.9 ms · p95 11.6 ms · errors 4 of 40`. */
export function stepSummary(step: ReportStep): string {
  const latency =
    step.requests > step.errors
      ? `p50 ${ms(step.latencyMs.p50)} · p95 ${ms(step.latencyMs.p95)}`
      : 'no answer yet';
  return `${latency} · errors ${count(step.errors)} of ${count(step.requests)}`;
}

/** The step with the highest median latency (the one to look at first), when more than one answered. */
export function slowestStep(steps: readonly ReportStep[]): string | undefined {
  const answered = steps.filter((s) => s.requests > s.errors && Number.isFinite(s.latencyMs.p50));
  if (answered.length < 2) return undefined;
  return answered.reduce((a, b) => (b.latencyMs.p50 > a.latencyMs.p50 ? b : a)).name;
}
