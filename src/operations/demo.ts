/**
 * `demo`: the whole loop on sample-models — start, deploy experiments/propensity.yaml (or another
 * experiment of experiments/, e.g. the pipeline one), then either traffic with drift injected
 * halfway, or an automatic rollout of its candidate with traffic in rounds until the router's
 * controller ends it (or pauses it for a person).
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { attributionWindowMs } from '../core/analysis/attribution';
import type { Experiment } from '../core/spec/experiment';
import type { OperationOptions, Runtime } from '../runtime/runtime';
import type { Report } from '../shared/report';
import { emptySummary, type SimulationSummary } from '../simulator/simulator';
import { deployExperiment } from './deploy';
import { usageError } from './errors';
import { findExperiment } from './experiments';
import { TERMINAL_ROLLOUT_STATES, rolloutAction } from './rollout';
import { simulateTraffic } from './simulate';

export const DEMO_EXPERIMENT = 'propensity';
/** Short steps so the demo's rollout ends in about a minute. */
export const DEMO_ROLLOUT_STEPS = { minSamplesPerStep: 150, minStepSeconds: 3 };
const DEMO_DRIFT = 'basket_value=shift:+60';
const ROUNDS = 40;

export interface DemoInput {
  workspace: string;
  requests: number;
  rps: number;
  rollout: boolean;
  /** The experiment file experiments/<name>.yaml of the workspace (default: propensity). */
  experiment?: string;
}

export interface DemoResult {
  report: Report;
  simulation: SimulationSummary;
  endpoint: string;
  /** The experiment's name and its endpoint (`spec.endpoint`). */
  experiment: { name: string; endpoint: string };
}

function add(total: SimulationSummary, s: SimulationSummary): void {
  total.sent += s.sent;
  total.ok += s.ok;
  total.errors += s.errors;
  total.feedbackSent += s.feedbackSent;
  total.feedbackFailed += s.feedbackFailed;
  if (s.labelsSent !== undefined) total.labelsSent = (total.labelsSent ?? 0) + s.labelsSent;
  if (s.labelsFailed !== undefined) total.labelsFailed = (total.labelsFailed ?? 0) + s.labelsFailed;
  total.durationMs += s.durationMs;
  total.firstError ??= s.firstError;
  for (const [name, t] of Object.entries(s.byVariant)) {
    const acc = (total.byVariant[name] ??= { requests: 0, errors: 0, offered: 0, converted: 0 });
    acc.requests += t.requests;
    acc.errors += t.errors;
    acc.offered += t.offered;
    acc.converted += t.converted;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Conversions come late in the demo when the experiment has an attribution window: each waits up
 * to a fifth of the window (at most 5 s), so the report shows pending units maturing, and the
 * rest of the window leaves room for a loaded machine's slow answers.
 */
export function demoFeedbackDelayMs(experiment: Experiment): number | undefined {
  const window = attributionWindowMs(experiment);
  return window === undefined ? undefined : Math.min(window / 5, 5_000);
}

/** Runs the demo on a started environment; the caller stops it. */
export async function runDemo(
  runtime: Runtime,
  input: DemoInput,
  options: OperationOptions = {},
): Promise<DemoResult> {
  const file = demoExperimentFile(input.workspace, input.experiment ?? DEMO_EXPERIMENT);
  const say = options.onProgress ?? (() => undefined);
  const experiment = await findExperiment(input.workspace, file);
  const name = experiment.metadata.name;
  const split = experiment.spec.variants.map((v) => `${v.name} ${v.weight}%`).join(' / ');
  say(`deploying experiments/${basename(file)} (${split})`);
  await deployExperiment(runtime, { experimentFile: file }, options);
  const candidate = experiment.spec.variants.find((v) => v.role !== 'baseline')?.name ?? 'v2';
  const feedbackDelayMs = demoFeedbackDelayMs(experiment);
  let simulation: SimulationSummary;
  if (input.rollout) {
    say(`starting a progressive rollout of ${candidate} (demo steps: 150 samples, 3 s)`);
    await rolloutAction(runtime, {
      experiment: name,
      action: 'start',
      candidate,
      overrides: DEMO_ROLLOUT_STEPS,
    });
    simulation = emptySummary();
    const perRound = Math.min(1000, input.requests);
    for (let round = 0; round < ROUNDS; round++) {
      add(
        simulation,
        await simulateTraffic(
          runtime,
          { experiment, requests: perRound, rps: input.rps, startRow: round * perRound, feedbackDelayMs },
          { signal: options.signal },
        ),
      );
      await pause(1_500); // one controller evaluation after the last feedback
      const rollout = (await runtime.report(name)).rollout;
      say(
        `rollout: ${rollout?.state ?? 'unknown'} at ${rollout ? (rollout.steps[rollout.stepIndex] ?? 0) : 0}% — ${rollout?.reason ?? ''}`,
      );
      // Paused waits for a person (drift, SRM, approval): the demo stops there and reports why.
      if (!rollout || TERMINAL_ROLLOUT_STATES.includes(rollout.state) || rollout.state === 'Paused') break;
    }
    simulation.achievedRps = simulation.sent / Math.max(0.001, simulation.durationMs / 1000);
  } else {
    say(`simulating ${input.requests} requests, drift on basket_value from halfway`);
    simulation = await simulateTraffic(
      runtime,
      { experiment, requests: input.requests, rps: input.rps, drift: [DEMO_DRIFT], feedbackDelayMs },
      options,
    );
  }
  await pause(500); // let the last feedback land
  return {
    report: await runtime.report(name),
    simulation,
    endpoint: await runtime.endpoint(),
    experiment: { name, endpoint: experiment.spec.endpoint },
  };
}

/** experiments/<name>.yaml of the workspace; a usage error lists the ones there are. */
export function demoExperimentFile(workspace: string, name: string): string {
  const dir = join(workspace, 'experiments');
  const file = join(dir, `${name}.yaml`);
  if (/^[a-z0-9][a-z0-9-]*$/.test(name) && existsSync(file)) return file;
  if (!existsSync(dir))
    throw usageError(
      `the demo needs ${file} (run it from the repository, or pass --workspace sample-models)`,
    );
  const known = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length));
  throw usageError(
    `no experiment "${name}" in ${dir} — pass --experiment with one of: ${known.join(', ') || 'none'}`,
  );
}
