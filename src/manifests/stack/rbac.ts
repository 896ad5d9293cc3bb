/**
 * The router's identity and rights: a ServiceAccount that may read its config and experiment
 * files, update its config (the rollout leader's weights), read EndpointSlices (its peers) and
 * hold its Lease `<release>-router` (the rollout leader).
 */
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
      {
        apiGroups: [''],
        resources: ['configmaps'],
        // The rollout leader writes the weights it sets into the config all replicas watch.
        resourceNames: [names.routerConfig],
        verbs: ['update', 'patch'],
      },
      {
        // The replicas find each other through the peers Service's EndpointSlices (list and watch
        // cannot be narrowed to names: the slices' names are generated).
        apiGroups: ['discovery.k8s.io'],
        resources: ['endpointslices'],
        verbs: ['get', 'list', 'watch'],
      },
      {
        // The rollout leader's Lease; creating cannot be narrowed to a name, the rest can.
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: [names.router],
        verbs: ['get', 'update'],
      },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
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
