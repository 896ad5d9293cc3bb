/**
 * The event logs' quarantined lines of a release's router replicas, for `status` on Kubernetes
 * as local status shows them (src/runtime/processStatus.ts). Each replica has its own log, so
 * each running router Pod is asked through the API server's Pod proxy (`pods/proxy`); where that
 * is refused, the one replica the Service answers with is asked instead.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { labelSelector } from '../kube/cluster';
import { listObjects } from '../kube/objects';
import { kubeRequest } from '../kube/request';
import { DEFAULT_RELEASE, routerSelector } from '../manifests/stack';
import { routerPaths } from '../shared/routerApi';
import type { KubeStackTarget } from './kubeStackStatus';

export interface ReplicaLogHealth {
  /** The router Pod, or undefined when the Service picked the replica. */
  pod: string | undefined;
  quarantined: number;
  quarantineFile: string;
}

type Health = { quarantined: number; quarantineFile: string } | undefined;

/** Quarantined lines per router replica (only replicas that have any). */
export async function routerLogHealth(
  target: KubeStackTarget,
  routerPort: number,
  viaService: () => Promise<Health>,
): Promise<ReplicaLogHealth[]> {
  const { kc, context, namespace } = target;
  const pods = await listObjects<V1Pod>(
    kc,
    context,
    'v1',
    'Pod',
    namespace,
    labelSelector(routerSelector(target.release ?? DEFAULT_RELEASE)),
  ).catch(() => [] as V1Pod[]);
  const running = pods
    .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && p.metadata?.name)
    .map((p) => p.metadata!.name!)
    .sort();
  const answers = await Promise.all(
    running.map(async (pod) => {
      const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}:${routerPort}/proxy${routerPaths.experiments}`;
      const res = await kubeRequest(kc, context, path, { timeoutMs: 3_000 }).catch(() => undefined);
      if (res?.status !== 200) return { pod, answered: false, health: undefined };
      try {
        return { pod, answered: true, health: (JSON.parse(res.text) as { eventLog?: Health }).eventLog };
      } catch {
        return { pod, answered: false, health: undefined };
      }
    }),
  );
  if (answers.length && answers.every((a) => !a.answered)) {
    const health = await viaService().catch(() => undefined);
    return health ? [{ pod: undefined, ...health }] : [];
  }
  return answers.flatMap((a) => (a.health ? [{ pod: a.pod, ...a.health }] : []));
}

/** What status says about a replica's quarantined lines, with the commands that inspect them. */
export function logHealthDetail(target: KubeStackTarget, h: ReplicaLogHealth): string {
  const dir = h.quarantineFile.replace(/\/[^/]*$/, '');
  const pod = h.pod ?? '<router Pod>';
  const where = `--context ${target.context} -n ${target.namespace}`;
  return `${h.pod ? `${h.pod}: ` : ''}${h.quarantined} event-log lines quarantined (${h.quarantineFile}) — copy the log out and check it: \`kubectl ${where} cp ${pod}:${dir} ./${pod}-log\`, then \`model-canary log check ./${pod}-log\``;
}

/** Status's detail of the router: each replica's quarantined lines, or undefined when there are none. */
export async function routerLogDetail(
  target: KubeStackTarget,
  routerPort: number,
  viaService: () => Promise<Health>,
): Promise<string | undefined> {
  const health = await routerLogHealth(target, routerPort, viaService);
  return health.map((h) => logHealthDetail(target, h)).join('; ') || undefined;
}
