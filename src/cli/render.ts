/** Text renderings of operation results for the terminal. */
import type { EnvironmentStatus } from '../runtime/runtime';
import type { RolloutStatus } from '../shared/report';
import { routerPaths } from '../shared/routerApi';
import { count, percent, runText } from '../shared/format';
import type { ExperimentRuns } from '../operations/runs';
import type { SimulationSummary } from '../simulator/simulator';

export function statusText(status: EnvironmentStatus): string {
  const local = status.runtime === 'process';
  const name = local ? 'local environment' : 'Kubernetes environment';
  if (!status.up) return `${name}: not running`;
  const grpc = status.routerGrpc ? `, gRPC ${status.routerGrpc}` : '';
  const lines = [`${name}: running — router ${status.routerUrl}${grpc}`];
  for (const c of status.components)
    lines.push(
      `  ${c.state === 'ready' ? '✔' : '✖'} ${c.name.padEnd(16)} ${c.state.padEnd(9)} ${local ? 'pid' : 'pod'} ${c.id.padEnd(8)} ${c.url}${c.detail ? `  (${c.detail})` : ''}`,
    );
  for (const e of status.experiments)
    lines.push(`  experiment ${e.name}: POST ${status.routerUrl}${routerPaths.infer(e.endpoint)}`);
  return lines.join('\n');
}

export function simulationText(s: SimulationSummary): string {
  const lines = [
    `simulated ${count(s.sent)} requests in ${(s.durationMs / 1000).toFixed(1)} s (${s.achievedRps.toFixed(0)} req/s): ${s.ok} ok, ${s.errors} errors, ${s.feedbackSent} feedback events${s.labelsSent !== undefined ? `, ${s.labelsSent} labels` : ''}`,
  ];
  for (const [variant, t] of Object.entries(s.byVariant).sort())
    lines.push(
      `  ${variant}: ${t.requests} requests, ${t.errors} errors, ${t.offered} offered, ${t.converted} converted (${percent(t.requests ? t.converted / t.requests : 0)})`,
    );
  if (s.driftFrom !== undefined) lines.push(`  drift injected from request ${s.driftFrom}`);
  if (s.firstError) lines.push(`  first error: ${s.firstError}`);
  return lines.join('\n');
}

export function rolloutText(experiment: string, status: RolloutStatus): string {
  const weight = status.stepIndex >= 0 ? (status.steps[status.stepIndex] ?? 0) : 0;
  return `${experiment}: rollout of ${status.candidate} ${status.state} at ${weight}% — ${status.reason}`;
}

/** A unified diff with + and - lines coloured on a terminal. */
export function colorDiff(diff: string, tty = !!process.stdout.isTTY): string {
  if (!tty) return diff;
  const paint = (l: string): string =>
    l.startsWith('+++') || l.startsWith('---')
      ? `\x1b[1m${l}\x1b[0m`
      : l.startsWith('+')
        ? `\x1b[32m${l}\x1b[0m`
        : l.startsWith('-')
          ? `\x1b[31m${l}\x1b[0m`
          : l.startsWith('@@')
            ? `\x1b[36m${l}\x1b[0m`
            : l;
  return diff.split('\n').map(paint).join('\n');
}

/** `runs`: one line per run, oldest first. */
export function runsText(r: ExperimentRuns): string {
  if (r.runs.length === 0) return `${r.experiment} has no runs yet (deploy it to start one)`;
  return r.runs.map((run) => runText(run, run.id === r.current)).join('\n');
}
