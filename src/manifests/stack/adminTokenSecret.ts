/**
 * The router's admin token Secret (`<release>-router-admin`, key `token`), mounted into the router
 * and named by its config's `adminTokenFile`. Not part of the applied stack: its value is random,
 * made once per namespace by `ensureAdminToken` (src/kube/adminToken.ts).
 */
import type { KubeObject } from '../types';
import { objectMetadata, routerLabels } from './metadata';
import { ADMIN_TOKEN_KEY, resolveStackOptions, type StackOptions } from './options';

/** The Secret holding the router's admin token (made once per namespace, never re-applied). */
export function adminTokenSecret(token: string, opts: StackOptions): KubeObject {
  const { names, release } = resolveStackOptions(opts);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: objectMetadata(opts, names.adminToken, routerLabels(release)),
    type: 'Opaque',
    stringData: { [ADMIN_TOKEN_KEY]: token },
  };
}
