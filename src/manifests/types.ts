/** Kubernetes objects as plain data: what the builders return and the kube layer applies. */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Any Kubernetes object; structurally compatible with client-node's KubernetesObject. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** `Kind namespace/name`, the way messages name an object. */
export function objectRef(obj: { kind?: string; metadata?: { name?: string; namespace?: string } }): string {
  const ns = obj.metadata?.namespace ? `${obj.metadata.namespace}/` : '';
  return `${obj.kind ?? 'Object'} ${ns}${obj.metadata?.name ?? ''}`;
}
