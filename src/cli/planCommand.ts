/** `model-canary plan`: what an experiment can detect and how long it takes, before any traffic. */
import { findExperiment } from '../operations/experiments';
import {
  DEFAULT_BASELINE_MEAN,
  DEFAULT_BASELINE_RATE,
  DEFAULT_PLAN_RPS,
  planExperiment,
  planText,
} from '../operations/plan';
import { UsageError, jsonOption, output, workspaceOf, type Command } from './command';

function finite(raw: unknown, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (String(raw).trim() === '' || !Number.isFinite(n))
    throw new UsageError(`${name} must be a number, got "${String(raw)}"`);
  return n;
}

/** "7d", "12h", "90m", "45s" (or a number of seconds) as seconds. */
function duration(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(d|h|m|s)?\s*$/.exec(String(raw));
  if (!m || !(Number(m[1]) > 0))
    throw new UsageError(`--within must be a duration > 0 such as 7d, 12h or 90m, got "${String(raw)}"`);
  return Number(m[1]) * { d: 86_400, h: 3_600, m: 60, s: 1 }[(m[2] ?? 's') as 'd' | 'h' | 'm' | 's'];
}

export const planCommand: Command = {
  summary: 'before any traffic: the sample size and the expected time an experiment needs to detect its MDE',
  usage:
    'model-canary plan <experiment> [--rps 10] [--baseline-rate 0.1 | --baseline-mean 1 --baseline-sd 1] [--candidate NAME] [--within 7d] [--workspace DIR] [--json]',
  help: [
    "Plans the experiment's primary metric at the split in its file, for each candidate with weight:",
    'the minimum detectable effect, alpha and power (spec.metrics.primary: minimumDetectableEffect,',
    "alpha, power), the fixed-horizon sample size per arm (statsmodels' formula at the split's",
    "ratio), and the always-valid test's expected sample size at the MDE with its 10th–90th",
    'percentile range (simulated, seeded), then "about N days to detect +X%" at the traffic rate.',
    `--rps: randomised units per second, all arms together (new users with a sticky key); default ${DEFAULT_PLAN_RPS}.`,
    `--baseline-rate: the baseline's conversion rate (proportions); default ${DEFAULT_BASELINE_RATE}.`,
    `--baseline-mean, --baseline-sd: the baseline's mean (default ${DEFAULT_BASELINE_MEAN}) and standard deviation`,
    "per unit (default the mean's absolute value) (continuous metrics).",
    '--within: a horizon (7d, 12h, 90m): the chance that the test detects the MDE within it. See docs/planning.md.',
    'Exit codes: 0 plan printed; 2 an unknown or invalid experiment, or a bad flag.',
  ].join('\n'),
  options: {
    workspace: { type: 'string', default: '.' },
    rps: { type: 'string' },
    'baseline-rate': { type: 'string' },
    'baseline-mean': { type: 'string' },
    'baseline-sd': { type: 'string' },
    candidate: { type: 'string' },
    within: { type: 'string' },
    ...jsonOption,
  },
  twin: { palette: ['planExperiment'], inputs: { experiment: '<positional>', rps: '--rps' } },
  async run(v, [ref]) {
    if (!ref) throw new UsageError('which experiment (name or file)?');
    const result = planExperiment({
      experiment: await findExperiment(workspaceOf(v), ref),
      rps: finite(v.rps, '--rps'),
      baselineRate: finite(v['baseline-rate'], '--baseline-rate'),
      baselineMean: finite(v['baseline-mean'], '--baseline-mean'),
      baselineSd: finite(v['baseline-sd'], '--baseline-sd'),
      candidate: v.candidate as string | undefined,
      withinSeconds: duration(v.within),
    });
    output(v, result, planText);
    return 0;
  },
};
