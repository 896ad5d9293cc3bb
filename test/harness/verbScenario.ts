/**
 * One scenario of the verbs — a partial split, promote candidate, roll back — and what it must
 * leave in the router at each step, whichever adapter (CLI, VS Code) or runtime (local
 * processes, Kubernetes) carries it out. The parity tests compare each run with EXPECTED_STEPS.
 */
import { promoteCandidate } from '../../src/operations/promoteCandidate';
import { rollBack } from '../../src/operations/rollBack';
import { splitTraffic } from '../../src/operations/split';
import type { Runtime } from '../../src/runtime/runtime';
import type { Report } from '../../src/shared/report';

export interface ScenarioStep {
  weights: Record<string, number>;
  rollout?: { state: string; candidate: string; transitions: string[] };
}

/** What a step leaves in the report (the rollout only once the scenario has started one). */
export function stepOf(r: Report, withRollout = true): ScenarioStep {
  return {
    weights: Object.fromEntries(r.variants.map((v) => [v.name, v.weight])),
    ...(withRollout && r.rollout
      ? {
          rollout: {
            state: r.rollout.state,
            candidate: r.rollout.candidate,
            transitions: r.rollout.history.map((h) => `${h.from}→${h.to}@${h.weight}`),
          },
        }
      : {}),
  };
}

/** On the sample experiment (v1 95 / v2 5): v2=20 keeps v1's 95; the promotion is the router's rollout at 5%; the roll back its RolledBack. */
export const EXPECTED_STEPS: ScenarioStep[] = [
  { weights: { v1: 95, v2: 20 } },
  {
    weights: { v1: 95, v2: 5 },
    rollout: { state: 'Progressing', candidate: 'v2', transitions: ['Initialized→Progressing@5'] },
  },
  {
    weights: { v1: 100, v2: 0 },
    rollout: {
      state: 'RolledBack',
      candidate: 'v2',
      transitions: ['Initialized→Progressing@5', 'Progressing→RolledBack@0'],
    },
  },
];

/** The scenario through the operations layer (what the VS Code commands call) on `runtime`. */
export async function scenarioThroughOperations(runtime: Runtime): Promise<ScenarioStep[]> {
  const report = async (withRollout = true) => stepOf(await runtime.report('propensity'), withRollout);
  const steps: ScenarioStep[] = [];
  await splitTraffic(runtime, { experiment: 'propensity', weights: { v2: 20 } });
  steps.push(await report(false));
  await promoteCandidate(runtime, { experiment: 'propensity' });
  steps.push(await report());
  await rollBack(runtime, { experiment: 'propensity' });
  steps.push(await report());
  return steps;
}
