/** How a promotion's result reads on the terminal (or as JSON). */
import type { PromoteToContextResult } from '../operations/promoteToContext';
import { formatSplit } from '../shared/weights';

export function promotionText(result: PromoteToContextResult, json: boolean): void {
  if (json) {
    console.log(
      JSON.stringify(
        {
          status: result.status,
          context: result.context,
          namespace: result.namespace,
          weights: result.weights,
          changes: result.preview.changes.map((c) => ({ ref: c.ref, action: c.action })),
          applied: result.applied.map((a) => ({ ref: a.ref, action: a.action })),
          undo: result.undo,
          error: result.error,
        },
        null,
        2,
      ),
    );
    return;
  }
  const where = `${result.context}/${result.namespace}`;
  const line = {
    applied: `promoted ${result.experiment} to ${where} (${formatSplit(result.weights)})`,
    'dry-run': `dry run: nothing applied to ${where}`,
    unchanged: `${where} already runs this — nothing to apply`,
    declined: `not confirmed: nothing applied to ${result.context}`,
    failed: `promotion failed: ${result.error ?? ''}`,
  }[result.status];
  (result.status === 'failed' ? console.error : console.log)(line);
  if (result.status === 'failed') {
    const applied = result.applied.filter((a) => a.action !== 'unchanged');
    if (applied.length) console.error(`applied before the failure: ${applied.map((a) => a.ref).join(', ')}`);
  }
  if (result.undo)
    (result.status === 'applied' ? console.log : console.error)(
      `to undo:\n  ${result.undo.split('\n').join('\n  ')}`,
    );
}
