/**
 * The experiment file (`apiVersion: modelcanary.dev/v1alpha1`, `kind: Experiment`):
 * schema, defaults and loading with errors that name the file, the line and the field.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { nameSchema, rolloutStepSchema, weightSchema, weightsAddUp, WEIGHTS_SUM_MESSAGE } from './domains';
import { parseDuration } from './duration';
import { graphIssues, graphSchema, outputSteps } from './graph';
import { SpecError, fieldPath, locate, type SpecProblem } from './errors';
import { planningFields, planningProblems } from './planning';
import { modelGuardrailIssues, modelGuardrailsSchema, modelSchema } from './modelSpec';
import { experimentAlertsSchema } from './alertsSpec';
import { detectorsSchema } from './detectorSpec';
import { MAX_SERVING_WORKERS } from './serving';

export const EXPERIMENT_API_VERSION = 'modelcanary.dev/v1alpha1';
export const EXPERIMENT_KIND = 'Experiment';

// Names end up in URLs, Kubernetes object names and metric labels: DNS-1123 labels (./domains.ts).
const name = nameSchema;
const probability = z.number().gt(0).lt(1);

const variantSchema = z.strictObject({
  name,
  /** The model that serves this variant; or `graph`, never both. */
  model: z.string().min(1).optional(),
  /** An inference graph of the workspace's models (graph.ts, docs/graphs.md). */
  graph: graphSchema.optional(),
  role: z.enum(['baseline', 'candidate']).optional(),
  weight: weightSchema,
});

const driftFeatureSchema = z.union([
  z.string().min(1),
  z.strictObject({ name: z.string().min(1), type: z.enum(['numeric', 'categorical']) }),
]);

const servingSchema = z.strictObject({
  workers: z
    .number()
    .int('must be a whole number')
    .min(1)
    .max(MAX_SERVING_WORKERS, `at most ${MAX_SERVING_WORKERS} (each is a whole MLServer process)`),
});

const specSchema = z.strictObject({
  endpoint: name,
  variants: z.array(variantSchema).min(1, 'needs at least one variant'),
  routing: z
    .strictObject({
      sticky: z.strictObject({ header: z.string().min(1) }).optional(),
      /** Requests carrying any of these headers (a smoke test's, a developer's) are left out of the experiment. */
      debugHeaders: z
        .array(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name'))
        .optional(),
      /**
       * Share of the recorded requests (drift-sampled or mirrored) on which the router also asks
       * the model for `predict` and `predict_proba` when the client named no outputs: the scores
       * behind AUC, log-loss, Brier and prediction drift. Default 1; each such request costs the
       * model one more pass on scikit-learn runtimes (docs/model-metrics.md, "Scores").
       */
      scoreSample: z.number().min(0).max(1).optional(),
      mirror: z
        .strictObject({
          variant: name,
          model: z.string().min(1),
          percent: z.number().min(0).max(100).default(100),
        })
        .optional(),
    })
    .optional(),
  metrics: z.strictObject({
    primary: z.strictObject({
      name: z.string().min(1),
      kind: z.enum(['proportion', 'continuous']),
      ...planningFields,
      /**
       * The attribution window: how long after a unit's first request its feedback may arrive
       * (`24h`). Units younger than it are pending and left out of the A/B (analysis/attribution.ts).
       */
      window: z
        .string()
        .transform((text, ctx) => {
          const parsed = parseDuration(text);
          if ('error' in parsed) {
            ctx.addIssue({ code: 'custom', message: parsed.error });
            return z.NEVER;
          }
          return text;
        })
        .optional(),
    }),
    guardrails: z
      .strictObject({
        latencyP95Ms: z.strictObject({ max: z.number().positive() }).optional(),
        errorRate: z.strictObject({ max: z.number().min(0).max(1) }).optional(),
        model: modelGuardrailsSchema.optional(),
      })
      .optional(),
    model: modelSchema.optional(),
  }),
  drift: z
    .strictObject({
      reference: z.string().min(1),
      features: z.union([z.literal('auto'), z.array(driftFeatureSchema).min(1)]).default('auto'),
      test: z.enum(['auto', 'ks', 'chi2', 'psi', 'wasserstein', 'jensenshannon']).default('auto'),
      pValue: probability.default(0.05),
      correction: z.enum(['bonferroni', 'fdr']).default('bonferroni'),
      window: z.number().int().positive().default(1000),
      /** Bring-your-own Alibi Detect detectors (./detectorSpec.ts). */
      detectors: detectorsSchema.optional(),
      /** Drift on what a graph's model receives (docs/graphs.md): a step's tensor and its reference CSV. */
      modelInput: z.strictObject({ tensor: z.string().min(1), reference: z.string().min(1) }).optional(),
    })
    .optional(),
  rollout: z
    .strictObject({
      steps: z.array(rolloutStepSchema).min(1).default([5, 25, 50, 100]),
      minSamplesPerStep: z.number().int().positive().default(2000),
      /** Each step lasts at least this long, whatever its samples. */
      minStepSeconds: z.number().min(0).default(30),
      /** The older place of spec.metrics.primary.alpha (still accepted; the loader fills it from there). */
      alpha: probability.optional(),
      /** The candidate's p95 latency may be at most this multiple of the baseline's. */
      latencyP95Ratio: z.number().gt(1).optional(),
      /** What input drift does to a rollout. */
      drift: z.enum(['pause', 'warn', 'ignore']).default('pause'),
      /** Drift holds the rollout only below this p-value (the gate looks often, so it is strict). */
      driftPValue: probability.default(1e-4),
      /** Wait for `model-canary rollout approve` before each next step. */
      manualApproval: z.boolean().default(false),
      /** Promote at the last step when the candidate is not worse, even if not significantly better. */
      promoteWhenEquivalent: z.boolean().default(false),
    })
    .optional(),
  /** Where the router sends this experiment's alerts (docs/alerts.md); default: the environment's webhooks. */
  alerts: experimentAlertsSchema.optional(),
  /** The local environment's MLServer processes, shared among the variants by weight (./serving.ts). */
  serving: servingSchema.optional(),
});

const experimentSchema = z
  .strictObject({
    apiVersion: z.literal(EXPERIMENT_API_VERSION),
    kind: z.literal(EXPERIMENT_KIND),
    metadata: z.object({ name }).loose(),
    spec: specSchema,
  })
  .superRefine((exp, ctx) => {
    const { variants } = exp.spec;
    const seen = new Set<string>();
    variants.forEach((v, i) => {
      if (seen.has(v.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['spec', 'variants', i, 'name'],
          message: `duplicate variant "${v.name}"`,
        });
      }
      seen.add(v.name);
    });
    variants.forEach((v, i) => {
      if ((v.model === undefined) === (v.graph === undefined))
        ctx.addIssue({
          code: 'custom',
          path: ['spec', 'variants', i],
          message: v.model
            ? 'give either model or graph, not both'
            : 'needs a model (a model of the workspace) or a graph (docs/graphs.md)',
        });
      if (v.graph)
        for (const issue of graphIssues(v.graph, ['spec', 'variants', i, 'graph']))
          ctx.addIssue({ code: 'custom', ...issue });
    });
    const baselines = variants.flatMap((v, i) => (v.role === 'baseline' ? [i] : []));
    if (baselines.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['spec', 'variants', baselines[1] ?? 0, 'role'],
        message: 'only one variant can be the baseline',
      });
    }
    if (!weightsAddUp(variants.map((v) => v.weight))) {
      ctx.addIssue({ code: 'custom', path: ['spec', 'variants'], message: WEIGHTS_SUM_MESSAGE });
    }
    const mirror = exp.spec.routing?.mirror;
    if (mirror && seen.has(mirror.variant)) {
      ctx.addIssue({
        code: 'custom',
        path: ['spec', 'routing', 'mirror', 'variant'],
        message: `the shadow variant "${mirror.variant}" must not also be a routed variant`,
      });
    }
    for (const p of planningProblems(exp.spec))
      ctx.addIssue({ code: 'custom', path: ['spec', ...p.path], message: p.message });
    for (const issue of modelGuardrailIssues(exp.spec.metrics.model, exp.spec.metrics.guardrails?.model))
      ctx.addIssue({ code: 'custom', ...issue });
    const steps = exp.spec.rollout?.steps ?? [];
    if (steps.some((s, i) => i > 0 && s <= (steps[i - 1] ?? 0))) {
      ctx.addIssue({ code: 'custom', path: ['spec', 'rollout', 'steps'], message: 'steps must increase' });
    }
  });

type ExperimentDocument = z.output<typeof experimentSchema>;
export type Variant = Omit<ExperimentDocument['spec']['variants'][number], 'model'> & {
  role: 'baseline' | 'candidate';
  /**
   * The model that answers: the variant's model, or for a graph the model of its (first) output
   * step. The graph's other models are in `graph`.
   */
  model: string;
};
export type DriftFeature = z.output<typeof driftFeatureSchema>;

/** A validated experiment, with roles resolved and the file it came from. */
export interface Experiment extends Omit<ExperimentDocument, 'spec'> {
  spec: Omit<ExperimentDocument['spec'], 'variants'> & { variants: Variant[] };
  /** Absolute or workspace-relative path of the file it was loaded from. */
  file: string;
}

/** True when a parsed YAML value looks like an experiment file (the workspace scan uses this). */
export function isExperimentDocument(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>).kind === EXPERIMENT_KIND &&
    String((value as Record<string, unknown>).apiVersion ?? '').startsWith('modelcanary.dev/')
  );
}

/** Parses and validates experiment YAML; throws SpecError listing every problem with its line. */
export function parseExperiment(text: string, file: string): Experiment {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      doc.errors.map((e): SpecProblem => {
        const pos = lines.linePos(e.pos[0]);
        return {
          file,
          line: pos.line,
          column: pos.col,
          field: '',
          message: `invalid YAML: ${e.message.split('\n')[0]}`,
        };
      }),
    );
  }
  const result = experimentSchema.safeParse(doc.toJS());
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue): SpecProblem[] => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => {
          const path = [...issue.path, key];
          const pos = locate(doc, lines, path, true);
          return { file, line: pos.line, column: pos.col, field: fieldPath(path), message: 'unknown field' };
        });
      }
      const pos = locate(doc, lines, issue.path);
      return [
        { file, line: pos.line, column: pos.col, field: fieldPath(issue.path), message: issue.message },
      ];
    });
    throw new SpecError(problems);
  }
  return resolveRoles(result.data, file);
}

/** Reads and validates an experiment file (`read`: where its text comes from; default the disk). */
export async function loadExperimentFile(
  file: string,
  read: (file: string) => Promise<string> = (f) => readFile(f, 'utf8'),
): Promise<Experiment> {
  let text: string;
  try {
    text = await read(file);
  } catch (err) {
    throw new SpecError([
      { file, line: 1, column: 1, field: '', message: `cannot read the file: ${(err as Error).message}` },
    ]);
  }
  return parseExperiment(text, file);
}

// The first variant is the baseline unless another one says so; every other variant is a candidate.
function resolveRoles(doc: ExperimentDocument, file: string): Experiment {
  const explicit = doc.spec.variants.findIndex((v) => v.role === 'baseline');
  const baseline = explicit >= 0 ? explicit : 0;
  const variants = doc.spec.variants.map((v, i): Variant => ({
    ...v,
    model: v.model ?? outputSteps(v.graph!)[0]!,
    role: i === baseline ? 'baseline' : 'candidate',
  }));
  return { ...doc, spec: { ...doc.spec, variants }, file };
}

/** The baseline variant (every experiment has exactly one). */
export function baselineOf(exp: Experiment): Variant {
  const found = exp.spec.variants.find((v) => v.role === 'baseline');
  if (!found) throw new Error(`experiment ${exp.metadata.name} has no baseline`);
  return found;
}
