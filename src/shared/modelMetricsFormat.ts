/**
 * The report's model metrics as a table of text, for the CLI's report and the dashboard alike:
 * one row per variant (value and 95% interval per metric), then each candidate's difference to
 * the baseline. Pure: no DOM, no Node.
 */
import { count, DASH, exact, interval, plain } from './format';
import type { ModelEstimate, ModelMetricDifference, ModelMetricsReport } from './modelMetrics';

type Metric = ModelMetricDifference['metric'];

const NAMES: Record<Metric, string> = {
  accuracy: 'accuracy',
  auc: 'AUC',
  logLoss: 'log-loss',
  brier: 'Brier',
  mae: 'MAE',
  rmse: 'RMSE',
};

/** The metrics each task shows, in order. */
export function modelMetricNames(task: ModelMetricsReport['task']): Metric[] {
  return task === 'regression' ? ['mae', 'rmse'] : ['accuracy', 'auc', 'logLoss', 'brier'];
}

export interface ModelMetricsCell {
  text: string;
  /** Full precision, for a tooltip. */
  title: string;
}

export interface ModelMetricsTable {
  header: string[];
  rows: { variant: string; cells: ModelMetricsCell[] }[];
  /** "v2 − v1: AUC −0.031 (−0.052, −0.010), …" per candidate. */
  differences: string[];
  /** Labels set aside, and what the numbers need. */
  notes: string[];
}

const signed = (x: unknown): string => {
  const s = plain(x);
  return typeof x === 'number' && x > 0 ? `+${s}` : s;
};

function estimate(e: ModelEstimate | undefined): ModelMetricsCell {
  if (!e || !Number.isFinite(e.value ?? NaN))
    return { text: DASH, title: 'not computed yet (too few labels)' };
  const ci = interval(e.ci95, plain);
  return {
    text: ci === DASH ? plain(e.value) : `${plain(e.value)} ${ci}`,
    title: `${exact(e.value)}, 95% CI ${exact(e.ci95?.[0])} to ${exact(e.ci95?.[1])}`,
  };
}

/** The table of a report's model metrics. */
export function modelMetricsTable(m: ModelMetricsReport): ModelMetricsTable {
  const metrics = modelMetricNames(m.task);
  const rows = m.variants.map((v) => ({
    variant: v.variant,
    cells: [
      { text: `${count(v.labels)} (${count(v.scored)})`, title: `${v.labels} labels, ${v.scored} scored` },
      ...metrics.map((k) => estimate(v[k])),
    ],
  }));
  const byVariant = new Map<string, string[]>();
  for (const d of m.differences) {
    const list = byVariant.get(`${d.variant} − ${d.baseline}`) ?? [];
    list.push(`${NAMES[d.metric]} ${signed(d.difference)} ${interval(d.ci95, signed)}`);
    byVariant.set(`${d.variant} − ${d.baseline}`, list);
  }
  const notes: string[] = [];
  if (m.excludedLabels > 0)
    notes.push(`${count(m.excludedLabels)} labels for excluded (forced, debug) requests set aside`);
  if (m.unattributedLabels > 0)
    notes.push(`${count(m.unattributedLabels)} labels for requests outside this run or report`);
  if (m.variants.every((v) => v.labels === 0))
    notes.push(
      'no labels yet — post ground truth to POST /api/v1/experiments/{name}/labels or with model-canary label',
    );
  return {
    header: ['variant', 'labels (scored)', ...metrics.map((k) => NAMES[k])],
    rows,
    differences: [...byVariant].map(([pair, list]) => `${pair}: ${list.join(', ')}`),
    notes,
  };
}
