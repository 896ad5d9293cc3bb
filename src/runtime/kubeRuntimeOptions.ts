/** The options of the Kubernetes runtime (src/runtime/kubeRuntime.ts). */
import type { KubeConfig } from '@kubernetes/client-node';
import type { StackImages } from '../manifests/images';
import type { StackOptions } from '../manifests/stack';

export interface KubeRuntimeOptions {
  workspace: string;
  context: string;
  /** Default: the merged KUBECONFIG files. */
  kubeconfig?: KubeConfig;
  namespace?: string;
  release?: string;
  /** Default: `kind` for kind-* contexts, else `remote`. */
  platform?: 'kind' | 'remote';
  /** dist/router.js, deployed through a ConfigMap unless `routerImage` is set. */
  routerScript?: string;
  routerImage?: string;
  /** Remote clusters: the HTTP(S) URL under which model folders are published. */
  modelUriBase?: string;
  images?: Partial<StackImages>;
  /** kind: the host port the router's NodePort is mapped to (the cluster config's extraPortMappings). */
  hostPort?: number;
  storageClassName?: string;
  rolloutTimeoutMs?: number;
  /** How long `deploy` waits for the router to route the endpoint. */
  routedTimeoutMs?: number;
  /** `down` also deletes the event log's volume. */
  purge?: boolean;
  /** More stack settings (images, resources, router port, paths). */
  stack?: Partial<Omit<StackOptions, 'namespace' | 'platform' | 'release'>>;
  /** While the router does not know a deployed endpoint, how often to ask it to reload. Default 10 s. */
  reloadEveryMs?: number;
}
