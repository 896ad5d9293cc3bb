import { ApiException, PatchStrategy } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject, V1Namespace } from '@kubernetes/client-node';
import { objectApi } from './objects';

export interface ApplyOptions {
  /** Owner recorded in managedFields. Default `model-canary`. */
  fieldManager?: string;
  /** Take ownership of fields other managers own instead of failing with ApplyConflictError. */
  force?: boolean;
  /** Validate and compute the result on the server without persisting it. */
  dryRun?: boolean;
}

export interface FieldConflict {
  /** Field manager that owns the field, e.g. `kubectl-client-side-apply`. */
  manager: string;
  /** Field path as the API server reports it, e.g. `.spec.replicas`. */
  field: string;
  message: string;
}

/** Server-side apply was refused because other field managers own fields this apply sets to other values. */
export class ApplyConflictError extends Error {
  override readonly name = 'ApplyConflictError';
  constructor(
    message: string,
    readonly conflicts: FieldConflict[],
  ) {
    super(message);
  }

  /** The distinct field managers that own the conflicting fields. */
  get managers(): string[] {
    return [...new Set(this.conflicts.map((c) => c.manager))];
  }
}

/** Server-side applies `obj` through context `contextName` and returns the object as the server stored it. */
export async function serverSideApply<T extends KubernetesObject>(
  kc: KubeConfig,
  contextName: string,
  obj: T,
  { fieldManager = 'model-canary', force = false, dryRun = false }: ApplyOptions = {},
): Promise<T> {
  const client = objectApi(kc, contextName);
  try {
    return await client.patch(
      obj,
      undefined,
      dryRun ? 'All' : undefined,
      fieldManager,
      force,
      PatchStrategy.ServerSideApply,
    );
  } catch (err) {
    if (err instanceof ApiException && err.code === 409) {
      const conflict = toConflictError(err.body, obj);
      if (conflict) throw conflict;
    }
    throw err;
  }
}

/** Creates namespace `name` if it does not exist (an apply, so it is idempotent and race-free). */
export async function ensureNamespace(
  kc: KubeConfig,
  contextName: string,
  name: string,
  fieldManager = 'model-canary',
): Promise<V1Namespace> {
  // Name alone is not a tracked field: a manager owning nothing is dropped from managedFields, and the next apply
  // then rewrites them (new resourceVersion). Owning the label the API server itself sets to the name avoids both.
  const labels = { 'kubernetes.io/metadata.name': name };
  return serverSideApply<V1Namespace>(
    kc,
    contextName,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } },
    { fieldManager },
  );
}

interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** Reads the Status body of a 409; undefined unless it is a field-manager conflict (not e.g. a stale resourceVersion). */
function toConflictError(body: unknown, obj: KubernetesObject): ApplyConflictError | undefined {
  let status: { message?: string; details?: { causes?: StatusCause[] } };
  try {
    // client-node hands over the raw response text for errors.
    status = typeof body === 'string' ? JSON.parse(body) : ((body ?? {}) as typeof status);
  } catch {
    return undefined;
  }
  const conflicts = (status.details?.causes ?? [])
    .filter((c) => c.reason === 'FieldManagerConflict')
    .map((c) => ({
      // The manager is only given inside the message: `conflict with "kubectl" using apps/v1`.
      manager: /conflict with "([^"]*)"/.exec(c.message ?? '')?.[1] ?? 'unknown',
      field: c.field ?? '',
      message: c.message ?? '',
    }));
  if (conflicts.length === 0) return undefined;
  const managers = [...new Set(conflicts.map((c) => c.manager))].join(', ');
  const target = `${obj.kind ?? 'object'} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name ?? ''}`;
  return new ApplyConflictError(
    `Apply of ${target} conflicts with field manager(s) ${managers} on ${conflicts.map((c) => c.field).join(', ')}` +
      ' (re-apply with force to take ownership)',
    conflicts,
  );
}
