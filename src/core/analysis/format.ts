/** The report as text for terminals: numbers formatted for people, full precision in --json. */
import type { Report } from '../../shared/report';

/** 0.0004 not 4e-4; +18.9% not 0.189; 1,940 not 1940. */
export const fmt = {
  int: (n: number): string => Math.round(n).toLocaleString('en-US'),
  pct: (x: number, digits = 1): string => (Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : '—'),
  signedPct: (x: number, digits = 1): string =>
    Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(digits)}%` : '—',
  p: (x: number): string => (!Number.isFinite(x) ? '—' : x >= 0.0001 ? x.toFixed(4) : '<0.0001'),
  ms: (x: number): string => (Number.isFinite(x) && x > 0 ? `${x.toFixed(1)} ms` : '—'),
};

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
  const out: string[] = [`Experiment ${report.experiment} — report at ${report.generatedAt}`, ''];
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
        ...Object.keys(report.variants[0]?.feedback ?? {}),
      ],
      ...report.variants.map((v) => [
        v.name,
        v.role,
        String(v.weight),
        fmt.pct(v.observedShare),
        fmt.int(v.requests),
        `${fmt.int(v.errors)} (${fmt.pct(v.errorRate, 2)})`,
        fmt.ms(v.latencyMs.p50),
        fmt.ms(v.latencyMs.p95),
        fmt.ms(v.latencyMs.p99),
        ...Object.values(v.feedback).map((m) => `${fmt.pct(m.rate, 2)} of ${fmt.int(m.count)}`),
      ]),
    ]),
  );
  out.push(
    '',
    `Sample ratio: chi² ${report.srm.chi2.toFixed(2)}, p = ${fmt.p(report.srm.pValue)} — ${report.srm.mismatch ? 'MISMATCH: the split does not match the weights' : 'ok'}`,
  );
  if (report.comparisons.length) {
    out.push('', 'A/B on ' + report.comparisons[0]!.metric + ':');
    out.push(
      table([
        [
          'variant',
          'rate',
          'baseline',
          'lift',
          '95% CI (abs)',
          'rel. lift (95% CI)',
          'p',
          'always-valid p',
          'P(beat)',
          'decision',
        ],
        ...report.comparisons.map((c) => [
          c.variant,
          fmt.pct(c.variantRate, 2),
          fmt.pct(c.baselineRate, 2),
          fmt.signedPct(c.absoluteLift, 2),
          `[${fmt.signedPct(c.ci95[0], 2)}, ${fmt.signedPct(c.ci95[1], 2)}]`,
          `${fmt.signedPct(c.relativeLift)} [${fmt.signedPct(c.relativeCi95[0])}, ${fmt.signedPct(c.relativeCi95[1])}]`,
          fmt.p(c.pValue),
          fmt.p(c.sequentialPValue),
          fmt.pct(c.chanceToBeatBaseline),
          c.decision,
        ]),
      ]),
    );
    for (const c of report.comparisons) out.push(`  ${c.variant}: ${c.decision} — ${c.reason}`);
  }
  const failing = report.guardrails.filter((g) => !g.ok);
  out.push(
    '',
    failing.length
      ? `Guardrails breached: ${failing.map((g) => `${g.variant} ${g.name} ${g.value.toFixed(3)} > ${g.limit}`).join('; ')}`
      : 'Guardrails: all ok',
  );
  if (report.drift) {
    const d = report.drift;
    out.push(
      '',
      `Drift (${d.correction}, per-feature threshold ${d.threshold.toPrecision(3)}, window ${fmt.int(d.window)}) — dataset drift: ${d.datasetDrift ? 'YES' : 'no'}`,
    );
    const drifted = d.features.filter((f) => f.drift);
    out.push(
      drifted.length
        ? `  drifting: ${drifted.map((f) => `${f.name}@${f.variant} (${f.test} p=${fmt.p(f.pValue)})`).join(', ')}`
        : `  no feature drifts (${d.features.length} checks)`,
    );
    for (const p of d.prediction)
      out.push(`  prediction ${p.variant}: ${p.test} p=${fmt.p(p.pValue)}${p.drift ? ' DRIFT' : ''}`);
  }
  if (report.shadow)
    out.push(
      '',
      `Shadow ${report.shadow.variant}: ${fmt.int(report.shadow.requests)} mirrored, agreement ${fmt.pct(report.shadow.agreement)}`,
    );
  return out.join('\n');
}
