/**
 * Checkpoints of the report builder (contract: docs/architecture.md, "Checkpoints"): its whole
 * state — counts, DDSketch stores, drift windows, the sequential tests' running state, units,
 * pending attribution windows, model metrics, the timeline, the run and the id memories — as a
 * JSON tree (./stateCodec.ts), keyed by a hash of what the report depends on besides the
 * events: the experiment and the builder's options. Restoring a checkpoint taken after
 * events[0..k] and ingesting events[k..] gives the report that ingesting all of them gives.
 */
import { createHash } from 'node:crypto';
import { DDSketch } from '@datadog/sketches-js';
import type { Experiment } from '../spec/experiment';
import { PredictionWindow, VariantWindows } from '../drift/variantWindows';
import { TimeWindow } from '../drift/window';
import { AlwaysValidState } from '../stats/alwaysValid';
import { ReportBuilder, type ReportBuilderOptions } from './reportBuilder';
import { CheckpointCodecError, encodeState, restoreState, type EncodedState } from './stateCodec';

export { CheckpointCodecError } from './stateCodec';
export type { EncodedState } from './stateCodec';

/** Bumped when the builder's state changes shape in a way old checkpoints cannot fill. */
export const CHECKPOINT_VERSION = 2;

export interface BuilderCheckpoint {
  version: number;
  /** settingsHash() of the experiment and options the state was built with. */
  settings: string;
  state: EncodedState;
}

/** JSON with sorted keys: the same settings give the same text whatever their key order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/**
 * A hash of everything besides the events that the report depends on: the experiment as loaded
 * (any edit invalidates, which is conservative), the drift reference and the builder's options.
 */
export function settingsHash(experiment: Experiment, options: ReportBuilderOptions = {}): string {
  const { variantOf, ...rest } = options;
  return createHash('sha256')
    .update(stableJson({ v: CHECKPOINT_VERSION, experiment, options: rest, ownIdMemory: !variantOf }))
    .digest('hex');
}

/** The builder's whole state now. */
export function checkpointBuilder(
  builder: ReportBuilder,
  options: ReportBuilderOptions = {},
): BuilderCheckpoint {
  return {
    version: CHECKPOINT_VERSION,
    settings: settingsHash(builder.experiment, options),
    state: encodeState(builder, { experiment: builder.experiment }),
  };
}

/** Classes a builder makes only as events arrive, so a fresh one may not have them yet. */
export const LATE_CLASSES = [DDSketch, VariantWindows, PredictionWindow, TimeWindow, AlwaysValidState];

/**
 * A builder for `experiment` and `options` in the state of `checkpoint`. Throws
 * CheckpointCodecError when the checkpoint was made for other settings or does not fit.
 */
export function restoreBuilder(
  experiment: Experiment,
  options: ReportBuilderOptions,
  checkpoint: BuilderCheckpoint,
): ReportBuilder {
  if (checkpoint.version !== CHECKPOINT_VERSION)
    throw new CheckpointCodecError(
      `checkpoint version ${checkpoint.version}, expected ${CHECKPOINT_VERSION}`,
    );
  if (checkpoint.settings !== settingsHash(experiment, options))
    throw new CheckpointCodecError('the experiment changed since the checkpoint was written');
  const builder = new ReportBuilder(experiment, options);
  return restoreState(builder, checkpoint.state, { experiment }, LATE_CLASSES);
}
