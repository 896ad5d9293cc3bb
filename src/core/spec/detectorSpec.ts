/**
 * Bring-your-own Alibi Detect detectors in the experiment file (`spec.drift.detectors`): a
 * detector saved with alibi-detect's `save_detector`, served by MLServer's Alibi Detect runtime,
 * fed batches of the features the router records (docs/drift.md#bring-your-own-detectors).
 */
import { z } from 'zod';

/** The default number of recorded requests per batch sent to a detector. */
export const DEFAULT_DETECTOR_BATCH = 200;
/** A batch smaller than this gives a two-sample test too little to go on. */
export const MIN_DETECTOR_BATCH = 10;
/** Above this a batch is a large V2 request and a long wait for the detector. */
export const MAX_DETECTOR_BATCH = 10_000;

const detectorName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lowercase letters, digits and "-" (a DNS-1123 label)')
  .max(40, 'must be at most 40 characters (it becomes part of a model name)');

export const detectorSchema = z.strictObject({
  /** How the report, the dashboard and the gate name it. */
  name: detectorName,
  /** The folder `save_detector` wrote (with its config.toml), relative to the experiment file. */
  path: z.string().min(1, 'give the folder save_detector wrote, relative to the experiment file'),
  /** A drift detector judges each batch as a whole; an outlier detector scores each row. */
  kind: z.enum(['drift', 'outlier'], { message: 'must be "drift" or "outlier"' }).default('drift'),
  /** The recorded features, in the column order of the detector's reference data (x_ref). */
  features: z
    .array(z.string().min(1))
    .min(1, 'name the recorded features the detector takes, in the order of its reference data'),
  /** Recorded requests per batch, per variant. */
  batchSize: z
    .number()
    .int('must be a whole number of requests')
    .min(
      MIN_DETECTOR_BATCH,
      `must be at least ${MIN_DETECTOR_BATCH} requests (a batch is one sample to test)`,
    )
    .max(MAX_DETECTOR_BATCH, `must be at most ${MAX_DETECTOR_BATCH} requests (one V2 request per batch)`)
    .default(DEFAULT_DETECTOR_BATCH),
  /** When true, a flagged batch of the baseline or the candidate pauses a rollout. */
  gate: z.boolean({ message: 'must be true or false' }).default(false),
});

export const detectorsSchema = z.array(detectorSchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((d, i) => {
    if (seen.has(d.name))
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate detector "${d.name}"` });
    seen.add(d.name);
    const dup = d.features.find((f, j) => d.features.indexOf(f) !== j);
    if (dup !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: [i, 'features'],
        message: `"${dup}" is named twice — each column of the detector's reference data once`,
      });
  });
});

/** One detector of `spec.drift.detectors`, after defaults. */
export type DetectorSpec = z.output<typeof detectorSchema>;

/** The MLServer model name a detector is served under: unique per experiment. */
export function detectorModelName(experiment: string, detector: string): string {
  return `${experiment}-detector-${detector}`;
}
