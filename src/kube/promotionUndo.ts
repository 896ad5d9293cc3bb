/**
 * How to undo a promotion: the objects it changed or deleted are saved to a file before the
 * apply (re-applied from it), and what it created is deleted.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { AppliedObject } from './applyPlan';
import { STRIPPED_METADATA } from './diff';

/** A live object without server-owned fields, ready to re-apply. */
export function restorable(obj: KubernetesObject): KubernetesObject {
  const copy = JSON.parse(JSON.stringify(obj)) as KubernetesObject & { status?: unknown };
  delete copy.status;
  if (copy.metadata) {
    for (const k of STRIPPED_METADATA) delete (copy.metadata as Record<string, unknown>)[k];
  }
  return copy;
}

/** How to undo `applied`: delete what it created, re-apply what it changed from the saved file. */
export function undoText(
  context: string,
  applied: readonly AppliedObject[],
  undoFile?: string,
  deleted: readonly string[] = [],
): string | undefined {
  const createdNs = applied.find((a) => a.action === 'created' && a.result.kind === 'Namespace');
  // A namespace this promotion created holds nothing else: deleting it undoes everything.
  if (createdNs)
    return `kubectl --context ${context} delete namespace ${createdNs.result.metadata?.name}   # created by this promotion`;
  const created = applied.filter((a) => a.action === 'created');
  const changed = applied.filter((a) => a.action === 'configured');
  if (!created.length && !changed.length && !deleted.length) return undefined;
  const lines: string[] = [];
  const byNs = new Map<string, string[]>();
  for (const a of created) {
    const ns = a.result.metadata?.namespace ?? '';
    byNs.set(ns, [...(byNs.get(ns) ?? []), `${a.result.kind!.toLowerCase()}/${a.result.metadata?.name}`]);
  }
  for (const [ns, refs] of byNs)
    lines.push(
      `kubectl --context ${context}${ns ? ` -n ${ns}` : ''} delete ${refs.join(' ')}   # created by this promotion`,
    );
  const restored = changed.length + deleted.length;
  if (restored)
    lines.push(
      undoFile
        ? `kubectl --context ${context} apply --server-side --force-conflicts --field-manager model-canary -f ${undoFile}   # restores ${restored} changed or deleted object(s)`
        : `re-apply the previous versions of: ${[...changed.map((a) => a.ref), ...deleted].join(', ')}`,
    );
  return lines.join('\n');
}
