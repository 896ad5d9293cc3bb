/** `report`: the live report of a deployed experiment's current run (or an earlier run), from its router. */
import { routerFailure, type OperationOptions, type Runtime } from '../runtime/runtime';
import type { Report } from '../shared/report';

/** The report of the current run, or of an earlier run (`run`, an id from the log or `runs`). */
export async function experimentReport(
  runtime: Runtime,
  input: { experiment: string; run?: string },
  options: OperationOptions = {},
): Promise<Report> {
  if (!input.run) return runtime.report(input.experiment, options);
  return (await runtime.router())
    .report(input.experiment, options.signal, input.run)
    .catch(routerFailure(`no report of run ${input.run} of ${input.experiment}`));
}
