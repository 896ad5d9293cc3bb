/**
 * `cluster create|delete|status` / Create kind Cluster, Delete kind Cluster: the local kind
 * cluster, with the workspace mounted at /models in the node and the router's NodePort on
 * 127.0.0.1:<port>. kind's own failures come back as KindError, whose message carries the fix.
 */
import {
  createKindCluster,
  deleteKindCluster,
  kindClusterStatus,
  DEFAULT_CLUSTER_NAME,
} from '../kind/cluster';
import type { CreatedCluster, KindClusterStatus } from '../kind/cluster';
import { resolveKindBinary } from '../kind/locate';
import { runCommand } from '../process/execaRunner';
import type { EnvironmentStatus, OperationOptions } from '../runtime/runtime';

export const DEFAULT_ROUTER_PORT = 8090;

export interface ClusterInput {
  /** The cluster's name (its context is kind-<name>). */
  name?: string;
  /** A kind binary; default kind on PATH, then the copy tools/install-kind.sh builds. */
  kindPath?: string;
}

export interface CreateClusterInput extends ClusterInput {
  workspace: string;
  hostPort?: number;
  image?: string;
}

export function createCluster(
  input: CreateClusterInput,
  options: OperationOptions = {},
): Promise<CreatedCluster> {
  return createKindCluster(runCommand, {
    kindBinary: resolveKindBinary(input.kindPath),
    name: input.name ?? DEFAULT_CLUSTER_NAME,
    workspace: input.workspace,
    hostPort: input.hostPort ?? DEFAULT_ROUTER_PORT,
    image: input.image,
    signal: options.signal,
    onProgress: options.onProgress,
  });
}

export function deleteCluster(input: ClusterInput, options: OperationOptions = {}): Promise<void> {
  return deleteKindCluster(runCommand, {
    kindBinary: resolveKindBinary(input.kindPath),
    name: input.name ?? DEFAULT_CLUSTER_NAME,
    signal: options.signal,
    onProgress: options.onProgress,
  });
}

export interface ClusterStatus extends KindClusterStatus {
  /** The Model Canary stack in the cluster, when it exists and could be read. */
  stack?: EnvironmentStatus;
}

/** Whether the cluster exists, and (through `stackOf`, the runtime of its context) what runs in it. */
export async function clusterStatus(
  input: ClusterInput,
  stackOf: (context: string) => Promise<EnvironmentStatus>,
  options: OperationOptions = {},
): Promise<ClusterStatus> {
  const status = await kindClusterStatus(runCommand, {
    kindBinary: resolveKindBinary(input.kindPath),
    name: input.name ?? DEFAULT_CLUSTER_NAME,
    signal: options.signal,
  });
  const stack = status.exists ? await stackOf(status.context).catch(() => undefined) : undefined;
  return { ...status, stack };
}
