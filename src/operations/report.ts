/** `report`: the live report of a deployed experiment, from its router. */
import type { OperationOptions, Runtime } from '../runtime/runtime';
import type { Report } from '../shared/report';

export function experimentReport(
  runtime: Runtime,
  input: { experiment: string },
  options: OperationOptions = {},
): Promise<Report> {
  return runtime.report(input.experiment, options);
}
