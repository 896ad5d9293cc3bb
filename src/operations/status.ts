/** `status`: the router, the model servers and the deployed experiments of the environment. */
import type { EnvironmentStatus, Runtime } from '../runtime/runtime';

export function environmentStatus(runtime: Runtime): Promise<EnvironmentStatus> {
  return runtime.status();
}
