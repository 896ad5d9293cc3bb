/**
 * The router's admin token in a cluster: a Secret made once per namespace with a random value,
 * mounted into the router (see `adminTokenSecret` in src/manifests/stack.ts). It is created, never
 * applied, so an existing token is never replaced and no diff or export ever shows one.
 */
import { randomBytes } from 'node:crypto';
import type { KubeConfig, KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { ADMIN_TOKEN_KEY, adminTokenSecret, stackNames, type StackOptions } from '../manifests/stack';
import { objectRef } from '../manifests/types';
import type { ApplyOptions } from './apply';
import { applyObjects, PartialApplyError, type AppliedObject, type RunOptions } from './applyPlan';
import { apiErrorMessage, objectApi, readLive } from './objects';

function isConflict(err: unknown): boolean {
  return (err as { code?: number }).code === 409;
}

/** Creates the admin-token Secret unless it exists; true when it was created. The namespace must exist. */
export async function ensureAdminToken(
  kc: KubeConfig,
  context: string,
  stack: StackOptions,
  fieldManager = 'model-canary',
): Promise<boolean> {
  const secret = adminTokenSecret(randomBytes(24).toString('hex'), stack) as KubernetesObject;
  try {
    await objectApi(kc, context).create(secret, undefined, undefined, fieldManager);
    return true;
  } catch (err) {
    if (isConflict(err)) return false;
    throw new Error(
      `cannot create the router's admin token Secret ${stack.namespace}/${secret.metadata?.name} on ${context}: ${apiErrorMessage(err)}`,
    );
  }
}

/** The admin token of the router in `stack.namespace`, or undefined when its Secret is missing. */
export async function readAdminToken(
  kc: KubeConfig,
  context: string,
  stack: Pick<StackOptions, 'namespace' | 'release'>,
): Promise<string | undefined> {
  const secret = await readLive<V1Secret>(kc, context, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: stackNames(stack.release).adminToken, namespace: stack.namespace },
  });
  const data = secret?.data?.[ADMIN_TOKEN_KEY];
  return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8').trim();
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
