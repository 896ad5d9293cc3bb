/** `deploy` / Deploy Experiment: starts the environment when it is stopped, then the experiment's model servers and route. */
import { SpecError } from '../core/spec/errors';
import { loadExperimentFile } from '../core/spec/experiment';
import type { EnvironmentStatus, OperationOptions, Runtime } from '../runtime/runtime';
import { routerPaths } from '../shared/routerApi';
import { usageError } from './errors';

export interface DeployInput {
  experimentFile: string;
}

export interface DeployResult {
  experiment: string;
  /** Where clients send requests: POST `${inferUrl}`. */
  inferUrl: string;
  status: EnvironmentStatus;
}

export async function deployExperiment(
  runtime: Runtime,
  input: DeployInput,
  options: OperationOptions = {},
): Promise<DeployResult> {
  try {
    const experiment = await loadExperimentFile(input.experimentFile);
    if (!(await runtime.status()).up) await runtime.up(options);
    const status = await runtime.deploy(input.experimentFile, options);
    return {
      experiment: experiment.metadata.name,
      inferUrl: `${status.routerUrl ?? ''}${routerPaths.infer(experiment.spec.endpoint)}`,
      status,
    };
  } catch (err) {
    if (err instanceof SpecError) throw usageError(`invalid experiment:\n${err.message}`);
    throw err;
  }
}
