/** The local-environment commands: up, deploy, simulate, split, report, status, logs, down, demo. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { formatReportText } from '../core/analysis/format';
import { formatProblem, SpecError } from '../core/spec/errors';
import { loadExperimentFile, type Experiment } from '../core/spec/experiment';
import { scanWorkspace } from '../core/workspace/discover';
import { ProcessRuntime } from '../runtime/processRuntime';
import type { EnvironmentStatus } from '../runtime/runtime';
import { parseDriftSpec } from '../simulator/driftInjection';
import { defaultTrafficFile, loadDataset } from '../simulator/dataset';
import { simulate, type SimulationSummary } from '../simulator/simulator';
import { UsageError, onInterrupt, type Command } from './command';

/** Where the CLI's bundles are (router.js beside cli.js), and its cache. */
export interface CliContext {
  routerScript: string;
  cacheDir: string;
}

const workspaceOption = { workspace: { type: 'string' as const, default: '.' } };

function runtimeFor(ctx: CliContext, v: Record<string, unknown>): ProcessRuntime {
  const port = v.port === undefined ? 8090 : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be a port number, got "${String(v.port)}"`);
  return new ProcessRuntime({
    workspace: resolve(String(v.workspace ?? '.')),
    routerScript: ctx.routerScript,
    cacheDir: ctx.cacheDir,
    python: v.python as string | undefined,
    routerPort: port,
  });
}

const progress = (quiet: boolean) => (message: string) => {
  if (!quiet) process.stderr.write(`  ${message}\n`);
};

/** An experiment by file path or by name in the workspace. */
async function findExperiment(workspace: string, ref: string): Promise<Experiment> {
  if (existsSync(ref)) {
    try {
      return await loadExperimentFile(resolve(ref));
    } catch (err) {
      if (err instanceof SpecError) throw new UsageError(`invalid experiment file:\n${err.message}`);
      throw err;
    }
  }
  const scan = await scanWorkspace(workspace);
  const found = scan.experiments.find((e) => e.name === ref);
  if (!found)
    throw new UsageError(
      `no experiment "${ref}" in ${workspace} (known: ${scan.experiments.map((e) => e.name).join(', ') || 'none'})`,
    );
  if (!found.experiment)
    throw new UsageError(
      `the experiment "${ref}" is invalid:\n${scan.problems
        .filter((p) => p.file === found.file)
        .map(formatProblem)
        .join('\n')}`,
    );
  return found.experiment;
}

function printStatus(status: EnvironmentStatus): void {
  if (!status.up) {
    console.log('local environment: not running');
    return;
  }
  console.log(`local environment: running — router ${status.routerUrl}`);
  for (const c of status.components)
    console.log(
      `  ${c.state === 'ready' ? '✔' : '✖'} ${c.name.padEnd(16)} ${c.state.padEnd(9)} pid ${c.id.padEnd(8)} ${c.url}${c.detail ? `  (${c.detail})` : ''}`,
    );
  for (const e of status.experiments)
    console.log(`  experiment ${e.name}: POST ${status.routerUrl}/v2/models/${e.endpoint}/infer`);
}

function printSimulation(s: SimulationSummary): void {
  console.log(
    `simulated ${s.sent.toLocaleString('en-US')} requests in ${(s.durationMs / 1000).toFixed(1)} s (${s.achievedRps.toFixed(0)} req/s): ${s.ok} ok, ${s.errors} errors, ${s.feedbackSent} feedback events`,
  );
  for (const [variant, t] of Object.entries(s.byVariant).sort()) {
    console.log(
      `  ${variant}: ${t.requests} requests, ${t.errors} errors, ${t.offered} offered, ${t.converted} converted (${t.requests ? ((100 * t.converted) / t.requests).toFixed(1) : '0.0'}%)`,
    );
  }
  if (s.driftFrom !== undefined) console.log(`  drift injected from request ${s.driftFrom}`);
  if (s.firstError) console.log(`  first error: ${s.firstError}`);
}

async function runSimulation(
  ctx: CliContext,
  v: Record<string, unknown>,
  experimentRef: string,
  quietProgress = false,
): Promise<SimulationSummary> {
  const runtime = runtimeFor(ctx, v);
  const experiment = await findExperiment(runtime.workspace, experimentRef);
  const dataFile = resolve(String(v.data ?? defaultTrafficFile(experiment)));
  if (!existsSync(dataFile))
    throw new UsageError(
      `the traffic file ${dataFile} does not exist — pass --data FILE (a CSV with the model's feature columns)`,
    );
  const requests = Number(v.requests ?? 2000);
  const rps = Number(v.rps ?? 200);
  if (!(requests > 0) || !(rps > 0)) throw new UsageError('--requests and --rps must be positive numbers');
  const drift = ((v.drift as string[] | undefined) ?? []).map((d) => {
    try {
      return parseDriftSpec(d);
    } catch (err) {
      throw new UsageError(`--drift: ${(err as Error).message}`);
    }
  });
  const abort = onInterrupt();
  const data = await loadDataset(dataFile);
  let lastShown = -1;
  const summary = await simulate({
    routerUrl: await runtime.endpoint(),
    experiment: experiment.metadata.name,
    endpoint: experiment.spec.endpoint,
    stickyHeader: experiment.spec.routing?.sticky?.header,
    metric: experiment.spec.metrics.primary.name,
    data,
    requests,
    rps,
    drift,
    driftFrom: v['drift-from'] === undefined ? undefined : Number(v['drift-from']),
    signal: abort.signal,
    onProgress:
      quietProgress || !process.stderr.isTTY
        ? undefined
        : (done, total) => {
            const pct = Math.floor((100 * done) / total);
            if (pct === lastShown) return;
            lastShown = pct;
            const bar = '█'.repeat(Math.floor(pct / 4)).padEnd(25, '░');
            process.stderr.write(`\r  ${bar} ${pct}% (${done}/${total})${done === total ? '\n' : ''}`);
          },
  });
  return summary;
}

export function localCommands(ctx: CliContext): Record<string, Command> {
  return {
    up: {
      summary: 'start the local environment (the router; no experiment yet) — no Docker needed',
      usage: 'model-canary up [--workspace DIR] [--port 8090] [--python PATH] [--json]',
      options: {
        ...workspaceOption,
        port: { type: 'string' },
        python: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      async run(v) {
        const abort = onInterrupt();
        const status = await runtimeFor(ctx, v).up({ signal: abort.signal, onProgress: progress(!!v.json) });
        if (v.json) console.log(JSON.stringify(status, null, 2));
        else printStatus(status);
        return 0;
      },
    },
    deploy: {
      summary: "start an experiment's model servers and route its endpoint",
      usage: 'model-canary deploy <experiment-file> [--workspace DIR] [--json]',
      options: { ...workspaceOption, python: { type: 'string' }, json: { type: 'boolean', default: false } },
      async run(v, [file]) {
        if (!file) throw new UsageError('which experiment file?');
        const abort = onInterrupt();
        try {
          const status = await runtimeFor(ctx, v).deploy(file, {
            signal: abort.signal,
            onProgress: progress(!!v.json),
          });
          if (v.json) console.log(JSON.stringify(status, null, 2));
          else printStatus(status);
          return 0;
        } catch (err) {
          if (err instanceof SpecError) throw new UsageError(`invalid experiment:\n${err.message}`);
          throw err;
        }
      },
    },
    simulate: {
      summary: 'replay a dataset through the router with sticky users, feedback and optional drift',
      usage:
        'model-canary simulate <experiment> [--requests 2000] [--rps 200] [--drift FEATURE=SPEC]... [--drift-from 0.5] [--data FILE] [--json]',
      help: [
        'Outcome model: a customer is offered the promotion when the served model scores them >= 0.5, and',
        'converts with probability 0.9 when offered and their label (column "converted") is 1, 0.03 when',
        'offered and the label is 0, and never when not offered. Feedback (conversion 0/1) goes to the router.',
        'Drift: FEATURE=shift:+N | FEATURE=scale:F | FEATURE=mix:a=0.7,b=0.3, from --drift-from (fraction) on.',
      ].join('\n'),
      options: {
        ...workspaceOption,
        requests: { type: 'string' },
        rps: { type: 'string' },
        drift: { type: 'string', multiple: true },
        'drift-from': { type: 'string' },
        data: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      async run(v, [experiment]) {
        if (!experiment) throw new UsageError('which experiment (name or file)?');
        const summary = await runSimulation(ctx, v, experiment, !!v.json);
        if (v.json) console.log(JSON.stringify(summary, null, 2));
        else printSimulation(summary);
        return summary.ok > 0 ? 0 : 1;
      },
    },
    split: {
      summary: "change an experiment's traffic split",
      usage: 'model-canary split <experiment> <variant>=<weight> ... [--workspace DIR]',
      options: { ...workspaceOption },
      async run(v, [experiment, ...pairs]) {
        if (!experiment || pairs.length === 0) throw new UsageError('usage: split <experiment> v1=75 v2=25');
        const weights: Record<string, number> = {};
        for (const pair of pairs) {
          const [name, w] = pair.split('=');
          const weight = Number(w);
          if (!name || !Number.isFinite(weight) || weight < 0)
            throw new UsageError(`"${pair}" is not <variant>=<weight>`);
          weights[name] = weight;
        }
        await runtimeFor(ctx, v).setWeights(experiment, weights);
        console.log(
          `${experiment}: ${Object.entries(weights)
            .map(([n, w]) => `${n}=${w}`)
            .join(' ')}`,
        );
        return 0;
      },
    },
    report: {
      summary: 'print the live report of a deployed experiment',
      usage: 'model-canary report <experiment> [--workspace DIR] [--json]',
      options: { ...workspaceOption, json: { type: 'boolean', default: false } },
      async run(v, [experiment]) {
        if (!experiment) throw new UsageError('which experiment?');
        const report = await runtimeFor(ctx, v).report(experiment);
        console.log(v.json ? JSON.stringify(report, null, 2) : formatReportText(report));
        return 0;
      },
    },
    status: {
      summary: 'show the local environment: router, model servers, experiments',
      usage: 'model-canary status [--workspace DIR] [--json]',
      options: { ...workspaceOption, json: { type: 'boolean', default: false } },
      async run(v) {
        const status = await runtimeFor(ctx, v).status();
        if (v.json) console.log(JSON.stringify(status, null, 2));
        else printStatus(status);
        return 0;
      },
    },
    logs: {
      summary: 'print the log of the router or of a model server',
      usage: 'model-canary logs [router|<model>] [--lines 100] [--workspace DIR]',
      options: { ...workspaceOption, lines: { type: 'string', default: '100' } },
      async run(v, [component = 'router']) {
        const file = await runtimeFor(ctx, v).logFile(component);
        const text = await readFile(file, 'utf8').catch(() => '');
        console.log(text.trimEnd().split('\n').slice(-Number(v.lines)).join('\n'));
        return 0;
      },
    },
    down: {
      summary: 'stop the local environment (every process it started)',
      usage: 'model-canary down [--workspace DIR]',
      options: { ...workspaceOption },
      async run(v) {
        await runtimeFor(ctx, v).down({ onProgress: progress(false) });
        console.log('local environment stopped');
        return 0;
      },
    },
    demo: {
      summary: 'the whole loop on sample-models: up, deploy, simulate with drift, report',
      usage: 'model-canary demo [--workspace sample-models] [--requests 3000] [--rps 300] [--exit] [--json]',
      help: 'Without --exit it keeps serving until Ctrl-C, then shuts everything down.',
      options: {
        workspace: { type: 'string', default: 'sample-models' },
        requests: { type: 'string', default: '3000' },
        rps: { type: 'string', default: '300' },
        port: { type: 'string' },
        python: { type: 'string' },
        exit: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      async run(v) {
        const runtime = runtimeFor(ctx, v);
        const file = join(runtime.workspace, 'experiments', 'propensity.yaml');
        if (!existsSync(file))
          throw new UsageError(
            `the demo needs ${file} (run it from the repository, or pass --workspace sample-models)`,
          );
        const quiet = !!v.json;
        const log = progress(quiet);
        log('starting the local environment');
        await runtime.up({ onProgress: log });
        try {
          log('deploying experiments/propensity.yaml (v1 95% / v2 5% / v3 shadow)');
          await runtime.deploy(file, { onProgress: log });
          log(`simulating ${v.requests} requests, drift on basket_value from halfway`);
          const summary = await runSimulation(ctx, { ...v, drift: ['basket_value=shift:+60'] }, file, quiet);
          await new Promise((r) => setTimeout(r, 500)); // let the last feedback land
          const report = await runtime.report('propensity');
          const url = await runtime.endpoint();
          if (v.json)
            console.log(
              JSON.stringify(
                { simulation: summary, report, endpoint: url, dashboard: `${url}/dashboard/` },
                null,
                2,
              ),
            );
          else {
            printSimulation(summary);
            console.log('');
            console.log(formatReportText(report));
            console.log('');
            console.log(`endpoint:  POST ${url}/v2/models/propensity/infer`);
            console.log(`report:    GET  ${url}/api/v1/experiments/propensity/report`);
            console.log(`dashboard: ${url}/dashboard/`);
          }
          if (!v.exit) {
            console.error('serving — press Ctrl-C to stop');
            await new Promise<void>((r) => process.once('SIGINT', () => r()));
          }
          return summary.ok > 0 ? 0 : 1;
        } finally {
          log('stopping the local environment');
          await runtime.down();
        }
      },
    },
  };
}
