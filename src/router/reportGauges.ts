/**
 * The gauges read from the live report on each scrape: drift p-values, statistics and verdicts,
 * the SRM, the guardrails, the primary metric's rate and always-valid p-value, the rollout and
 * the shadow's agreement. Prometheus and the dashboard show the same numbers because both come
 * from the one report. Every label value comes from the experiment (its variants, its primary
 * metric, its drift features) or from a fixed list (rollout states), so the series per
 * experiment are bounded (docs/monitoring.md, "Cardinality").
 */
import { Gauge, type Registry } from 'prom-client';
import type { RolloutPhase } from '../core/rollout/state';
import { METRICS, ROLLOUT_STATES } from '../shared/metricNames';
import type { Report } from '../shared/report';

// Fails to compile when a rollout phase is added without a series for it.
const everyPhase: (typeof ROLLOUT_STATES)[number] = undefined as unknown as RolloutPhase;
void everyPhase;

/** Registers the report's gauges on `registry`; `reports` is called once per gauge per scrape (it is cached). */
export function registerReportGauges(registry: Registry, reports: () => Report[]): void {
  const registers = [registry];
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    fill: (set: (labels: Record<L, string>, value: number) => void, reports: Report[]) => void,
  ): void => {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        fill((labels, value) => this.set(labels as never, value), reports());
      },
    });
  };

  gauge(
    METRICS.driftPValue,
    'Drift test p-value per experiment, variant and feature ("prediction" for the model output); absent for distance tests, which have none.',
    ['experiment', 'variant', 'feature', 'test'],
    (set, rs) => {
      for (const r of rs) {
        for (const f of r.drift?.features ?? [])
          if (Number.isFinite(f.pValue))
            set({ experiment: r.experiment, variant: f.variant, feature: f.name, test: f.test }, f.pValue);
        for (const p of r.drift?.prediction ?? [])
          if (Number.isFinite(p.pValue))
            set(
              { experiment: r.experiment, variant: p.variant, feature: 'prediction', test: p.test },
              p.pValue,
            );
      }
    },
  );
  gauge(
    METRICS.driftStatistic,
    'Drift test statistic per experiment, variant and feature (KS D, chi-square, PSI, normed Wasserstein or Jensen-Shannon, as the test label says).',
    ['experiment', 'variant', 'feature', 'test'],
    (set, rs) => {
      for (const r of rs) {
        for (const f of r.drift?.features ?? [])
          set({ experiment: r.experiment, variant: f.variant, feature: f.name, test: f.test }, f.statistic);
        for (const p of r.drift?.prediction ?? [])
          set(
            { experiment: r.experiment, variant: p.variant, feature: 'prediction', test: p.test },
            p.statistic,
          );
      }
    },
  );
  gauge(
    METRICS.featureDrift,
    "Whether a feature of a variant drifts (1) or not (0), under the experiment's drift test, p-value and correction.",
    ['experiment', 'variant', 'feature', 'test'],
    (set, rs) => {
      for (const r of rs)
        for (const f of r.drift?.features ?? [])
          set(
            { experiment: r.experiment, variant: f.variant, feature: f.name, test: f.test },
            f.drift ? 1 : 0,
          );
    },
  );
  gauge(
    METRICS.driftDetected,
    'Whether input drift is detected on the experiment (dataset drift, 1) or not (0).',
    ['experiment'],
    (set, rs) => {
      for (const r of rs) if (r.drift) set({ experiment: r.experiment }, r.drift.datasetDrift ? 1 : 0);
    },
  );
  gauge(
    METRICS.srmPValue,
    'Sample-ratio-mismatch test p-value of the observed split against the weights.',
    ['experiment'],
    (set, rs) => {
      for (const r of rs) set({ experiment: r.experiment }, r.srm.pValue);
    },
  );
  gauge(
    METRICS.srmMismatch,
    'Whether the observed split mismatches the weights (1: p < 0.001).',
    ['experiment'],
    (set, rs) => {
      for (const r of rs) set({ experiment: r.experiment }, r.srm.mismatch ? 1 : 0);
    },
  );
  gauge(
    METRICS.guardrailBreached,
    'Whether a guardrail of the experiment is breached (1) or not (0), per variant.',
    ['experiment', 'variant', 'guardrail'],
    (set, rs) => {
      for (const r of rs)
        for (const g of r.guardrails)
          set({ experiment: r.experiment, variant: g.variant, guardrail: g.name }, g.ok ? 0 : 1);
    },
  );
  gauge(
    METRICS.primaryMetricRate,
    'The primary metric per unit (user or request) of each variant: the conversion rate of a proportion, the mean of a continuous metric.',
    ['experiment', 'variant', 'metric'],
    (set, rs) => {
      for (const r of rs) {
        const metric = r.comparisons[0]?.metric;
        if (!metric) continue;
        for (const c of r.comparisons) {
          set({ experiment: r.experiment, variant: c.baseline, metric }, c.baselineRate);
          set({ experiment: r.experiment, variant: c.variant, metric }, c.variantRate);
        }
      }
    },
  );
  gauge(
    METRICS.primaryMetricPValue,
    "Always-valid p-value (mixture SPRT) of each candidate's primary metric against the baseline; the rollout decides on it.",
    ['experiment', 'variant', 'metric'],
    (set, rs) => {
      for (const r of rs)
        for (const c of r.comparisons)
          set({ experiment: r.experiment, variant: c.variant, metric: c.metric }, c.sequentialPValue);
    },
  );
  gauge(
    METRICS.rolloutState,
    "The progressive rollout's state: 1 for the current one, 0 for the others (absent before a rollout starts).",
    ['experiment', 'state'],
    (set, rs) => {
      for (const r of rs)
        if (r.rollout)
          for (const state of ROLLOUT_STATES)
            set({ experiment: r.experiment, state }, r.rollout.state === state ? 1 : 0);
    },
  );
  gauge(
    METRICS.rolloutStep,
    "The rollout's current step: the candidate's target weight in percent (0 before the first step).",
    ['experiment', 'variant'],
    (set, rs) => {
      for (const r of rs)
        if (r.rollout)
          set(
            { experiment: r.experiment, variant: r.rollout.candidate },
            r.rollout.steps[r.rollout.stepIndex] ?? 0,
          );
    },
  );
  gauge(
    METRICS.shadowAgreement,
    "Share of mirrored requests whose predicted class matched the primary's.",
    ['experiment', 'variant'],
    (set, rs) => {
      for (const r of rs)
        if (r.shadow) set({ experiment: r.experiment, variant: r.shadow.variant }, r.shadow.agreement);
    },
  );
}
