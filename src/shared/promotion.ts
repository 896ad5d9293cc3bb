/**
 * What makes a rollout a promotion: the user has chosen the candidate, so at the last step "not
 * worse" is enough to reach 100% (a rollout started by Start Automatic Rollout needs "better").
 * Shared by the promote-candidate operation and the browser dashboard's Promote button.
 */
import type { RolloutOverrides } from './routerApi';

export const PROMOTION_OVERRIDES: RolloutOverrides = { promoteWhenEquivalent: true };
