/** `down` / Stop Environment: everything the environment runs (on Kubernetes the event log's volume stays). */
import type { OperationOptions, Runtime } from '../runtime/runtime';

export function stopEnvironment(runtime: Runtime, options: OperationOptions = {}): Promise<void> {
  return runtime.down(options);
}
