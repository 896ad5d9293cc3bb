/**
 * `model-canary export --target grafana`: a Grafana dashboard for one experiment on the router's
 * metrics (src/shared/metricNames.ts), in Grafana's classic dashboard JSON model (Dashboard
 * settings → JSON Model; Import dashboard takes it as is). Rows: the split, latency, errors,
 * drift and the primary metric (conversion), then the SRM and the rollout.
 *
 * Every query is plain PromQL (no Grafana macros such as $__rate_interval), so promtool parses it
 * and the same expression works in Prometheus's own UI; the only variable is the data source.
 * Guardrails, when the experiment has them, are drawn as threshold lines.
 */
import type { Experiment } from '../core/spec/experiment';
import { METRICS } from '../shared/metricNames';

/** The classic JSON model's schemaVersion this dashboard is written in (Grafana 10 and later read it). */
export const GRAFANA_SCHEMA_VERSION = 39;

export interface GrafanaTarget {
  refId: string;
  expr: string;
  legendFormat: string;
  datasource: { type: 'prometheus'; uid: string };
}

export interface GrafanaPanel {
  id: number;
  type: 'timeseries' | 'stat' | 'row';
  title: string;
  description?: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: 'prometheus'; uid: string };
  targets?: GrafanaTarget[];
  fieldConfig?: { defaults: Record<string, unknown>; overrides: unknown[] };
  options?: Record<string, unknown>;
}

export interface GrafanaDashboard {
  id: null;
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: string;
  editable: boolean;
  graphTooltip: number;
  time: { from: string; to: string };
  timepicker: Record<string, unknown>;
  templating: { list: Record<string, unknown>[] };
  annotations: { list: unknown[] };
  refresh: string;
  schemaVersion: number;
  version: number;
  links: unknown[];
  panels: GrafanaPanel[];
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

interface PanelSpec {
  title: string;
  description: string;
  queries: [expr: string, legend: string][];
  unit: string;
  type?: 'timeseries' | 'stat';
  /** A guardrail drawn as a red threshold line. */
  threshold?: number;
  log?: boolean;
  max?: number;
}

/** The dashboard's uid: Grafana allows 8 to 40 characters. */
function uidOf(name: string): string {
  const uid = `model-canary-${name}`;
  if (uid.length <= 40) return uid;
  let h = 0;
  for (const c of name) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return `${uid.slice(0, 31)}-${h.toString(16).padStart(8, '0')}`;
}

/** The dashboard of one experiment; `rateWindow` is the range of its rate() queries (default 5m). */
export function grafanaDashboard(exp: Experiment, opts: { rateWindow?: string } = {}): GrafanaDashboard {
  const w = opts.rateWindow ?? '5m';
  const name = exp.metadata.name;
  const sel = `experiment="${name}"`;
  const rate = (metric: string, extra = ''): string =>
    `sum by (variant) (rate(${metric}{${sel}${extra}}[${w}]))`;
  const quantile = (q: number): string =>
    `histogram_quantile(${q}, sum by (variant, le) (rate(${METRICS.requestDuration}_bucket{${sel}}[${w}])))`;
  const guardrails = exp.spec.metrics.guardrails;
  const primary = exp.spec.metrics.primary;
  const rows: [string, PanelSpec[]][] = [
    [
      'Split',
      [
        {
          title: 'Requests per second by variant',
          description: `Routed requests per second over ${w}, by variant.`,
          queries: [[rate(METRICS.requests), '{{variant}}']],
          unit: 'reqps',
        },
        {
          title: 'Observed share and configured weight',
          description:
            'Share of routed requests each variant received, beside its configured weight (normalised).',
          queries: [
            [
              `${rate(METRICS.requests)} / ignoring (variant) group_left sum(rate(${METRICS.requests}{${sel}}[${w}]))`,
              'observed {{variant}}',
            ],
            [
              `${METRICS.weight}{${sel}} / ignoring (variant) group_left sum(${METRICS.weight}{${sel}})`,
              'weight {{variant}}',
            ],
          ],
          unit: 'percentunit',
          max: 1,
        },
      ],
    ],
    [
      'Latency',
      [
        {
          title: 'p95 latency by variant',
          description: guardrails?.latencyP95Ms
            ? `The red line is the guardrail (spec.metrics.guardrails.latencyP95Ms.max = ${guardrails.latencyP95Ms.max} ms).`
            : 'The experiment has no latency guardrail.',
          queries: [[quantile(0.95), 'p95 {{variant}}']],
          unit: 's',
          ...(guardrails?.latencyP95Ms ? { threshold: guardrails.latencyP95Ms.max / 1000 } : {}),
        },
        {
          title: 'p50 and p99 latency by variant',
          description: 'Median and 99th percentile from the same histogram.',
          queries: [
            [quantile(0.5), 'p50 {{variant}}'],
            [quantile(0.99), 'p99 {{variant}}'],
          ],
          unit: 's',
        },
      ],
    ],
    [
      'Errors',
      [
        {
          title: 'Error rate by variant',
          description: guardrails?.errorRate
            ? `Failed requests (upstream 5xx, unreachable, timed out) over all; the red line is the guardrail (${+(guardrails.errorRate.max * 100).toPrecision(6)}%).`
            : 'Failed requests (upstream 5xx, unreachable, timed out) over all.',
          queries: [[`${rate(METRICS.requestErrors)} / ${rate(METRICS.requests)}`, '{{variant}}']],
          unit: 'percentunit',
          ...(guardrails?.errorRate ? { threshold: guardrails.errorRate.max } : {}),
        },
        {
          title: 'Responses by status code',
          description: 'Routed requests per second by variant and HTTP status code.',
          queries: [
            [`sum by (variant, code) (rate(${METRICS.requests}{${sel}}[${w}]))`, '{{variant}} {{code}}'],
          ],
          unit: 'reqps',
        },
      ],
    ],
    [
      'Drift',
      [
        {
          title: 'Drift p-value by feature and variant',
          description: exp.spec.drift
            ? `p-values of the drift tests (log scale); the verdict uses p < ${exp.spec.drift.pValue} with ${exp.spec.drift.correction} correction.`
            : 'The experiment has no drift settings (spec.drift), so there is nothing to show.',
          queries: [[`${METRICS.driftPValue}{${sel}}`, '{{feature}} {{variant}} ({{test}})']],
          unit: 'none',
          log: true,
        },
        {
          title: 'Features drifting',
          description:
            "Features of any variant whose drift verdict is drift (the report's correction applied).",
          queries: [[`sum(${METRICS.featureDrift}{${sel}})`, 'drifting features']],
          unit: 'none',
          type: 'stat',
        },
      ],
    ],
    [
      'Conversion',
      [
        {
          title: `${primary.name} by variant`,
          description: `The primary metric (${primary.name}, ${primary.kind}) per unit of each variant.`,
          queries: [[`${METRICS.primaryMetricRate}{${sel}}`, '{{variant}}']],
          unit: primary.kind === 'proportion' ? 'percentunit' : 'none',
        },
        {
          title: `${primary.name}: always-valid p-value`,
          description:
            'The mixture SPRT p-value of each candidate against the baseline; the rollout decides on it.',
          queries: [[`${METRICS.primaryMetricPValue}{${sel}}`, '{{variant}}']],
          unit: 'none',
          log: true,
        },
      ],
    ],
    [
      'Assignment and rollout',
      [
        {
          title: 'Sample-ratio-mismatch p-value',
          description: 'Below 0.001 the split does not match the weights: the assignment is broken.',
          queries: [[`${METRICS.srmPValue}{${sel}}`, 'SRM p-value']],
          unit: 'none',
          type: 'stat',
          threshold: 0.001,
        },
        {
          title: 'Rollout state and step',
          description: "The rollout's current state, and the candidate's step weight in percent.",
          queries: [
            [`${METRICS.rolloutState}{${sel}} == 1`, '{{state}}'],
            [`${METRICS.rolloutStep}{${sel}}`, 'step % {{variant}}'],
          ],
          unit: 'none',
          type: 'stat',
        },
      ],
    ],
  ];
  const panels: GrafanaPanel[] = [];
  let id = 1;
  let y = 0;
  for (const [title, specs] of rows) {
    panels.push({ id: id++, type: 'row', title, gridPos: { h: 1, w: 24, x: 0, y } });
    y += 1;
    specs.forEach((s, i) => panels.push(panel(s, id++, { h: 8, w: 12, x: 12 * i, y })));
    y += 8;
  }
  return {
    id: null,
    uid: uidOf(name),
    title: `Model Canary: ${name}`,
    description: `Experiment ${name} (${exp.file}) as the Model Canary router's metrics show it. Generated by model-canary export --target grafana.`,
    tags: ['model-canary', name],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Prometheus',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
        },
      ],
    },
    annotations: { list: [] },
    refresh: '30s',
    schemaVersion: GRAFANA_SCHEMA_VERSION,
    version: 1,
    links: [],
    panels,
  };
}

function panel(s: PanelSpec, id: number, gridPos: GrafanaPanel['gridPos']): GrafanaPanel {
  const type = s.type ?? 'timeseries';
  const steps: { color: string; value: number | null }[] = [{ color: 'green', value: null }];
  if (s.threshold !== undefined) steps.push({ color: 'red', value: s.threshold });
  return {
    id,
    type,
    title: s.title,
    description: s.description,
    gridPos,
    datasource: DATASOURCE,
    targets: s.queries.map(([expr, legendFormat], i) => ({
      refId: String.fromCharCode(65 + i),
      expr,
      legendFormat,
      datasource: DATASOURCE,
    })),
    fieldConfig: {
      defaults: {
        unit: s.unit,
        ...(s.max !== undefined ? { max: s.max, min: 0 } : {}),
        thresholds: { mode: 'absolute', steps },
        ...(type === 'timeseries'
          ? {
              custom: {
                drawStyle: 'line',
                ...(s.threshold !== undefined ? { thresholdsStyle: { mode: 'line' } } : {}),
                ...(s.log ? { scaleDistribution: { type: 'log', log: 10 } } : {}),
              },
            }
          : {}),
      },
      overrides: [],
    },
    options:
      type === 'stat'
        ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value' }
        : {
            legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
            tooltip: { mode: 'multi' },
          },
  };
}
