/**
 * The router's tokens in a cluster: a Secret made once per namespace with random values — the
 * admin token and the ingest token of feedback and labels — mounted into the router (see
 * `adminTokenSecret` in src/manifests/stack.ts). It is created, never applied, so an existing
 * token is never replaced and no diff or export ever shows one. A Secret made before the ingest
 * token existed gets that key added, its admin token kept.
 */
import { randomBytes } from 'node:crypto';
import type { KubeConfig, KubernetesObject, V1Secret } from '@kubernetes/client-node';
import {
  ADMIN_TOKEN_KEY,
  adminTokenSecret,
  INGEST_TOKEN_KEY,
  stackNames,
  type StackOptions,
} from '../manifests/stack';
import { objectRef } from '../manifests/types';
import type { ApplyOptions } from './apply';
import { applyObjects, PartialApplyError, type AppliedObject, type RunOptions } from './applyPlan';
import { apiErrorMessage, objectApi, readLive } from './objects';
import { kubeRequest, statusMessage } from './request';
import { INGEST_TOKEN_ENV, INGEST_TOKEN_HEADER } from '../shared/routerApi';

function isConflict(err: unknown): boolean {
  return (err as { code?: number }).code === 409;
}

const newToken = (): string => randomBytes(24).toString('hex');

/**
 * Creates the token Secret unless it exists (adding the ingest token to one that lacks it); true
 * when it was created. The namespace must exist.
 */
export async function ensureAdminToken(
  kc: KubeConfig,
  context: string,
  stack: StackOptions,
  fieldManager = 'model-canary',
): Promise<boolean> {
  const secret = adminTokenSecret(newToken(), stack, newToken()) as KubernetesObject;
  const place = `${stack.namespace}/${secret.metadata?.name}`;
  try {
    await objectApi(kc, context).create(secret, undefined, undefined, fieldManager);
    return true;
  } catch (err) {
    if (!isConflict(err))
      throw new Error(
        `cannot create the router's admin token Secret ${place} on ${context}: ${apiErrorMessage(err)}`,
      );
  }
  if ((await readToken(kc, context, stack, INGEST_TOKEN_KEY)) !== undefined) return false;
  // A JSON patch of that one key: the admin token and anything else in the Secret stay as they are.
  const path = `/api/v1/namespaces/${stack.namespace}/secrets/${secret.metadata?.name}?fieldManager=${encodeURIComponent(fieldManager)}`;
  const res = await kubeRequest(kc, context, path, {
    method: 'PATCH',
    contentType: 'application/json-patch+json',
    body: JSON.stringify([
      { op: 'add', path: `/data/${INGEST_TOKEN_KEY}`, value: Buffer.from(newToken()).toString('base64') },
    ]),
  });
  if (res.status >= 300)
    throw new Error(
      `cannot add the ingest token to the router's Secret ${place} on ${context}: ${statusMessage(res)} — check \`kubectl --context ${context} -n ${stack.namespace} auth can-i patch secrets\``,
    );
  return false;
}

async function readToken(
  kc: KubeConfig,
  context: string,
  stack: Pick<StackOptions, 'namespace' | 'release'>,
  key: string,
): Promise<string | undefined> {
  const secret = await readLive<V1Secret>(kc, context, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: stackNames(stack.release).adminToken, namespace: stack.namespace },
  });
  const data = secret?.data?.[key];
  return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8').trim();
}

/** The ingest token (feedback and labels) of the router in `stack.namespace`, or undefined without one. */
export function readIngestToken(
  kc: KubeConfig,
  context: string,
  stack: Pick<StackOptions, 'namespace' | 'release'>,
): Promise<string | undefined> {
  return readToken(kc, context, stack, INGEST_TOKEN_KEY);
}

/** How a user passes the ingest token of a release to model-canary and to their application. */
export function ingestTokenHint(context: string, stack: Pick<StackOptions, 'namespace' | 'release'>): string {
  const secret = stackNames(stack.release).adminToken;
  return `feedback and labels need the ingest token (header ${INGEST_TOKEN_HEADER}): model-canary reads it from the Secret ${secret}; your application gets it with \`export ${INGEST_TOKEN_ENV}=$(kubectl --context ${context} -n ${stack.namespace} get secret ${secret} -o jsonpath='{.data.${INGEST_TOKEN_KEY}}' | base64 -d)\``;
}

/** The admin token of the router in `stack.namespace`, or undefined when its Secret is missing. */
export async function readAdminToken(
  kc: KubeConfig,
  context: string,
  stack: Pick<StackOptions, 'namespace' | 'release'>,
): Promise<string | undefined> {
  return readToken(kc, context, stack, ADMIN_TOKEN_KEY);
}

/**
 * Applies a stack's objects with the admin token in place before the router needs it: the
 * namespaces first, then the Secret (created only when missing), then the rest. The Secret, when
 * created, is listed among the applied objects (without its value) so undo instructions cover it.
 */
export async function applyWithAdminToken(
  kc: KubeConfig,
  context: string,
  objects: readonly KubernetesObject[],
  stack: StackOptions,
  options: ApplyOptions & RunOptions = {},
): Promise<AppliedObject[]> {
  if (options.dryRun) return applyObjects(kc, context, objects, options);
  const isNamespace = (o: KubernetesObject): boolean => o.kind === 'Namespace';
  const applied = await applyObjects(kc, context, objects.filter(isNamespace), options);
  const secret = adminTokenSecret('', stack) as KubernetesObject & { stringData?: unknown };
  delete secret.stringData;
  const ref = objectRef(secret);
  try {
    if (await ensureAdminToken(kc, context, stack, options.fieldManager)) {
      applied.push({ ref, action: 'created', result: secret, before: undefined });
      options.onProgress?.(`${ref} created (a new admin token for the router)`);
    }
    applied.push(
      ...(await applyObjects(
        kc,
        context,
        objects.filter((o) => !isNamespace(o)),
        options,
      )),
    );
    return applied;
  } catch (err) {
    if (err instanceof PartialApplyError)
      throw new PartialApplyError(context, [...applied, ...err.applied], err.failed, err.cause);
    throw new PartialApplyError(context, applied, ref, err);
  }
}
