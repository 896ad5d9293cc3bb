/** `up` / Start Environment: the router of the environment, no experiment yet; idempotent. */
import type { EnvironmentStatus, OperationOptions, Runtime } from '../runtime/runtime';

export function startEnvironment(
  runtime: Runtime,
  options: OperationOptions = {},
): Promise<EnvironmentStatus> {
  return runtime.up(options);
}
