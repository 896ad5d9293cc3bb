/** `doctor` / Run Doctor: what a local kind cluster needs (container engine, kind, the port, inotify). */
import { DEFAULT_CLUSTER_NAME } from '../kind/cluster';
import { runDoctor, type DoctorReport } from '../kind/doctor';
import { resolveKindBinary } from '../kind/locate';
import { runCommand } from '../process/execaRunner';
import type { OperationOptions } from '../runtime/runtime';
import { DEFAULT_ROUTER_PORT } from './cluster';

export interface DoctorInput {
  kindPath?: string;
  clusterName?: string;
  hostPort?: number;
}

export interface DoctorResult extends DoctorReport {
  kindBinary: string;
}

export async function checkPrerequisites(
  input: DoctorInput,
  options: OperationOptions = {},
): Promise<DoctorResult> {
  const kindBinary = resolveKindBinary(input.kindPath);
  const report = await runDoctor(runCommand, {
    kindBinary,
    clusterName: input.clusterName ?? DEFAULT_CLUSTER_NAME,
    hostPort: input.hostPort ?? DEFAULT_ROUTER_PORT,
    signal: options.signal,
  });
  return { ...report, kindBinary };
}
