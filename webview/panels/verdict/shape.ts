/**
 * "Can I promote?" in words: one line per candidate with the number that decides it and the
 * evidence, or what is missing before there is anything to decide. Pure: no DOM.
 */
import { formatDuration } from '../../../src/shared/plan';
import type { Comparison, Decision, Report } from '../../../src/shared/report';
import { count, interval, pValue, num, signedPercent } from '../../../src/shared/format';
import { feedbackCount, primaryMetric } from '../../variants';
import { guardrailText } from '../shared/guardrails';
import { feedbackHint, trafficHint, type RouterAddress } from '../shared/trafficHints';

export type Tone = 'good' | 'bad' | 'wait' | 'warn' | 'neutral';

/** One line of the verdict: a headline, the number that decides it, and the evidence. */
export interface Verdict {
  variant?: string;
  tone: Tone;
  /** "v2: promote? not yet" */
  headline: string;
  /** The deciding number in words: "1,940 of ~6,100 samples per arm". */
  deciding: string;
  /** The evidence: "conversion +18.9% (+3.9%, +36.1%)". */
  detail: string;
  /** The report's own reason, for the tooltip. */
  reason?: string;
}

function liftText(c: Comparison): string {
  return `${c.metric} ${signedPercent(c.relativeLift)} ${interval(c.relativeCi95)}`;
}

/** Pulls "1,940 of ~6,100" and the ETA out of the analysis's "not enough evidence" reason. */
export function samplesNeeded(reason: string): { have: string; need: string; eta?: string } | undefined {
  const m = /([\d,]+) of ~([\d,]+) (?:samples|users)/.exec(reason);
  if (!m) return undefined;
  const eta = /~(\d+) s at the current rate/.exec(reason);
  const seconds = eta ? Number(eta[1]) : NaN;
  const etaText = Number.isFinite(seconds)
    ? seconds < 90
      ? `~${seconds} s`
      : seconds < 5400
        ? `~${Math.round(seconds / 60)} min`
        : `~${(seconds / 3600).toFixed(1)} h`
    : undefined;
  return { have: m[1]!, need: m[2]!, ...(etaText ? { eta: etaText } : {}) };
}

/**
 * "Can I promote?" in words, one line per candidate, with the number that decides it. The
 * order of precedence follows the analysis: a breached guardrail, then SRM, then the test.
 */
export function verdicts(report: Report, ctx: RouterAddress = {}): Verdict[] {
  const candidates = report.variants.filter((v) => v.role === 'candidate');
  const baseline = report.variants.find((v) => v.role === 'baseline');
  const totalRequests = report.variants.reduce((n, v) => n + (num(v.requests) || 0), 0);
  if (totalRequests === 0)
    return [
      {
        tone: 'neutral',
        headline: 'no traffic yet',
        deciding: '0 requests',
        detail: trafficHint(report.experiment, ctx),
      },
    ];
  if (candidates.length === 0)
    return [
      {
        tone: 'neutral',
        headline: `${baseline?.name ?? 'the baseline'} serves all traffic`,
        deciding: 'no candidate',
        detail: 'add a candidate variant to the experiment and deploy it to compare',
      },
    ];
  const metric = primaryMetric(report);
  if (!metric || feedbackCount(report, metric) === 0)
    return [
      {
        tone: 'neutral',
        headline: 'no feedback yet',
        deciding: `${count(totalRequests)} requests, 0 outcomes`,
        detail: feedbackHint(report.experiment, ctx),
      },
    ];
  return report.comparisons.map((c) => verdictFor(report, c));
}

function verdictFor(report: Report, c: Comparison): Verdict {
  const reason = c.reason;
  const broken = report.guardrails.find((g) => g.variant === c.variant && !g.ok);
  if (c.decision === 'rollback' && broken)
    return {
      variant: c.variant,
      tone: 'bad',
      headline: `${c.variant}: roll back`,
      deciding: guardrailText(broken),
      detail: liftText(c),
      reason,
    };
  if (report.srm?.mismatch)
    return {
      variant: c.variant,
      tone: 'warn',
      headline: `${c.variant}: can't tell`,
      deciding: `SRM p = ${pValue(report.srm.pValue)}`,
      detail: 'the observed split does not match the weights — fix the routing before reading the results',
      reason,
    };
  const byDecision: Record<Decision, () => Verdict> = {
    promote: () => ({
      variant: c.variant,
      tone: 'good',
      headline: `${c.variant}: ready to promote`,
      deciding: `always-valid p = ${pValue(c.sequentialPValue)}`,
      detail: liftText(c),
      reason,
    }),
    rollback: () => ({
      variant: c.variant,
      tone: 'bad',
      headline: `${c.variant}: roll back`,
      deciding: `always-valid p = ${pValue(c.sequentialPValue)}`,
      detail: liftText(c),
      reason,
    }),
    continue: () => {
      const need = samplesNeeded(reason);
      // The always-valid test's expected time at the MDE (reports before it: the reason's fixed-horizon ETA).
      const t = c.timeToDecision;
      const eta =
        t && Number.isFinite(t.expected) ? `expected ~${formatDuration(t.expected)} more` : need?.eta;
      return {
        variant: c.variant,
        tone: 'wait',
        headline: `${c.variant}: promote? not yet`,
        deciding: need
          ? `${need.have} of ~${need.need} samples needed${eta ? ` (${eta} at the current rate)` : ''}`
          : reason,
        detail: liftText(c),
        reason,
      };
    },
    inconclusive: () => {
      const m = /after ([\d,]+) (samples|users)( per arm| in \S+)/.exec(reason);
      return {
        variant: c.variant,
        tone: 'neutral',
        headline: `${c.variant}: no difference`,
        deciding: m ? `no significant difference after ${m[1]} ${m[2]}${m[3]}` : reason,
        detail: liftText(c),
        reason,
      };
    },
  };
  return (byDecision[c.decision] ?? byDecision.continue)();
}

/** Whether the verdict is waiting for requests or feedback (so Simulate Traffic would help). */
export function waitsForTraffic(list: readonly Verdict[]): boolean {
  return (
    list.length === 1 && (list[0]!.headline === 'no traffic yet' || list[0]!.headline === 'no feedback yet')
  );
}
