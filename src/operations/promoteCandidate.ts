/**
 * `promote-candidate` / Promote Candidate / the dashboard's Promote: a rollout of the candidate
 * by the router's controller, through the experiment's steps, gated like any rollout (guardrails,
 * SRM, drift, the always-valid test). Nothing ramps on the client. What makes it a promotion is
 * the last step: the user has chosen the candidate, so "not worse" is enough to reach 100%.
 */
import type { OperationOptions, Runtime } from '../runtime/runtime';
import type { RolloutStatus } from '../shared/report';
import { PROMOTION_OVERRIDES } from '../shared/promotion';
import type { RolloutOverrides } from '../shared/routerApi';
import { rolloutAction } from './rollout';

export interface PromoteCandidateInput {
  experiment: string;
  /** Required when the experiment has several candidates. */
  candidate?: string;
  /** Demo-length steps, e.g. {minSamplesPerStep: 150, minStepSeconds: 3}. */
  overrides?: RolloutOverrides;
}

export function promoteCandidate(
  runtime: Runtime,
  input: PromoteCandidateInput,
  options: OperationOptions = {},
): Promise<RolloutStatus> {
  return rolloutAction(
    runtime,
    {
      experiment: input.experiment,
      action: 'start',
      candidate: input.candidate,
      overrides: { ...PROMOTION_OVERRIDES, ...input.overrides },
    },
    options,
  );
}
