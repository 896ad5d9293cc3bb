/**
 * Reading a kind cluster's Pods with the kubectl built from Kubernetes' Go module (tools/build-kube.sh
 * node), through the cluster's API server on 127.0.0.1; and the stack images the tier loads.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL_VARIANT } from '../../src/manifests/labels';
import { stackImageNames } from '../../tools/images/names';
import { until } from './clusterCli';
import { pinnedVersions, toolCache } from './tools';

function kubectlBinary(): string {
  const v = pinnedVersions();
  const file = join(toolCache(), 'kube', `${v.KUBERNETES_VERSION}-etcd-${v.ETCD_VERSION}`, 'kubectl');
  if (!existsSync(file))
    throw new Error(`kubectl is not built at ${file} — run: bash tools/build-kube.sh node`);
  return file;
}

export function kubectl(kubeconfig: string, context: string, args: string[], input?: string): string {
  return execFileSync(kubectlBinary(), ['--kubeconfig', kubeconfig, '--context', context, ...args], {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 32 << 20,
  });
}

/** `kubectl config …` on the tier's kubeconfig (contexts added as a user would). */
export function kubectlConfig(kubeconfig: string, args: string[]): string {
  return execFileSync(kubectlBinary(), ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' });
}

interface PodList {
  items: {
    metadata: { name: string; deletionTimestamp?: string };
    status?: { phase?: string; conditions?: { type: string; status: string }[] };
  }[];
}

/** Names of the Pods of a variant's model server. */
export function podsOf(kubeconfig: string, context: string, namespace: string, variant: string): string[] {
  const list = JSON.parse(
    kubectl(kubeconfig, context, [
      'get',
      'pods',
      '-n',
      namespace,
      '-l',
      `${LABEL_VARIANT}=${variant}`,
      '-o',
      'json',
    ]),
  ) as PodList;
  return list.items.map((p) => p.metadata.name);
}

/** The last lines each Pod of a variant's model server logged, for a failure's message (never throws). */
export function variantLogs(kubeconfig: string, context: string, namespace: string, variant: string): string {
  try {
    return podsOf(kubeconfig, context, namespace, variant)
      .map(
        (pod) =>
          `      ${pod} (last 30 lines):\n${kubectl(kubeconfig, context, ['logs', '-n', namespace, pod, '--all-containers', '--tail', '30'])}`,
      )
      .join('\n');
  } catch (err) {
    return `      (the logs of ${variant} could not be read: ${String(err).split('\n')[0]})`;
  }
}

/** Waits until `count` Pods of the namespace are Ready (and none is terminating); their names. */
export function waitForReadyPods(
  kubeconfig: string,
  context: string,
  namespace: string,
  count: number,
  timeoutMs: number,
): Promise<string[]> {
  let seen = '';
  return until(
    `${count} Ready Pods in ${namespace} (last seen: ${seen || 'none'})`,
    async () => {
      const list = JSON.parse(
        kubectl(kubeconfig, context, ['get', 'pods', '-n', namespace, '-o', 'json']),
      ) as PodList;
      const live = list.items.filter((p) => !p.metadata.deletionTimestamp);
      seen = live.map((p) => `${p.metadata.name}:${p.status?.phase}`).join(', ');
      const ready = live.filter((p) =>
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return ready.length >= count && ready.length === live.length
        ? ready.map((p) => p.metadata.name)
        : undefined;
    },
    timeoutMs,
    3000,
  );
}

/** The stack's images that tools/images/build.sh built (MLServer, the Node image with the router), to `kind load`. */
export function stackImages(): string[] {
  const names = stackImageNames();
  return [names.mlserver, names.node];
}
