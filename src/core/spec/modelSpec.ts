/**
 * The experiment file's model sections: `spec.metrics.model` (what the model predicts, so
 * delayed ground truth can be scored) and `spec.metrics.guardrails.model` (how far a
 * candidate's model metrics may fall behind the baseline's). docs/model-metrics.md.
 */
import { z } from 'zod';

export const modelSchema = z.strictObject({
  /** A classifier (labels are classes) or a regressor (labels are numbers). */
  task: z.enum(['classification', 'regression']),
  /**
   * The class whose probability the recorded score is (column 1 of a two-class model's
   * `predict_proba`): a label equal to it is a positive. Default 1.
   */
  positiveClass: z.union([z.number(), z.string().min(1)]).default(1),
});

const drop = z.strictObject({ maxDrop: z.number().min(0) });
const rise = z.strictObject({ maxRise: z.number().min(0) });

export const modelGuardrailsSchema = z.strictObject({
  /** Labels each arm needs before the guardrail is judged. */
  minLabels: z.number().int().min(2).default(100),
  /** A guardrail still short of labels this long after both arms' first requests of the run fails. */
  labelWaitSeconds: z.number().positive().default(3600),
  accuracy: drop.optional(),
  auc: drop.optional(),
  logLoss: rise.optional(),
  brier: rise.optional(),
  mae: rise.optional(),
  rmse: rise.optional(),
});

export type ModelSpec = z.output<typeof modelSchema>;
export type ModelGuardrails = z.output<typeof modelGuardrailsSchema>;
export type ModelMetricName = 'accuracy' | 'auc' | 'logLoss' | 'brier' | 'mae' | 'rmse';

/** Which metrics each task has, and whether higher is better. */
export const MODEL_METRICS: Record<ModelSpec['task'], readonly ModelMetricName[]> = {
  classification: ['accuracy', 'auc', 'logLoss', 'brier'],
  regression: ['mae', 'rmse'],
};
export const HIGHER_IS_BETTER: ReadonlySet<ModelMetricName> = new Set(['accuracy', 'auc']);

/** Problems of the model guardrails against the model section (for the schema's superRefine). */
export function modelGuardrailIssues(
  model: ModelSpec | undefined,
  guardrails: ModelGuardrails | undefined,
): { path: (string | number)[]; message: string }[] {
  if (!guardrails) return [];
  const at = ['spec', 'metrics', 'guardrails', 'model'];
  if (!model)
    return [
      {
        path: at,
        message:
          'model guardrails need spec.metrics.model — add e.g. "model: { task: classification, positiveClass: 1 }" under metrics',
      },
    ];
  const allowed = MODEL_METRICS[model.task];
  return (['accuracy', 'auc', 'logLoss', 'brier', 'mae', 'rmse'] as const)
    .filter((m) => guardrails[m] !== undefined && !allowed.includes(m))
    .map((m) => ({
      path: [...at, m],
      message: `${m} is not a ${model.task} metric — a ${model.task} model has ${allowed.join(', ')}`,
    }));
}
