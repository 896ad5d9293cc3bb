/**
 * Waiting for Deployments and StatefulSets (the router) to roll out, the way `kubectl rollout
 * status` decides it: the controller has seen the latest spec (observedGeneration), every
 * replica runs the new template (updatedReplicas; for a StatefulSet also the current revision
 * is the update revision), no old replica is left, and the new ones are available. Polls,
 * reports each change of state, and on timeout says what the Pods are stuck on.
 */
import type { KubeConfig, V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { listObjects, readLive } from './objects';

export interface RolloutState {
  ref: string;
  done: boolean;
  /** Why it is not done yet, or a failure the controller reported. */
  message: string;
  failed: boolean;
}

/** A workload the stack rolls out: the model servers' Deployments and the router's StatefulSet. */
export type Workload = V1Deployment | V1StatefulSet;
export type WorkloadKind = 'Deployment' | 'StatefulSet';

/** The rollout state of a Deployment or StatefulSet as its status tells it (pure). */
export function rolloutState(dep: Workload | undefined, ref: string): RolloutState {
  if (!dep) return { ref, done: false, failed: false, message: 'not found' };
  if (dep.kind === 'StatefulSet') return statefulSetState(dep as V1StatefulSet, ref);
  dep = dep as V1Deployment;
  const want = dep.spec?.replicas ?? 1;
  const s = dep.status ?? {};
  const generation = dep.metadata?.generation ?? 0;
  const observed = s.observedGeneration ?? 0;
  if (observed < generation)
    return {
      ref,
      done: false,
      failed: false,
      message: 'waiting for the deployment controller to see the new spec',
    };
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return {
      ref,
      done: false,
      failed: true,
      message: `rollout failed: ${progressing.message ?? 'progress deadline exceeded'}`,
    };
  const updated = s.updatedReplicas ?? 0;
  const total = s.replicas ?? 0;
  const available = s.availableReplicas ?? 0;
  if (updated < want)
    return { ref, done: false, failed: false, message: `${updated} of ${want} replicas updated` };
  if (total > updated)
    return { ref, done: false, failed: false, message: `${total - updated} old replicas still terminating` };
  if (available < updated)
    return {
      ref,
      done: false,
      failed: false,
      message: `${available} of ${updated} updated replicas available`,
    };
  return { ref, done: true, failed: false, message: `${available} of ${want} available` };
}

function statefulSetState(sts: V1StatefulSet, ref: string): RolloutState {
  const want = sts.spec?.replicas ?? 1;
  const s = sts.status;
  const pending = (message: string): RolloutState => ({ ref, done: false, failed: false, message });
  if (!s || (s.observedGeneration ?? 0) < (sts.metadata?.generation ?? 0))
    return pending('waiting for the statefulset controller to see the new spec');
  const updated = s.updatedReplicas ?? 0;
  if (updated < want) return pending(`${updated} of ${want} replicas updated`);
  if (s.updateRevision && s.currentRevision !== s.updateRevision)
    return pending(`${(s.replicas ?? 0) - updated} old replicas still being replaced`);
  const available = s.availableReplicas ?? s.readyReplicas ?? 0;
  if (available < want) return pending(`${available} of ${want} replicas available`);
  return { ref, done: true, failed: false, message: `${available} of ${want} available` };
}

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
  onProgress?: (message: string) => void;
  signal?: AbortSignal;
}

export class RolloutError extends Error {
  override readonly name = 'RolloutError';
  constructor(
    message: string,
    readonly states: RolloutState[],
  ) {
    super(message);
  }
}

/** Resolves when every Deployment (or StatefulSet: `kind`) has rolled out; RolloutError on failure or timeout. */
export async function waitForRollouts(
  kc: KubeConfig,
  context: string,
  deployments: readonly { name: string; namespace: string; kind?: WorkloadKind }[],
  { timeoutMs = 300_000, pollMs = 1_000, onProgress, signal }: WaitOptions = {},
): Promise<RolloutState[]> {
  const deadline = Date.now() + timeoutMs;
  const last = new Map<string, string>();
  for (;;) {
    signal?.throwIfAborted();
    const states = await Promise.all(
      deployments.map(async (d) => {
        const kind = d.kind ?? 'Deployment';
        const ref = `${kind} ${d.namespace}/${d.name}`;
        const dep = await readLive<Workload>(kc, context, {
          apiVersion: 'apps/v1',
          kind,
          metadata: { name: d.name, namespace: d.namespace },
        });
        return rolloutState(dep && { ...dep, kind }, ref);
      }),
    );
    for (const s of states) {
      if (last.get(s.ref) !== s.message)
        onProgress?.(`${s.ref.replace(/^(Deployment|StatefulSet) /, '')}: ${s.message}`);
      last.set(s.ref, s.message);
    }
    const failed = states.filter((s) => s.failed);
    if (failed.length) throw new RolloutError(failed.map((s) => `${s.ref}: ${s.message}`).join('; '), states);
    if (states.every((s) => s.done)) return states;
    if (Date.now() >= deadline) {
      const pending = states.filter((s) => !s.done);
      const hints = await Promise.all(
        deployments
          .filter((d) => pending.some((p) => p.ref === `${d.kind ?? 'Deployment'} ${d.namespace}/${d.name}`))
          .map((d) => podHint(kc, context, d).catch(() => undefined)),
      );
      throw new RolloutError(
        `not rolled out within ${Math.round(timeoutMs / 1000)} s: ${pending.map((s) => `${s.ref} (${s.message})`).join('; ')}` +
          hints
            .filter(Boolean)
            .map((h) => `\n  ${h}`)
            .join(''),
        states,
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
  }
}

/** What the Pods of a Deployment or StatefulSet are waiting on, in one line. */
async function podHint(
  kc: KubeConfig,
  context: string,
  d: { name: string; namespace: string; kind?: WorkloadKind },
): Promise<string> {
  const kind = d.kind ?? 'Deployment';
  const dep = await readLive<Workload>(kc, context, {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: d.name, namespace: d.namespace },
  });
  const match = dep?.spec?.selector?.matchLabels ?? {};
  const selector = Object.entries(match)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await listObjects<V1Pod>(kc, context, 'v1', 'Pod', d.namespace, selector);
  if (pods.length === 0)
    return `${d.name}: no Pods yet — check its events (kubectl -n ${d.namespace} describe ${kind.toLowerCase()} ${d.name})`;
  const reasons = pods.flatMap((p) => {
    const waiting = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]
      .map((c) => c.state?.waiting)
      .filter((w): w is NonNullable<typeof w> => !!w?.reason)
      .map((w) => `${w.reason}${w.message ? `: ${w.message}` : ''}`);
    const unscheduled = p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    return [
      ...waiting.map((w) => `${p.metadata?.name}: ${w}`),
      ...(unscheduled
        ? [`${p.metadata?.name}: not scheduled: ${unscheduled.message ?? unscheduled.reason}`]
        : []),
    ];
  });
  return reasons.length
    ? reasons.join('; ')
    : `${d.name}: Pods ${pods.map((p) => `${p.metadata?.name} ${p.status?.phase}`).join(', ')}`;
}
