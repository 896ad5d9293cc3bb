/**
 * What the router remembers of its log besides the reports and the request index: each
 * experiment's last weights (and last weights from a config), the latest rollout event of its
 * current run, and the alert deliveries. Replay fills it, and so does every recorded event, so a
 * checkpoint taken at any point holds what a full replay up to that point would (./checkpoints.ts).
 */
import type { AlertEvent, ExperimentEvent, RolloutEvent, WeightsEvent } from '../shared/events';

export class ReplayMemory {
  readonly lastWeights = new Map<string, WeightsEvent>();
  /** The weights each experiment last had from a config (not the API, not a rollout). */
  readonly lastConfigWeights = new Map<string, WeightsEvent>();
  readonly rollouts = new Map<string, RolloutEvent>();
  readonly alerts: AlertEvent[] = [];

  /** Gives the router what its rollout controller and alert delivery resume from. */
  handOver(rollouts: Map<string, RolloutEvent>, alerts: AlertEvent[]): void {
    for (const [name, event] of this.rollouts) rollouts.set(name, event);
    alerts.push(...this.alerts);
  }

  observe(event: ExperimentEvent): void {
    if (event.type === 'weights') {
      this.lastWeights.set(event.experiment, event);
      if (event.source !== 'api' && event.source !== 'rollout')
        this.lastConfigWeights.set(event.experiment, event);
    } else if (event.type === 'rollout') {
      this.rollouts.set(event.experiment, event);
    } else if (event.type === 'run') {
      this.rollouts.delete(event.experiment); // no rollout carried over into a new run
    } else if (event.type === 'alert') {
      this.alerts.push(event);
    }
  }
}
