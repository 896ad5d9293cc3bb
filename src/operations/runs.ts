/** `runs`: an experiment's runs (each deploy starts one), oldest first, and which one is current. */
import { routerFailure, type OperationOptions, type Runtime } from '../runtime/runtime';
import type { RunInfo } from '../shared/report';

export interface ExperimentRuns {
  experiment: string;
  /** The current run's id; null before the first run (a log written before runs existed). */
  current: string | null;
  runs: RunInfo[];
}

/** The runs the experiment's router has recorded in its event log. */
export async function experimentRuns(
  runtime: Runtime,
  input: { experiment: string },
  options: OperationOptions = {},
): Promise<ExperimentRuns> {
  const router = await runtime.router();
  const { current, runs } = await router
    .runs(input.experiment, options.signal)
    .catch(routerFailure(`no runs of ${input.experiment}`));
  return { experiment: input.experiment, current, runs };
}
