/** The router's identity and rights: a ServiceAccount that may get, list and watch its config ConfigMap only. */
import type { KubeObject } from '../types';
import { objectMetadata, routerLabels } from './metadata';
import { resolveStackOptions, type StackOptions } from './options';

/** The router's ServiceAccount, Role and RoleBinding. */
export function routerRbacObjects(opts: StackOptions): KubeObject[] {
  const { names, release } = resolveStackOptions(opts);
  const labels = routerLabels(release);
  const serviceAccount: KubeObject = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: objectMetadata(opts, names.router, labels),
  };
  const role: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: objectMetadata(opts, names.router, labels),
    rules: [
      {
        apiGroups: [''],
        resources: ['configmaps'],
        // Its config (watched) and the experiment files (read at each load of the config).
        resourceNames: [names.routerConfig, names.experiments],
        verbs: ['get', 'list', 'watch'],
      },
    ],
  };
  const roleBinding: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: objectMetadata(opts, names.router, labels),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: names.router },
    subjects: [{ kind: 'ServiceAccount', name: names.router, namespace: opts.namespace }],
  };
  return [serviceAccount, role, roleBinding];
}
