/**
 * Applying a list of objects: "describe, then run". `planApply` orders the objects so that
 * what others depend on exists first (namespace, CRDs, identities, config, storage, services,
 * workloads, custom resources) — tests assert on the plan — and `applyPlan` runs it with
 * server-side apply, one object at a time, reporting each result. A failure part-way throws
 * PartialApplyError with what was already applied and what it looked like before, so the
 * caller can say how to undo it.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { serverSideApply, type ApplyOptions } from './apply';
import { apiErrorMessage, readLive } from './objects';

/** Lower applies first; kinds not listed apply after the built-in workloads (custom resources). */
const KIND_ORDER: Record<string, number> = {
  Namespace: 0,
  CustomResourceDefinition: 1,
  ServiceAccount: 2,
  Secret: 3,
  ConfigMap: 4,
  PersistentVolumeClaim: 5,
  ClusterRole: 6,
  Role: 7,
  ClusterRoleBinding: 8,
  RoleBinding: 9,
  Service: 10,
  Deployment: 11,
  StatefulSet: 12,
  Job: 13,
};
const CUSTOM_RANK = 50;

export interface ApplyStep {
  /** `Kind namespace/name`. */
  ref: string;
  object: KubernetesObject;
}

export interface ApplyPlan {
  context: string;
  options: Required<Pick<ApplyOptions, 'fieldManager' | 'force' | 'dryRun'>>;
  steps: ApplyStep[];
}

/** `Kind namespace/name` of an object. */
export function refOf(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace ? `${obj.metadata.namespace}/` : '';
  return `${obj.kind ?? 'Object'} ${ns}${obj.metadata?.name ?? ''}`;
}

/** The apply order of `objects` (stable: equal kinds keep their order). */
export function planApply(
  context: string,
  objects: readonly KubernetesObject[],
  options: ApplyOptions = {},
): ApplyPlan {
  const rank = (o: KubernetesObject): number => KIND_ORDER[o.kind ?? ''] ?? CUSTOM_RANK;
  const steps = objects
    .map((object, i) => ({ object, i }))
    .sort((a, b) => rank(a.object) - rank(b.object) || a.i - b.i)
    .map(({ object }) => ({ ref: refOf(object), object }));
  return {
    context,
    options: {
      fieldManager: options.fieldManager ?? 'model-canary',
      force: options.force ?? false,
      dryRun: options.dryRun ?? false,
    },
    steps,
  };
}

export interface AppliedObject {
  ref: string;
  action: 'created' | 'configured' | 'unchanged';
  /** The object as the server stored it (or would, on a dry run). */
  result: KubernetesObject;
  /** The live object before the apply; undefined when it was created. */
  before: KubernetesObject | undefined;
}

/** Some objects were applied, then one failed. */
export class PartialApplyError extends Error {
  override readonly name = 'PartialApplyError';
  constructor(
    readonly context: string,
    readonly applied: AppliedObject[],
    readonly failed: string,
    override readonly cause: unknown,
  ) {
    super(
      `applying ${failed} to ${context} failed: ${apiErrorMessage(cause)}` +
        (applied.length
          ? ` (already applied: ${
              applied
                .filter((a) => a.action !== 'unchanged')
                .map((a) => a.ref)
                .join(', ') || 'nothing changed'
            })`
          : ' (nothing was applied)'),
    );
  }
}

export interface RunOptions {
  onProgress?: (message: string) => void;
  signal?: AbortSignal;
}

/** Runs a plan; every object's result in plan order. */
export async function applyPlan(
  kc: KubeConfig,
  plan: ApplyPlan,
  run: RunOptions = {},
): Promise<AppliedObject[]> {
  const done: AppliedObject[] = [];
  for (const step of plan.steps) {
    run.signal?.throwIfAborted();
    try {
      const before = await readLive(kc, plan.context, step.object);
      const result = await serverSideApply(kc, plan.context, structuredClone(step.object), plan.options);
      const action = !before
        ? 'created'
        : before.metadata?.resourceVersion === result.metadata?.resourceVersion
          ? 'unchanged'
          : 'configured';
      done.push({ ref: step.ref, action, result, before });
      run.onProgress?.(`${step.ref} ${action}${plan.options.dryRun ? ' (dry run)' : ''}`);
    } catch (err) {
      throw new PartialApplyError(plan.context, done, step.ref, err);
    }
  }
  return done;
}

/** Plans and applies in one go. */
export function applyObjects(
  kc: KubeConfig,
  context: string,
  objects: readonly KubernetesObject[],
  options: ApplyOptions & RunOptions = {},
): Promise<AppliedObject[]> {
  return applyPlan(kc, planApply(context, objects, options), options);
}
