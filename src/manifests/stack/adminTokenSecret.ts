/**
 * The router's token Secret (`<release>-router-admin`): the admin token (key `token`) and the
 * ingest token of feedback and labels (key `ingest-token`), mounted into the router and named by
 * its config's `adminTokenFile` and `ingestTokenFile`. Not part of the applied stack: the values
 * are random, made once per namespace by `ensureAdminToken` (src/kube/adminToken.ts).
 */
import type { KubeObject } from '../types';
import { objectMetadata, routerLabels } from './metadata';
import { ADMIN_TOKEN_KEY, INGEST_TOKEN_KEY, resolveStackOptions, type StackOptions } from './options';

/** The Secret holding the router's admin and ingest tokens (made once per namespace, never re-applied). */
export function adminTokenSecret(token: string, opts: StackOptions, ingestToken?: string): KubeObject {
  const { names, release } = resolveStackOptions(opts);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: objectMetadata(opts, names.adminToken, routerLabels(release)),
    type: 'Opaque',
    stringData: {
      [ADMIN_TOKEN_KEY]: token,
      ...(ingestToken === undefined ? {} : { [INGEST_TOKEN_KEY]: ingestToken }),
    },
  };
}
