/** Traffic commands: simulate, split, watch. */
import { parseDuration } from '../core/spec/duration';
import { findExperiment } from '../operations/experiments';
import { simulateTraffic } from '../operations/simulate';
import { splitTraffic } from '../operations/split';
import { watchAlerts } from '../operations/watch';
import { WeightsError, formatSplit, parseSplit } from '../shared/weights';
import {
  UsageError,
  jsonOption,
  numberFlag,
  onInterrupt,
  output,
  type CliContext,
  type Command,
} from './command';
import { environmentOptions, environmentUsage, runtimeFromFlags } from './environment';
import { simulationText } from './render';
import { workspaceOf } from './command';

const SIMULATE_HELP = [
  'Outcome model: a customer is offered the promotion when the served model scores them >= 0.5, and',
  'converts with probability 0.9 when offered and their label (column "converted") is 1, 0.03 when',
  'offered and the label is 0, and never when not offered. Feedback (conversion 0/1) goes to the router.',
  "With spec.metrics.model, each answered request's label goes to the labels endpoint 2 s after its answer.",
  'Drift: FEATURE=shift:+N | FEATURE=scale:F | FEATURE=mix:a=0.7,b=0.3, from --drift-from (fraction) on.',
  '--feedback-delay 2s sends each feedback after a random delay of up to 2 s, as real conversions come late',
  '(see metrics.primary.window in docs/experiments.md).',
  '--concurrency caps the requests in flight (default 4): --rps is a target, reached only while the model servers keep up;',
  'more in flight than the variants have MLServer processes only queues, and the queue shows as latency.',
  'On a remote cluster (--runtime kube --context CTX) the router is reached through a port-forward.',
  "--protocol grpc sends the requests to the router's gRPC port (the local environment's, or kind's on the HTTP port + 1; feedback stays on HTTP).",
].join('\n');

/** A duration flag (`500ms`, `2s`, `1m`) in ms. */
function durationFlag(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = parseDuration(String(value));
  if ('error' in parsed) throw new UsageError(`${flag}: ${parsed.error}`);
  return parsed.ms;
}

/** A progress bar on a terminal's stderr. */
function progressBar(): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let lastShown = -1;
  return (done, total) => {
    const pct = Math.floor((100 * done) / total);
    if (pct === lastShown) return;
    lastShown = pct;
    const bar = '█'.repeat(Math.floor(pct / 4)).padEnd(25, '░');
    process.stderr.write(`\r  ${bar} ${pct}% (${done}/${total})${done === total ? '\n' : ''}`);
  };
}

export function trafficCommands(ctx: CliContext): Record<string, Command> {
  return {
    simulate: {
      summary: 'replay a dataset through the router with sticky users, feedback and optional drift',
      usage: `model-canary simulate <experiment> [--requests 2000] [--rps 200] [--concurrency 4] [--drift FEATURE=SPEC]... [--drift-from 0.5] [--feedback-delay 2s] [--data FILE] [--protocol http|grpc] ${environmentUsage} [--json]`,
      help: SIMULATE_HELP,
      options: {
        ...environmentOptions,
        requests: { type: 'string' },
        rps: { type: 'string' },
        concurrency: { type: 'string' },
        drift: { type: 'string', multiple: true },
        'drift-from': { type: 'string' },
        'feedback-delay': { type: 'string' },
        data: { type: 'string' },
        protocol: { type: 'string' },
        ...jsonOption,
      },
      twin: {
        palette: ['simulateTraffic'],
        inputs: {
          experiment: '<positional>',
          requests: '--requests',
          drift: '--drift',
          protocol: '--protocol',
        },
      },
      async run(v, [ref]) {
        if (!ref) throw new UsageError('which experiment (name or file)?');
        const abort = onInterrupt();
        const summary = await simulateTraffic(
          runtimeFromFlags(ctx, v),
          {
            experiment: await findExperiment(workspaceOf(v), ref),
            requests: numberFlag(v.requests, '--requests'),
            rps: numberFlag(v.rps, '--rps'),
            concurrency: numberFlag(v.concurrency, '--concurrency'),
            drift: (v.drift as string[] | undefined) ?? [],
            driftFrom: numberFlag(v['drift-from'], '--drift-from'),
            feedbackDelayMs: durationFlag(v['feedback-delay'], '--feedback-delay'),
            dataFile: v.data as string | undefined,
            ...(v.protocol ? { protocol: v.protocol as 'http' | 'grpc' } : {}),
          },
          { signal: abort.signal, onRequests: v.json ? undefined : progressBar() },
        );
        output(v, summary, simulationText);
        return summary.ok > 0 ? 0 : 1;
      },
    },
    split: {
      summary: "change an experiment's traffic split (variants not named keep their weight)",
      usage: `model-canary split <experiment> <variant>=<weight> ... ${environmentUsage} [--json]`,
      options: { ...environmentOptions, ...jsonOption },
      twin: { palette: ['setTrafficSplit'], inputs: { experiment: '<positional>', weights: '<positional>' } },
      async run(v, [experiment, ...pairs]) {
        if (!experiment || pairs.length === 0) throw new UsageError('usage: split <experiment> v1=75 v2=25');
        let weights: Record<string, number>;
        try {
          weights = parseSplit(pairs.join(' '));
        } catch (err) {
          if (err instanceof WeightsError) throw new UsageError(err.message);
          throw err;
        }
        const result = await splitTraffic(runtimeFromFlags(ctx, v), { experiment, weights });
        output(v, result, (r) => `${r.experiment}: ${formatSplit(r.weights)}`);
        return 0;
      },
    },
    watch: {
      summary: 'print alerts (guardrails, SRM, drift, rollout transitions) as they happen, until Ctrl-C',
      usage: `model-canary watch <experiment> [--interval 2] ${environmentUsage} [--json]`,
      options: { ...environmentOptions, interval: { type: 'string', default: '2' }, ...jsonOption },
      async run(v, [experiment]) {
        if (!experiment) throw new UsageError('which experiment?');
        const abort = onInterrupt();
        await watchAlerts(
          runtimeFromFlags(ctx, v),
          { experiment, intervalSeconds: numberFlag(v.interval, '--interval') },
          (alert) =>
            console.log(
              v.json
                ? JSON.stringify({ ts: new Date().toISOString(), ...alert })
                : `${new Date().toISOString()}  ${alert.kind.padEnd(9)} ${alert.message}`,
            ),
          { signal: abort.signal },
        );
        return 0;
      },
    },
  };
}
