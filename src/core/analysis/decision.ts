/** The decision of one comparison — promote, rollback, continue or inconclusive — and the reason a person reads. */
import type { Decision, GuardrailResult } from '../../shared/report';
import { formatDuration, type TestPlan } from '../../shared/plan';
import type { VariantAggregates } from './variantAggregates';

/** Requests below this many per variant never trigger a guardrail decision (too noisy). */
export const GUARDRAIL_MIN_REQUESTS = 100;

/** What the decision of one candidate's comparison is made from. */
export interface DecisionInput {
  candidate: VariantAggregates;
  baseline: VariantAggregates;
  baselineRate: number;
  variantRate: number;
  /** The primary metric's kind: rates are percentages, means are numbers. */
  kind: 'proportion' | 'continuous';
  /** The candidate's always-valid p-value after the correction across candidates. */
  adjustedSequentialP: number;
  alpha: number;
  guardrails: readonly GuardrailResult[];
  srmMismatch: boolean;
  /** The units each arm has for the A/B (users with a sticky key); requests when absent. */
  baselineSamples?: number;
  candidateSamples?: number;
  /** What a sample is, for the reason: "users" with a sticky key (default "samples"). */
  samplesAre?: string;
  /** The test's plan at the current split and baseline (src/core/analysis/plan.ts); absent when none can be made. */
  plan?: TestPlan | undefined;
  /** Seconds until the candidate reaches plan.sequential.atPower at the current rate. */
  secondsLeft?: number | undefined;
}

/** Guardrails first, then the sample-ratio check, then the sequential test, then whether enough samples are in. */
export function decide(input: DecisionInput): { decision: Decision; reason: string } {
  const { candidate, baseline, baselineRate, variantRate, adjustedSequentialP, alpha, guardrails } = input;
  // A limit the baseline breaches too is the environment's problem, not the candidate's.
  const baselineBroken = new Set(
    guardrails.filter((g) => g.variant === baseline.name && !g.ok).map((g) => g.name),
  );
  const broken = guardrails.filter(
    (g) => g.variant === candidate.name && !g.ok && !baselineBroken.has(g.name),
  );
  if (broken.length > 0 && candidate.requests >= GUARDRAIL_MIN_REQUESTS) {
    const g = broken[0]!;
    return {
      decision: 'rollback',
      reason: `guardrail ${g.name} breached: ${g.detail ?? `${formatNumber(g.value)} > ${formatNumber(g.limit)}`}`,
    };
  }
  if (input.srmMismatch)
    return {
      decision: 'inconclusive',
      reason:
        'sample-ratio mismatch: the observed split does not match the weights, so the comparison cannot be trusted',
    };
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  const level = input.kind === 'proportion' ? pct : formatNumber;
  const better = input.kind === 'proportion' ? 'converts better' : 'has a higher mean';
  const worse = input.kind === 'proportion' ? 'converts worse' : 'has a lower mean';
  // A model guardrail still waiting for labels holds a promotion (./modelGuardrails.ts).
  const pending = guardrails.find((g) => g.variant === candidate.name && g.pending);
  if (adjustedSequentialP < alpha) {
    if (pending && variantRate > baselineRate)
      return { decision: 'continue', reason: `${candidate.name} ${better}, but ${pending.detail}` };
    return variantRate > baselineRate
      ? {
          decision: 'promote',
          reason: `${candidate.name} ${better} (${level(variantRate)} vs ${level(baselineRate)}), always-valid p = ${formatNumber(adjustedSequentialP)} < ${alpha}`,
        }
      : {
          decision: 'rollback',
          reason: `${candidate.name} ${worse} (${level(variantRate)} vs ${level(baselineRate)}), always-valid p = ${formatNumber(adjustedSequentialP)} < ${alpha}`,
        };
  }
  const plan = input.plan;
  const candidateSamples = input.candidateSamples ?? candidate.requests;
  const samples = input.samplesAre ?? 'samples';
  const count = (n: number): string => n.toLocaleString('en-US');
  if (!plan)
    return {
      decision: 'continue',
      reason: `not enough evidence yet: ${count(candidateSamples)} ${samples} in ${candidate.name}, too few to estimate how many are needed`,
    };
  const mde =
    input.kind === 'proportion'
      ? `±${(plan.mde.absolute * 100).toFixed(2)}pp`
      : `±${formatNumber(plan.mde.absolute)}`;
  // The always-valid test has detected an effect of the MDE with the planned power by plan.sequential.atPower.
  const needed = plan.sequential.atPower.candidate;
  if (candidateSamples >= needed) {
    return {
      decision: 'inconclusive',
      reason: `no significant difference after ${count(candidateSamples)} ${samples} in ${candidate.name} (the always-valid test detects ${mde} by ${count(needed)} with power ${plan.power})`,
    };
  }
  const eta =
    input.secondsLeft !== undefined && Number.isFinite(input.secondsLeft)
      ? `, ~${formatDuration(input.secondsLeft)} at the current rate`
      : '';
  return {
    decision: 'continue',
    reason: `not enough evidence yet: ${count(candidateSamples)} of ~${count(needed)} ${samples} in ${candidate.name} for the always-valid test to detect ${mde} with power ${plan.power}${eta}`,
  };
}

function formatNumber(x: number): string {
  return Math.abs(x) >= 0.001 || x === 0 ? String(Number(x.toPrecision(3))) : x.toExponential(1);
}
