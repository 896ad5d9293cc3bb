/**
 * Guardrails in words, the same in the verdict and on the timeline: "p95 latency 61 ms is
 * over the 50 ms guardrail".
 */
import { ms, shortPercent } from '../../../src/shared/format';

const GUARDRAIL_WORDS: Record<string, { label: string; fmt: (x: number) => string }> = {
  latencyP95Ms: { label: 'p95 latency', fmt: ms },
  errorRate: { label: 'error rate', fmt: shortPercent },
};

/** "p95 latency" for latencyP95Ms; unknown guardrails keep their own name. */
export function guardrailLabel(name: string): string {
  return GUARDRAIL_WORDS[name]?.label ?? name;
}

/** "p95 latency 61 ms is over the 50 ms guardrail". */
export function guardrailText(g: { name: string; value: number; limit: number; detail?: string }): string {
  // Model guardrails compare with the baseline and say so themselves.
  if (g.detail) return g.detail;
  const w = GUARDRAIL_WORDS[g.name] ?? { label: g.name, fmt: (x: number) => String(x) };
  return `${w.label} ${w.fmt(g.value)} is over the ${w.fmt(g.limit)} guardrail`;
}
