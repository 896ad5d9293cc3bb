/** The environment's commands: up, down, status, deploy, report, logs, dashboard. */
import { spawn } from 'node:child_process';
import { formatReportText } from '../core/analysis/format';
import { dashboardLocation } from '../operations/dashboard';
import { deployExperiment } from '../operations/deploy';
import { stopEnvironment } from '../operations/down';
import { componentLog } from '../operations/logs';
import { experimentReport } from '../operations/report';
import { experimentRuns } from '../operations/runs';
import { environmentStatus } from '../operations/status';
import { startEnvironment } from '../operations/up';
import {
  UsageError,
  jsonOption,
  onInterrupt,
  output,
  progress,
  type CliContext,
  type Command,
} from './command';
import { environmentOptions, environmentUsage, environmentWord, runtimeFromFlags } from './environment';
import { runsText, statusText } from './render';

export function environmentCommands(ctx: CliContext): Record<string, Command> {
  return {
    up: {
      summary:
        'start the environment: local processes (no Docker needed) or --runtime kube; the router, no experiment yet',
      usage: `model-canary up [--port 8090] [--python PATH] [--router-replicas N] ${environmentUsage} [--json]`,
      help: [
        '--router-replicas N (Kubernetes): the router as N replicas, each with its own event log; they',
        'merge one report and elect one rollout leader (docs/replicas.md). Default 2 on remote clusters,',
        '1 on kind; an `up` without it applies the default again.',
      ].join('\n'),
      options: {
        ...environmentOptions,
        python: { type: 'string' },
        'router-replicas': { type: 'string' },
        ...jsonOption,
      },
      twin: { palette: ['startLocal'], inputs: {} },
      async run(v) {
        const abort = onInterrupt();
        const status = await startEnvironment(runtimeFromFlags(ctx, v), {
          signal: abort.signal,
          onProgress: progress(!!v.json),
        });
        output(v, status, statusText);
        return 0;
      },
    },
    down: {
      summary:
        "stop the environment (every process it started, or the stack in the namespace; --purge also deletes the event log's volume)",
      usage: `model-canary down [--purge] ${environmentUsage}`,
      options: { ...environmentOptions, purge: { type: 'boolean', default: false } },
      twin: { palette: ['stopLocal'], inputs: {} },
      async run(v) {
        await stopEnvironment(runtimeFromFlags(ctx, v), { onProgress: progress(false) });
        console.log(`${environmentWord(v)} stopped`);
        return 0;
      },
    },
    status: {
      summary: 'show the environment: router, model servers, experiments',
      usage: `model-canary status ${environmentUsage} [--json]`,
      options: { ...environmentOptions, ...jsonOption },
      async run(v) {
        output(v, await environmentStatus(runtimeFromFlags(ctx, v)), statusText);
        return 0;
      },
    },
    deploy: {
      summary:
        "start an experiment's model servers and route its endpoint (starting the environment if needed)",
      usage: `model-canary deploy <experiment-file> [--python PATH] ${environmentUsage} [--json]`,
      options: { ...environmentOptions, python: { type: 'string' }, ...jsonOption },
      twin: { palette: ['deployExperiment'], inputs: { experimentFile: '<positional>' } },
      async run(v, [file]) {
        if (!file) throw new UsageError('which experiment file?');
        const abort = onInterrupt();
        const result = await deployExperiment(
          runtimeFromFlags(ctx, v),
          { experimentFile: file },
          { signal: abort.signal, onProgress: progress(!!v.json) },
        );
        output(
          v,
          result,
          (r) => `${statusText(r.status)}\n${r.experiment} is live: POST ${r.inferUrl} (run ${r.run.id})`,
        );
        return 0;
      },
    },
    report: {
      summary: 'print the live report of a deployed experiment (its current run, or an earlier one)',
      usage: `model-canary report <experiment> [--run ID] ${environmentUsage} [--json]`,
      help: [
        'Each deploy starts a new run of the experiment; the report covers the current run.',
        '--run ID prints an earlier run instead (its id is in a report\'s "run" and in the event log).',
      ].join('\n'),
      options: { ...environmentOptions, run: { type: 'string' }, ...jsonOption },
      twin: { palette: ['showReport'], inputs: { experiment: '<positional>', run: '--run' } },
      async run(v, [experiment]) {
        if (!experiment) throw new UsageError('which experiment?');
        const run = v.run as string | undefined;
        if (run !== undefined && !run.trim()) throw new UsageError('--run needs a run id');
        output(v, await experimentReport(runtimeFromFlags(ctx, v), { experiment, run }), formatReportText);
        return 0;
      },
    },
    runs: {
      summary: "list an experiment's runs (each deploy starts one), oldest first, the current one marked",
      usage: `model-canary runs <experiment> ${environmentUsage} [--json]`,
      options: { ...environmentOptions, ...jsonOption },
      async run(v, [experiment]) {
        if (!experiment) throw new UsageError('which experiment?');
        output(v, await experimentRuns(runtimeFromFlags(ctx, v), { experiment }), runsText);
        return 0;
      },
    },
    logs: {
      summary: 'print the log of the router or of a model server',
      usage: `model-canary logs [router|<model>] [--lines 100] ${environmentUsage}`,
      options: { ...environmentOptions, lines: { type: 'string', default: '100' } },
      twin: { palette: ['showLogs'], inputs: { component: '<positional>' } },
      async run(v, [component]) {
        const lines = Number(v.lines);
        if (!Number.isInteger(lines) || lines < 1) throw new UsageError('--lines must be a whole number ≥ 1');
        const log = await componentLog(runtimeFromFlags(ctx, v), { component, lines });
        console.log(log.tail);
        return 0;
      },
    },
    dashboard: {
      summary: "print the URL of an experiment's dashboard (served by the router); --open opens it",
      usage: `model-canary dashboard <experiment> [--open] ${environmentUsage} [--json]`,
      options: { ...environmentOptions, open: { type: 'boolean', default: false }, ...jsonOption },
      twin: { palette: ['openDashboard'], inputs: { experiment: '<positional>' } },
      async run(v, [experiment]) {
        if (!experiment) throw new UsageError('which experiment?');
        const location = await dashboardLocation(runtimeFromFlags(ctx, v), { experiment });
        output(v, location, (l) => l.url);
        if (v.open) openInBrowser(location.url);
        return 0;
      },
    },
  };
}

/** The desktop's way to open a URL (xdg-open, open, start). */
function openInBrowser(url: string): void {
  const [command, ...args] =
    process.platform === 'darwin'
      ? ['open', url]
      : process.platform === 'win32'
        ? ['cmd', '/c', 'start', '', url]
        : ['xdg-open', url];
  const child = spawn(command!, args, { stdio: 'ignore', detached: true });
  child.on('error', (err) => console.error(`cannot open a browser (${err.message}): open ${url} yourself`));
  child.unref();
}
