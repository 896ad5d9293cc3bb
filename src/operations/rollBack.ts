/**
 * `roll-back` / Roll Back / the dashboard's Roll Back: the router's controller sends all traffic
 * to the baseline. A running rollout is aborted; without one the controller records the same
 * `RolledBack` transition, so every roll back leaves the same event history.
 */
import type { OperationOptions, Runtime } from '../runtime/runtime';
import type { RolloutStatus } from '../shared/report';
import { rolloutAction } from './rollout';

export function rollBack(
  runtime: Runtime,
  input: { experiment: string },
  options: OperationOptions = {},
): Promise<RolloutStatus> {
  return rolloutAction(runtime, { experiment: input.experiment, action: 'abort' }, options);
}
