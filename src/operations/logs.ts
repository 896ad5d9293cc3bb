/** `logs` / Show Logs: the log of the router or of a model server (on Kubernetes fetched from its Pod). */
import { readFile } from 'node:fs/promises';
import type { Runtime } from '../runtime/runtime';

export const ROUTER_LOG = 'router';

export interface ComponentLog {
  component: string;
  /** The file holding the log (local components write it; a Pod's log is fetched into one). */
  file: string;
  /** Its last `lines` lines. */
  tail: string;
}

export async function componentLog(
  runtime: Runtime,
  input: { component?: string; lines?: number },
): Promise<ComponentLog> {
  const component = input.component ?? ROUTER_LOG;
  const file = await runtime.logFile(component);
  const text = await readFile(file, 'utf8').catch(() => '');
  const lines = input.lines ?? 100;
  return { component, file, tail: text.trimEnd().split('\n').slice(-lines).join('\n') };
}
