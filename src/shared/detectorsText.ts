/**
 * Bring-your-own detectors as lines of text: the same words in `model-canary report`, and on
 * the dashboard beside the built-in drift tests (rendered with textContent).
 */
import type { DetectorSetting, DetectorsReport, DetectorVerdict } from './detectors';
import { count, pValue } from './format';

/** One line per detector × variant with a verdict, and one per detector still waiting for its first batch. */
export function detectorLines(report: DetectorsReport): string[] {
  const lines: string[] = [];
  for (const s of report.settings) {
    const verdicts = report.verdicts.filter((v) => v.detector === s.detector);
    if (verdicts.length === 0) {
      lines.push(
        `${title(s)}: no verdict yet — a variant sends a batch once it has ${count(s.batchSize)} recorded requests`,
      );
      continue;
    }
    for (const v of verdicts) lines.push(`${title(s)} on ${v.variant}: ${verdictText(s, v)}`);
  }
  return lines;
}

function title(s: DetectorSetting): string {
  return `detector ${s.detector} (${s.kind}${s.gate ? ', gates the rollout' : ''})`;
}

function verdictText(s: DetectorSetting, v: DetectorVerdict): string {
  const counts = `${count(v.batches)} batches judged, ${count(v.flaggedBatches)} flagged${v.failedBatches ? `, ${count(v.failedBatches)} failed` : ''}`;
  if (v.error !== undefined) return `could not judge the last batch — ${v.error} · ${counts}`;
  const r = v.result ?? {};
  const parts: string[] = [];
  if (s.kind === 'drift') {
    parts.push(`${v.flagged ? 'DRIFT' : 'no drift'} in the last ${count(v.rows)} requests`);
    const p = r.pValues ?? [];
    if (p.length === s.features.length && p.length > 1)
      parts.push(s.features.map((f, i) => `${f} p=${pValue(p[i])}`).join(', '));
    else if (p.length > 0) parts.push(`p=${p.map((x) => pValue(x)).join(', ')}`);
    else if (r.distances?.length)
      parts.push(`distance ${r.distances.map((x) => x.toPrecision(3)).join(', ')}`);
    if (r.threshold !== undefined) parts.push(`threshold ${r.threshold.toPrecision(3)}`);
  } else {
    parts.push(`${count(r.outliers ?? 0)} outliers in the last ${count(v.rows)} requests`);
    if (r.maxScore !== undefined)
      parts.push(`score max ${r.maxScore.toPrecision(3)}, mean ${(r.meanScore ?? NaN).toPrecision(3)}`);
  }
  return `${parts.join(' · ')} · ${counts}`;
}
