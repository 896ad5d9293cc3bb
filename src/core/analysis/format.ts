/** The report as text for terminals, with the dashboard's number formats (shared/format.ts); full precision in --json. */
import {
  attributionText,
  count,
  excludedText,
  ms,
  percent,
  pValue,
  signedPercent,
  signedPoints,
  unitsText,
} from '../../shared/format';
import { detectorLines } from '../../shared/detectorsText';
import { reportPlanLine } from '../../shared/planText';
import type { DriftReport, Report } from '../../shared/report';
import type { ModelMetricsReport } from '../../shared/modelMetrics';
import { modelMetricsTable } from '../../shared/modelMetricsFormat';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A readable multi-section rendering of a report. */
export function formatReportText(report: Report): string {
  const run = report.run
    ? ` — run ${report.run.id} (${report.run.reason ?? 'started'} ${new Date(report.run.startedAt).toISOString()})`
    : '';
  const out: string[] = [`Experiment ${report.experiment}${run} — report at ${report.generatedAt}`, ''];
  out.push(
    table([
      [
        'variant',
        'role',
        'weight',
        'observed',
        'requests',
        'errors',
        'p50',
        'p95',
        'p99',
        'load/replica',
        ...Object.keys(report.variants[0]?.feedback ?? {}),
      ],
      ...report.variants.map((v) => [
        v.name,
        v.role,
        String(v.weight),
        percent(v.observedShare),
        count(v.requests),
        `${count(v.errors)} (${percent(v.errorRate, 2)})`,
        ms(v.latencyMs.p50),
        ms(v.latencyMs.p95),
        ms(v.latencyMs.p99),
        v.loadPerReplica === undefined ? '—' : `${v.loadPerReplica.toFixed(1)}/s`,
        ...Object.values(v.feedback).map((m) => `${percent(m.rate, 2)} of ${count(m.count)}`),
      ]),
    ]),
  );
  out.push(
    '',
    `Sample ratio${report.srm.unit === 'user' ? ' of users' : ''}: chi² ${report.srm.chi2.toFixed(2)}, p = ${pValue(report.srm.pValue)} — ${report.srm.mismatch ? 'MISMATCH: the split does not match the weights' : 'ok'}`,
  );
  for (const v of report.variants.filter((x) => x.steps?.length))
    out.push(
      `Steps of ${v.name}: ${v.steps!.map((s) => `${s.name} p50 ${ms(s.latencyMs.p50)} · p95 ${ms(s.latencyMs.p95)} · errors ${count(s.errors)} of ${count(s.requests)}`).join('; ')}`,
    );
  if (report.variants.some((v) => (v.grpcRequests ?? 0) > 0))
    out.push(
      `By protocol: ${report.variants.map((v) => `${v.name} HTTP ${count(v.requests - (v.grpcRequests ?? 0))} · gRPC ${count(v.grpcRequests ?? 0)}`).join('; ')}`,
    );
  const units = unitsText(report);
  if (units) out.push(units);
  const attribution = attributionText(report);
  if (attribution) out.push(attribution);
  const excluded = excludedText(report.excluded);
  if (excluded) out.push(`Experiment traffic only: ${excluded}`);
  if (report.comparisons.length) {
    const perUser = report.comparisons[0]!.unit === 'user';
    out.push('', `A/B on ${report.comparisons[0]!.metric}${perUser ? ' per user' : ''}:`);
    out.push(
      table([
        [
          'variant',
          'rate',
          'baseline',
          'lift',
          '95% CI (abs, pp)',
          'always-valid CI (abs, pp)',
          'rel. lift (95% CI)',
          'p',
          'always-valid p',
          'P(beat)',
          'decision',
        ],
        ...report.comparisons.map((c) => [
          c.variant,
          percent(c.variantRate, 2),
          percent(c.baselineRate, 2),
          signedPoints(c.absoluteLift),
          `[${signedPoints(c.ci95[0])}, ${signedPoints(c.ci95[1])}]`,
          c.sequentialCi ? `[${signedPoints(c.sequentialCi[0])}, ${signedPoints(c.sequentialCi[1])}]` : '—',
          `${signedPercent(c.relativeLift)} [${signedPercent(c.relativeCi95[0])}, ${signedPercent(c.relativeCi95[1])}]`,
          pValue(c.pValue),
          pValue(c.sequentialPValue),
          percent(c.chanceToBeatBaseline),
          c.decision,
        ]),
      ]),
    );
    for (const c of report.comparisons) {
      out.push(`  ${c.variant}: ${c.decision} — ${c.reason}`);
      if (c.plan)
        out.push(
          `  ${c.variant} ${reportPlanLine(c.plan, c.unit === 'user' ? 'users' : 'samples', c.timeToDecision)}`,
        );
      const r = c.perRequest;
      if (r)
        out.push(
          `  ${c.variant} per request: ${percent(r.variantRate, 2)} vs ${percent(r.baselineRate, 2)}, ${signedPoints(r.absoluteLift)} [${signedPoints(r.ci95[0])}, ${signedPoints(r.ci95[1])}] (delta method, users as clusters), p = ${pValue(r.pValue)}`,
        );
    }
  }
  const failing = report.guardrails.filter((g) => !g.ok);
  out.push(
    '',
    failing.length
      ? `Guardrails breached: ${failing.map((g) => g.detail ?? `${g.variant} ${g.name} ${g.value.toFixed(3)} > ${g.limit}`).join('; ')}`
      : 'Guardrails: all ok',
  );
  for (const g of report.guardrails.filter((x) => x.pending)) out.push(`  pending: ${g.detail ?? g.name}`);
  for (const g of report.guardrails.filter((x) => x.confounded)) out.push(`  confounded: ${g.confounded}`);
  if (report.modelMetrics) out.push('', ...modelMetricsText(report.modelMetrics));
  if (report.drift) {
    const d = report.drift;
    out.push(
      '',
      `Drift (${d.correction}, per-feature threshold ${d.threshold.toPrecision(3)}, window ${count(d.window)}) — dataset drift: ${d.datasetDrift ? 'YES' : 'no'}`,
    );
    const drifted = d.features.filter((f) => f.drift);
    out.push(
      drifted.length
        ? `  drifting: ${drifted.map((f) => `${f.name}@${f.variant} (${f.test} p=${pValue(f.pValue)})`).join(', ')}`
        : `  no feature drifts (${d.features.length} checks)`,
    );
    for (const p of d.prediction)
      out.push(`  prediction ${p.variant}: ${p.test} p=${pValue(p.pValue)}${p.drift ? ' DRIFT' : ''}`);
    if (d.detectors) out.push(...detectorLines(d.detectors).map((line) => `  ${line}`));
    if (d.modelInput) out.push(...modelInputText(d));
  }
  if (report.shadow)
    out.push(
      '',
      `Shadow ${report.shadow.variant}: ${count(report.shadow.requests)} mirrored, agreement ${percent(report.shadow.agreement)}`,
    );
  return out.join('\n');
}

/** Drift on the model's input of graph variants, then per variant: raw request vs model input. */
function modelInputText(d: DriftReport): string[] {
  const m = d.modelInput!;
  const drifted = m.features.filter((f) => f.drift);
  const raw = new Map((d.variants ?? []).map((v) => [v.variant, v.drift]));
  const yes = (b: boolean | undefined): string => (b === undefined ? '–' : b ? 'YES' : 'no');
  return [
    `Drift on the model input (${m.tensor}; per-feature threshold ${m.threshold.toPrecision(3)}) — drift: ${yes(m.datasetDrift)}`,
    drifted.length
      ? `  drifting: ${drifted.map((f) => `${f.name}@${f.variant} (${f.test} p=${pValue(f.pValue)})`).join(', ')}`
      : `  no model input feature drifts (${m.features.length} checks)`,
    `  per variant: ${[...raw.keys()].map((v) => `${v} raw ${yes(raw.get(v))} · model input ${yes(m.variants?.find((x) => x.variant === v)?.drift)}`).join('; ')}`,
  ];
}

/** The model metrics section: per variant with 95% intervals, then candidate − baseline. */
function modelMetricsText(m: ModelMetricsReport): string[] {
  const t = modelMetricsTable(m);
  const positive = m.task === 'classification' ? `, positive class ${String(m.positiveClass)}` : '';
  return [
    `Model metrics from labels (${m.task}${positive}; value (95% CI)):`,
    table([t.header, ...t.rows.map((r) => [r.variant, ...r.cells.map((c) => c.text)])]),
    ...t.differences.map((d) => `  ${d}`),
    ...t.notes.map((n) => `  ${n}`),
  ];
}
