/**
 * How the router reads the files its config names: experiment files and their drift references.
 *
 * On Kubernetes they are keys of the `<release>-experiments` ConfigMap, which is also mounted as a
 * folder. The kubelet refreshes a mounted ConfigMap only when it next syncs the Pod (a minute or
 * more after a change), so a newly deployed experiment's file would be missing from the folder
 * when the router config that names it arrives. With `--kube-experiments-configmap` the router
 * reads that ConfigMap through the API server instead, once per config load: a path in the mounted
 * folder is looked up by its file name. Other paths, and every path when the ConfigMap cannot be
 * read, come from the disk as before.
 */
import { readFile } from 'node:fs/promises';
import { dirname, basename, resolve } from 'node:path';
import { kubeAgent, readConfigMapData, type KubeConnection } from './kube';

/** Reads a file's text by its (absolute) path. */
export type ReadText = (path: string) => Promise<string>;

export const readFromDisk: ReadText = (path) => readFile(path, 'utf8');

export interface ConfigMapFiles {
  /** The ConfigMap as of now, as a reader (falls back to the disk, with a warning, when unreadable). */
  snapshot(): Promise<ReadText>;
  close(): Promise<void>;
}

/** Files of the folder `dir` read from ConfigMap `namespace/name` through the API server. */
export function configMapFiles(
  conn: KubeConnection,
  namespace: string,
  name: string,
  dir: string,
  warn: (m: string) => void,
): ConfigMapFiles {
  const agent = kubeAgent(conn);
  const folder = resolve(dir);
  return {
    async snapshot() {
      const data = await readConfigMapData(conn, agent, namespace, name).catch((err: unknown) => {
        warn(`${(err as Error).message}; reading the experiment files from ${folder} instead`);
        return undefined;
      });
      return (path) => {
        const text = dirname(resolve(path)) === folder ? data?.[basename(path)] : undefined;
        return text === undefined ? readFromDisk(path) : Promise.resolve(text);
      };
    },
    close: () => agent.close().catch(() => undefined),
  };
}
