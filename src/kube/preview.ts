/**
 * A server-side dry run of an apply (`dryRun=All`: validated, defaulted and merged with the live
 * object by the API server, nothing stored), compared with the live objects.
 *
 * A namespace that does not exist yet cannot hold a dry-run object (the API server answers
 * 404). Objects bound for a namespace that the same plan creates are therefore dry-run in
 * `default` under their own name — the schema, defaults and admission are the same — and shown
 * with their real namespace; if `default` already has such an object, the planned object is
 * shown as it is, not validated.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { ApplyConflictError, serverSideApply, type ApplyOptions } from './apply';
import { planApply, refOf } from './applyPlan';
import { diffText, unifiedDiff } from './diff';
import { readLive } from './objects';

export interface ObjectChange {
  ref: string;
  action: 'create' | 'update' | 'unchanged' | 'delete';
  live: KubernetesObject | undefined;
  /** The dry-run result: the object as the server would store it; undefined when it is deleted. */
  planned: KubernetesObject | undefined;
  /** Unified diff live → planned; empty when unchanged. */
  diff: string;
  note?: string;
}

export interface Preview {
  context: string;
  changes: ObjectChange[];
  /** Every object's diff, in apply order; empty when nothing would change. */
  diff: string;
  /** What the object diff does not say plainly (e.g. that the plan resets a live split). */
  notes?: string[];
  /** Fields other field managers own, which the apply would take over only with force. */
  conflicts?: { ref: string; managers: string[]; message: string }[];
}

/**
 * Dry-runs the apply of `objects` and diffs each against the live object; `deletions` (live
 * objects the plan no longer has, src/kube/prune.ts) are shown removed, after them.
 */
export async function previewApply(
  kc: KubeConfig,
  context: string,
  objects: readonly KubernetesObject[],
  options: Pick<ApplyOptions, 'fieldManager' | 'force'> = {},
  deletions: readonly KubernetesObject[] = [],
): Promise<Preview> {
  const plan = planApply(context, objects, { ...options, dryRun: true });
  const creatingNamespaces = new Set(
    plan.steps.filter((s) => s.object.kind === 'Namespace').map((s) => s.object.metadata?.name),
  );
  const missingNamespaces = new Set<string>();
  for (const ns of creatingNamespaces) {
    if (ns && !(await readLive(kc, context, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })))
      missingNamespaces.add(ns);
  }
  const changes: ObjectChange[] = [];
  const conflicts: NonNullable<Preview['conflicts']> = [];
  for (const step of plan.steps) {
    const obj = step.object;
    const ns = obj.metadata?.namespace;
    let live: KubernetesObject | undefined;
    let planned: KubernetesObject;
    let note: string | undefined;
    if (ns && missingNamespaces.has(ns)) {
      live = undefined;
      const stand = {
        ...structuredClone(obj),
        metadata: { ...structuredClone(obj.metadata), namespace: 'default' },
      };
      if (await readLive(kc, context, stand)) {
        planned = structuredClone(obj);
        note = `not validated: namespace ${ns} does not exist yet`;
      } else {
        planned = await serverSideApply(kc, context, stand, plan.options);
        planned.metadata = { ...planned.metadata, namespace: ns };
        note = `validated in namespace default: ${ns} does not exist yet`;
      }
    } else {
      live = await readLive(kc, context, obj);
      try {
        planned = await serverSideApply(kc, context, structuredClone(obj), plan.options);
      } catch (err) {
        if (!(err instanceof ApplyConflictError)) throw err;
        // Show the diff anyway (what a forced apply would do), with the conflict beside it.
        planned = await serverSideApply(kc, context, structuredClone(obj), { ...plan.options, force: true });
        conflicts.push({ ref: step.ref, managers: err.managers, message: err.message });
        note = `conflict: fields owned by ${err.managers.join(', ')}`;
      }
    }
    const before = diffText(live);
    const after = diffText(planned);
    const diff = unifiedDiff(before, after, live ? `live: ${step.ref}` : '/dev/null', `planned: ${step.ref}`);
    const action = !live ? 'create' : diff ? 'update' : 'unchanged';
    changes.push({ ref: refOf(obj), action, live, planned, diff, ...(note ? { note } : {}) });
  }
  for (const live of deletions) {
    const ref = refOf(live);
    const diff = unifiedDiff(diffText(live), '', `live: ${ref}`, '/dev/null');
    changes.push({ ref, action: 'delete', live, planned: undefined, diff, note: 'no longer in the plan' });
  }
  return {
    context,
    changes,
    diff: changes.map((c) => c.diff).join(''),
    ...(conflicts.length ? { conflicts } : {}),
  };
}

/** One line per object: `+ create`, `~ update`, `= unchanged`, `- delete`. */
export function summarizePreview(preview: Preview): string {
  const mark = { create: '+', update: '~', unchanged: '=', delete: '-' } as const;
  return [
    ...preview.changes.map((c) => `${mark[c.action]} ${c.ref} ${c.action}${c.note ? ` (${c.note})` : ''}`),
    ...(preview.notes ?? []).map((n) => `! ${n}`),
  ].join('\n');
}
