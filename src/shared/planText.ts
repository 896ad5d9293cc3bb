/** A plan in words, the same in `model-canary plan`, the report's text and the dashboard. */
import { formatDuration, type PlanDurations, type TestPlan } from './plan';

const count = (n: number): string => (Number.isFinite(n) ? n.toLocaleString('en-US') : '—');
const num = (x: number): string => String(Number(x.toPrecision(3)));

/** The MDE as a person reads it: "+1.00pp (+10.0%)" for a rate, "+2.5 (+10.0%)" for a mean. */
export function mdeText(plan: TestPlan): string {
  const abs =
    plan.kind === 'proportion' ? `${(plan.mde.absolute * 100).toFixed(2)}pp` : num(plan.mde.absolute);
  const rel = Number.isFinite(plan.mde.relative) ? ` (+${(plan.mde.relative * 100).toFixed(1)}%)` : '';
  return `+${abs}${rel}`;
}

/** "95/5": the baseline's and the candidate's shares of the experiment, in percent. */
export function splitText(plan: TestPlan): string {
  const c = plan.candidateShare * 100;
  const b = c * plan.ratio;
  return `${num(b)}/${num(c)}`;
}

/** Lines describing a plan (`units`: "users" or "requests"), with durations when a rate is known. */
export function planLines(plan: TestPlan, units: string, durations?: PlanDurations): string[] {
  const s = plan.sequential;
  const d = (key: keyof Omit<PlanDurations, 'unitsPerSecond'>): string =>
    durations ? ` (${formatDuration(durations[key])})` : '';
  return [
    `split ${splitText(plan)}: MDE ${mdeText(plan)}${plan.mde.source === 'default' ? ' (default)' : ''}, α ${plan.alpha}, power ${plan.power}`,
    `fixed horizon: ${count(plan.fixedHorizon.candidate)} ${units} in the candidate, ${count(plan.fixedHorizon.baseline)} in the baseline, ${count(plan.fixedHorizon.total)} in all${d('fixedHorizon')}`,
    `always-valid test at the MDE: expected ${count(s.expected.total)} ${units} in all${d('expected')}, ` +
      `10th–90th percentile ${count(s.p10.total)}${d('p10')} to ${count(s.p90.total)}${d('p90')}; ` +
      `power ${plan.power} by ${count(s.atPower.total)}${d('atPower')}; ${Math.round(s.detectByFixedHorizon * 100)}% decide by the fixed horizon (${s.paths} simulated experiments)`,
  ];
}

/** One line for a report's comparison: the plan at the current split, and the expected time left. */
export function reportPlanLine(plan: TestPlan, units: string, left?: PlanDurations): string {
  const s = plan.sequential;
  const time = left
    ? `; expected ~${formatDuration(left.expected)} more at the current rate (10th–90th percentile ${formatDuration(left.p10)}–${formatDuration(left.p90)})`
    : '';
  return (
    `plan at ${splitText(plan)}: MDE ${mdeText(plan)}, α ${plan.alpha}, power ${plan.power} — fixed horizon ${count(plan.fixedHorizon.candidate)} ${units} in the candidate; ` +
    `the always-valid test decides at ~${count(s.expected.candidate)} expected (10th–90th percentile ${count(s.p10.candidate)}–${count(s.p90.candidate)})${time}`
  );
}
