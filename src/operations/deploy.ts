/** `deploy` / Deploy Experiment: starts the environment when it is stopped, then the experiment's model servers and route, and a new run. */
import { SpecError } from '../core/spec/errors';
import { loadExperimentFile } from '../core/spec/experiment';
import {
  routerFailure,
  type EnvironmentStatus,
  type OperationOptions,
  type Runtime,
} from '../runtime/runtime';
import type { RunInfo } from '../shared/report';
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
  /** The run this deploy started: the report covers its traffic only. */
  run: RunInfo;
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
    const name = experiment.metadata.name;
    // Every deploy is a new run, so a second deploy (or the demo run again) is not mixed with the last.
    const run = await (
      await runtime.router()
    )
      .startRun(name, 'deploy', options.signal)
      .catch(routerFailure(`the router did not start a new run of ${name}`));
    options.onProgress?.(`run ${run.id} of ${name} started`);
    return {
      experiment: name,
      inferUrl: `${status.routerUrl ?? ''}${routerPaths.infer(experiment.spec.endpoint)}`,
      status,
      run,
    };
  } catch (err) {
    if (err instanceof SpecError) throw usageError(`invalid experiment:\n${err.message}`);
    throw err;
  }
}
