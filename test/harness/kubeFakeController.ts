/**
 * Stands in for the deployment and statefulset controllers the test API server does not run:
 * marks Deployments and StatefulSets rolled out by writing their status through the status subresource, the way the real controller
 * reports a finished rollout (observedGeneration caught up, every replica updated and available).
 */
import type { KubeConfig, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { kubeRequest, listObjects, statusMessage } from '../../src/kube';

/** Writes a finished-rollout status on one Deployment. */
export async function markRolledOut(kc: KubeConfig, context: string, dep: V1Deployment): Promise<void> {
  const replicas = dep.spec?.replicas ?? 1;
  const ns = dep.metadata!.namespace!;
  const name = dep.metadata!.name!;
  const res = await kubeRequest(kc, context, `/apis/apps/v1/namespaces/${ns}/deployments/${name}/status`, {
    method: 'PATCH',
    contentType: 'application/merge-patch+json',
    body: JSON.stringify({
      status: {
        observedGeneration: dep.metadata?.generation ?? 1,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [
          {
            type: 'Available',
            status: 'True',
            reason: 'MinimumReplicasAvailable',
            message: 'fake controller',
          },
          {
            type: 'Progressing',
            status: 'True',
            reason: 'NewReplicaSetAvailable',
            message: 'fake controller',
          },
        ],
      },
    }),
  });
  if (res.status !== 200) throw new Error(`status patch of ${ns}/${name} failed: ${statusMessage(res)}`);
}

/** Writes a finished-rollout status on one StatefulSet (every replica on the update revision, ready). */
export async function markStatefulSetRolledOut(
  kc: KubeConfig,
  context: string,
  sts: V1StatefulSet,
): Promise<void> {
  const replicas = sts.spec?.replicas ?? 1;
  const ns = sts.metadata!.namespace!;
  const name = sts.metadata!.name!;
  const revision = `${name}-${sts.metadata?.generation ?? 1}`;
  const res = await kubeRequest(kc, context, `/apis/apps/v1/namespaces/${ns}/statefulsets/${name}/status`, {
    method: 'PATCH',
    contentType: 'application/merge-patch+json',
    body: JSON.stringify({
      status: {
        observedGeneration: sts.metadata?.generation ?? 1,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        currentReplicas: replicas,
        currentRevision: revision,
        updateRevision: revision,
      },
    }),
  });
  if (res.status !== 200) throw new Error(`status patch of ${ns}/${name} failed: ${statusMessage(res)}`);
}

/** Marks every Deployment and StatefulSet of a namespace rolled out whenever its spec changes, until stopped. */
export function fakeDeploymentController(
  kc: KubeConfig,
  context: string,
  namespace: string,
  pollMs = 150,
): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const deps = await listObjects<V1Deployment>(kc, context, 'apps/v1', 'Deployment', namespace).catch(
        () => [],
      );
      for (const d of deps) {
        const done =
          (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
          (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 1);
        if (!done) await markRolledOut(kc, context, d).catch(() => undefined);
      }
      const sets = await listObjects<V1StatefulSet>(kc, context, 'apps/v1', 'StatefulSet', namespace).catch(
        () => [],
      );
      for (const d of sets) {
        const done =
          (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
          (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 1);
        if (!done) await markStatefulSetRolledOut(kc, context, d).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}
