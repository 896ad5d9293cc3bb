/** The local-environment commands: up, deploy, simulate, split, report, status, logs, down, demo. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { formatReportText } from '../core/analysis/format';
import { SpecError } from '../core/spec/errors';
import { ProcessRuntime } from '../runtime/processRuntime';
import type { EnvironmentStatus, Runtime } from '../runtime/runtime';
import { parseDriftSpec } from '../simulator/driftInjection';
import { defaultTrafficFile, loadDataset } from '../simulator/dataset';
import { simulate, type SimulationSummary } from '../simulator/simulator';
import { alertsOf } from '../core/analysis/alerts';
import { UsageError, onInterrupt, type Command } from './command';
import { findExperiment } from './experiments';
import { kubeRuntimeFor, kubeRuntimeOptions } from './kube';

/** Where the CLI's bundles are (router.js beside cli.js), and its cache. */
export interface CliContext {
  routerScript: string;
  cacheDir: string;
}

const workspaceOption = { workspace: { type: 'string' as const, default: '.' } };

/** `--runtime process` (default: local processes) or `--runtime kube` / `kind` with `--context`. */
const runtimeOptions = {
  ...workspaceOption,
  runtime: { type: 'string' as const, default: 'process' },
  ...kubeRuntimeOptions,
};

/** The Runtime the options name: local processes, or Kubernetes (the local kind cluster or `--context`). */
function anyRuntimeFor(ctx: CliContext, v: Record<string, unknown>): Runtime {
  const kind = String(v.runtime ?? 'process');
  if (kind === 'process') return runtimeFor(ctx, v);
  if (kind === 'kube' || kind === 'kind' || kind === 'kubernetes') return kubeRuntimeFor(ctx, v);
  throw new UsageError(`--runtime must be process or kube (kind), got "${kind}"`);
}

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

function printStatus(status: EnvironmentStatus): void {
  const local = status.runtime === 'process';
  const name = local ? 'local environment' : 'Kubernetes environment';
  if (!status.up) {
    console.log(`${name}: not running`);
    return;
  }
  console.log(`${name}: running — router ${status.routerUrl}`);
  for (const c of status.components)
    console.log(
      `  ${c.state === 'ready' ? '✔' : '✖'} ${c.name.padEnd(16)} ${c.state.padEnd(9)} ${local ? 'pid' : 'pod'} ${c.id.padEnd(8)} ${c.url}${c.detail ? `  (${c.detail})` : ''}`,
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
  const runtime = anyRuntimeFor(ctx, v);
  const experiment = await findExperiment(resolve(String(v.workspace ?? '.')), experimentRef);
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
  // A remote cluster's router is reached through a port-forward for the run.
  const connection = runtime.connect
    ? await runtime.connect({ signal: abort.signal })
    : { url: await runtime.endpoint(), close: async () => undefined };
  const summary = await simulate({
    routerUrl: connection.url,
    experiment: experiment.metadata.name,
    endpoint: experiment.spec.endpoint,
    stickyHeader: experiment.spec.routing?.sticky?.header,
    metric: experiment.spec.metrics.primary.name,
    data,
    requests,
    rps,
    drift,
    driftFrom: v['drift-from'] === undefined ? undefined : Number(v['drift-from']),
    startRow: typeof v.startRow === 'number' ? v.startRow : undefined,
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
  }).finally(() => connection.close());
  return summary;
}

const TERMINAL_ROLLOUT = new Set(['Succeeded', 'RolledBack', 'Failed']);

// Traffic in rounds until the router's rollout ends (or a round limit, so a stuck demo still ends).
async function simulateUntilRolloutEnds(
  ctx: CliContext,
  runtime: ProcessRuntime,
  v: Record<string, unknown>,
  file: string,
  log: (m: string) => void,
): Promise<SimulationSummary> {
  const total: SimulationSummary = {
    sent: 0,
    ok: 0,
    errors: 0,
    feedbackSent: 0,
    feedbackFailed: 0,
    durationMs: 0,
    achievedRps: 0,
    byVariant: {},
  };
  for (let round = 0; round < 40; round++) {
    const perRound = Math.min(1000, Number(v.requests ?? 1000));
    const s = await runSimulation(
      ctx,
      { ...v, requests: String(perRound), startRow: round * perRound },
      file,
      true,
    );
    total.sent += s.sent;
    total.ok += s.ok;
    total.errors += s.errors;
    total.feedbackSent += s.feedbackSent;
    total.feedbackFailed += s.feedbackFailed;
    total.durationMs += s.durationMs;
    total.firstError ??= s.firstError;
    for (const [name, t] of Object.entries(s.byVariant)) {
      const acc = (total.byVariant[name] ??= { requests: 0, errors: 0, offered: 0, converted: 0 });
      acc.requests += t.requests;
      acc.errors += t.errors;
      acc.offered += t.offered;
      acc.converted += t.converted;
    }
    await new Promise((r) => setTimeout(r, 1_500)); // one controller evaluation after the last feedback
    const rollout = (await runtime.report('propensity')).rollout;
    log(
      `rollout: ${rollout?.state ?? 'unknown'} at ${rollout ? (rollout.steps[rollout.stepIndex] ?? 0) : 0}% — ${rollout?.reason ?? ''}`,
    );
    // Paused waits for a person (drift, SRM, approval): the demo stops there and reports why.
    if (!rollout || TERMINAL_ROLLOUT.has(rollout.state) || rollout.state === 'Paused') break;
  }
  total.achievedRps = total.sent / Math.max(0.001, total.durationMs / 1000);
  return total;
}

export function localCommands(ctx: CliContext): Record<string, Command> {
  return {
    up: {
      summary:
        'start the environment: local processes (no Docker needed) or --runtime kube; the router, no experiment yet',
      usage:
        'model-canary up [--workspace DIR] [--port 8090] [--python PATH] [--runtime process|kube --context CTX] [--json]',
      options: {
        ...runtimeOptions,
        port: { type: 'string' },
        python: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      async run(v) {
        const abort = onInterrupt();
        const status = await anyRuntimeFor(ctx, v).up({
          signal: abort.signal,
          onProgress: progress(!!v.json),
        });
        if (v.json) console.log(JSON.stringify(status, null, 2));
        else printStatus(status);
        return 0;
      },
    },
    deploy: {
      summary: "start an experiment's model servers and route its endpoint",
      usage:
        'model-canary deploy <experiment-file> [--workspace DIR] [--runtime process|kube --context CTX] [--json]',
      options: { ...runtimeOptions, python: { type: 'string' }, json: { type: 'boolean', default: false } },
      async run(v, [file]) {
        if (!file) throw new UsageError('which experiment file?');
        const abort = onInterrupt();
        try {
          const status = await anyRuntimeFor(ctx, v).deploy(file, {
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
        'model-canary simulate <experiment> [--requests 2000] [--rps 200] [--drift FEATURE=SPEC]... [--drift-from 0.5] [--data FILE] [--runtime process|kube --context CTX] [--json]',
      help: [
        'Outcome model: a customer is offered the promotion when the served model scores them >= 0.5, and',
        'converts with probability 0.9 when offered and their label (column "converted") is 1, 0.03 when',
        'offered and the label is 0, and never when not offered. Feedback (conversion 0/1) goes to the router.',
        'Drift: FEATURE=shift:+N | FEATURE=scale:F | FEATURE=mix:a=0.7,b=0.3, from --drift-from (fraction) on.',
        'On a remote cluster (--runtime kube --context CTX) the router is reached through a port-forward.',
      ].join('\n'),
      options: {
        ...runtimeOptions,
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
      usage:
        'model-canary split <experiment> <variant>=<weight> ... [--workspace DIR] [--runtime process|kube --context CTX]',
      options: { ...runtimeOptions },
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
        await anyRuntimeFor(ctx, v).setWeights(experiment, weights);
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
      usage:
        'model-canary report <experiment> [--workspace DIR] [--runtime process|kube --context CTX] [--json]',
      options: { ...runtimeOptions, json: { type: 'boolean', default: false } },
      async run(v, [experiment]) {
        if (!experiment) throw new UsageError('which experiment?');
        const report = await anyRuntimeFor(ctx, v).report(experiment);
        console.log(v.json ? JSON.stringify(report, null, 2) : formatReportText(report));
        return 0;
      },
    },
    status: {
      summary: 'show the environment: router, model servers, experiments',
      usage: 'model-canary status [--workspace DIR] [--runtime process|kube --context CTX] [--json]',
      options: { ...runtimeOptions, json: { type: 'boolean', default: false } },
      async run(v) {
        const status = await anyRuntimeFor(ctx, v).status();
        if (v.json) console.log(JSON.stringify(status, null, 2));
        else printStatus(status);
        return 0;
      },
    },
    logs: {
      summary: 'print the log of the router or of a model server',
      usage:
        'model-canary logs [router|<model>] [--lines 100] [--workspace DIR] [--runtime process|kube --context CTX]',
      options: { ...runtimeOptions, lines: { type: 'string', default: '100' } },
      async run(v, [component = 'router']) {
        const file = await anyRuntimeFor(ctx, v).logFile(component);
        const text = await readFile(file, 'utf8').catch(() => '');
        console.log(text.trimEnd().split('\n').slice(-Number(v.lines)).join('\n'));
        return 0;
      },
    },
    rollout: {
      summary: 'progressive rollout run by the router: start | pause | resume | approve | abort',
      usage:
        'model-canary rollout <start|pause|resume|approve|abort> <experiment> [--candidate v2] [--min-samples N] [--min-step-seconds S] [--workspace DIR] [--runtime process|kube --context CTX] [--json]',
      help: [
        'Steps come from spec.rollout.steps (default 5 → 25 → 50 → 100). Each step needs minSamplesPerStep candidate',
        'requests and minStepSeconds; guardrails, sample-ratio mismatch and drift are checked at every evaluation, and the',
        'always-valid test on the primary metric rolls a worse candidate back and promotes a better one at the last step.',
        'The controller runs in the router (in its Pod on Kubernetes), so the rollout goes on after this command returns.',
      ].join('\n'),
      options: {
        ...runtimeOptions,
        candidate: { type: 'string' },
        'min-samples': { type: 'string' },
        'min-step-seconds': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      async run(v, [action, experiment]) {
        const actions = ['start', 'pause', 'resume', 'approve', 'abort'] as const;
        if (!action || !(actions as readonly string[]).includes(action) || !experiment) {
          throw new UsageError(`usage: rollout <${actions.join('|')}> <experiment>`);
        }
        const overrides: Record<string, number> = {};
        if (v['min-samples'] !== undefined) overrides.minSamplesPerStep = Number(v['min-samples']);
        if (v['min-step-seconds'] !== undefined) overrides.minStepSeconds = Number(v['min-step-seconds']);
        const runtime = anyRuntimeFor(ctx, v);
        if (!runtime.rollout) throw new UsageError('this runtime cannot run rollouts');
        const status = await runtime.rollout(experiment, action as (typeof actions)[number], {
          candidate: v.candidate as string | undefined,
          overrides,
        });
        console.log(
          v.json
            ? JSON.stringify(status, null, 2)
            : `${experiment}: rollout ${status.state} — ${status.reason}`,
        );
        return 0;
      },
    },
    watch: {
      summary: 'print alerts (guardrails, SRM, drift, rollout transitions) as they happen, until Ctrl-C',
      usage:
        'model-canary watch <experiment> [--interval 2] [--workspace DIR] [--runtime process|kube --context CTX] [--json]',
      options: {
        ...runtimeOptions,
        interval: { type: 'string', default: '2' },
        json: { type: 'boolean', default: false },
      },
      async run(v, [experiment]) {
        if (!experiment) throw new UsageError('which experiment?');
        const runtime = anyRuntimeFor(ctx, v);
        const abort = onInterrupt();
        const seen = new Set<string>();
        let first = true;
        while (!abort.signal.aborted) {
          const report = await runtime.report(experiment);
          for (const alert of alertsOf(report)) {
            if (seen.has(alert.key)) continue;
            seen.add(alert.key);
            if (first && alert.kind === 'rollout') continue; // history before we started watching
            console.log(
              v.json
                ? JSON.stringify({ ts: new Date().toISOString(), ...alert })
                : `${new Date().toISOString()}  ${alert.kind.padEnd(9)} ${alert.message}`,
            );
          }
          first = false;
          await new Promise((r) => setTimeout(r, Number(v.interval) * 1000));
        }
        return 0;
      },
    },
    down: {
      summary: 'stop the environment (every process it started, or the stack in the namespace)',
      usage: 'model-canary down [--workspace DIR] [--runtime process|kube --context CTX]',
      options: { ...runtimeOptions },
      async run(v) {
        await anyRuntimeFor(ctx, v).down({ onProgress: progress(false) });
        console.log(`${v.runtime === 'process' ? 'local' : 'Kubernetes'} environment stopped`);
        return 0;
      },
    },
    demo: {
      summary:
        'the whole loop on sample-models: up, deploy, simulate with drift, report (or an automatic rollout)',
      usage:
        'model-canary demo [--workspace sample-models] [--requests 3000] [--rps 200] [--rollout] [--exit] [--json]',
      help: [
        'Without --exit it keeps serving until Ctrl-C, then shuts everything down.',
        'With --rollout the router runs a progressive rollout of v2 (short demo steps: 150 samples and 3 s each)',
        'while traffic is simulated, until the rollout ends (Succeeded on the sample data); no drift is injected then.',
        'With --json the final report is printed as JSON (plus endpoint, dashboard and simulation fields).',
      ].join('\n'),
      options: {
        workspace: { type: 'string', default: 'sample-models' },
        requests: { type: 'string', default: '3000' },
        rps: { type: 'string', default: '200' },
        port: { type: 'string' },
        python: { type: 'string' },
        rollout: { type: 'boolean', default: false },
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
          let summary: SimulationSummary;
          if (v.rollout) {
            log('starting a progressive rollout of v2 (demo steps: 150 samples, 3 s)');
            await runtime.rollout('propensity', 'start', {
              candidate: 'v2',
              overrides: { minSamplesPerStep: 150, minStepSeconds: 3 },
            });
            summary = await simulateUntilRolloutEnds(ctx, runtime, v, file, log);
          } else {
            log(`simulating ${v.requests} requests, drift on basket_value from halfway`);
            summary = await runSimulation(ctx, { ...v, drift: ['basket_value=shift:+60'] }, file, quiet);
          }
          await new Promise((r) => setTimeout(r, 500)); // let the last feedback land
          const report = await runtime.report('propensity');
          const url = await runtime.endpoint();
          if (v.json)
            console.log(
              JSON.stringify(
                {
                  ...report,
                  endpoint: url,
                  dashboard: `${url}/dashboard/?experiment=propensity`,
                  simulation: summary,
                },
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
            console.log(`dashboard: ${url}/dashboard/?experiment=propensity`);
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
