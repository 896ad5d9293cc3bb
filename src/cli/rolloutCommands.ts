/** Rollout commands: rollout start|pause|resume|approve|abort, promote-candidate, roll-back. */
import { promoteCandidate } from '../operations/promoteCandidate';
import { rollBack } from '../operations/rollBack';
import { isRolloutAction, rolloutAction } from '../operations/rollout';
import type { RolloutOverrides } from '../shared/routerApi';
import { ROLLOUT_ACTIONS } from '../shared/routerApi';
import {
  UsageError,
  jsonOption,
  numberFlag,
  onInterrupt,
  output,
  progress,
  type CliContext,
  type Command,
} from './command';
import { environmentOptions, environmentUsage, runtimeFromFlags } from './environment';
import { rolloutText } from './render';

const ROLLOUT_HELP = [
  'Steps come from spec.rollout.steps (default 5 → 25 → 50 → 100). Each step needs minSamplesPerStep candidate',
  'requests and minStepSeconds; guardrails, sample-ratio mismatch and drift are checked at every evaluation, and the',
  'always-valid test on the primary metric rolls a worse candidate back and promotes a better one at the last step.',
  'The controller runs in the router (in its Pod on Kubernetes), so the rollout goes on after this command returns.',
].join('\n');

const stepOptions = {
  'min-samples': { type: 'string' as const },
  'min-step-seconds': { type: 'string' as const },
};

function overridesOf(v: Record<string, unknown>): RolloutOverrides {
  return {
    minSamplesPerStep: numberFlag(v['min-samples'], '--min-samples'),
    minStepSeconds: numberFlag(v['min-step-seconds'], '--min-step-seconds'),
  };
}

export function rolloutCommands(ctx: CliContext): Record<string, Command> {
  return {
    rollout: {
      summary: 'progressive rollout run by the router: start | pause | resume | approve | abort',
      usage: `model-canary rollout <start|pause|resume|approve|abort> <experiment> [--candidate v2] [--min-samples N] [--min-step-seconds S] ${environmentUsage} [--json]`,
      help: ROLLOUT_HELP,
      options: { ...environmentOptions, candidate: { type: 'string' }, ...stepOptions, ...jsonOption },
      twin: {
        palette: ['startRollout', 'pauseRollout', 'resumeRollout', 'approveRollout', 'abortRollout'],
        inputs: { action: '<positional>', experiment: '<positional>', candidate: '--candidate' },
      },
      async run(v, [action, experiment]) {
        if (!action || !isRolloutAction(action) || !experiment)
          throw new UsageError(`usage: rollout <${ROLLOUT_ACTIONS.join('|')}> <experiment>`);
        const status = await rolloutAction(runtimeFromFlags(ctx, v), {
          experiment,
          action,
          candidate: v.candidate as string | undefined,
          overrides: overridesOf(v),
        });
        output(v, status, (s) => rolloutText(experiment, s));
        return 0;
      },
    },
    'promote-candidate': {
      summary: "promote a candidate: the router's rollout controller takes it through the steps to 100%",
      usage: `model-canary promote-candidate <experiment> [--candidate v2] [--min-samples N] [--min-step-seconds S] ${environmentUsage} [--json]`,
      help: [
        'A promotion is a rollout with the candidate as target: the same steps, gates and event history as',
        '`rollout start`, except that at the last step "not worse" is enough (you chose the candidate).',
        'Follow it with `model-canary watch <experiment>` or the dashboard; stop it with roll-back.',
      ].join('\n'),
      options: { ...environmentOptions, candidate: { type: 'string' }, ...stepOptions, ...jsonOption },
      twin: {
        palette: ['promoteCandidate'],
        inputs: { experiment: '<positional>', candidate: '--candidate' },
      },
      async run(v, [experiment]) {
        if (!experiment) throw new UsageError('which experiment?');
        const abort = onInterrupt();
        const status = await promoteCandidate(
          runtimeFromFlags(ctx, v),
          { experiment, candidate: v.candidate as string | undefined, overrides: overridesOf(v) },
          { signal: abort.signal, onProgress: progress(!!v.json) },
        );
        output(v, status, (s) => rolloutText(experiment, s));
        return 0;
      },
    },
    'roll-back': {
      summary: 'send all traffic back to the baseline (aborts a running rollout or promotion)',
      usage: `model-canary roll-back <experiment> ${environmentUsage} [--json]`,
      options: { ...environmentOptions, ...jsonOption },
      twin: { palette: ['rollBack'], inputs: { experiment: '<positional>' } },
      async run(v, [experiment]) {
        if (!experiment) throw new UsageError('which experiment?');
        const status = await rollBack(runtimeFromFlags(ctx, v), { experiment });
        output(v, status, (s) => rolloutText(experiment, s));
        return 0;
      },
    },
  };
}
