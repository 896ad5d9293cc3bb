/** The report builder's options (./reportBuilder.ts): what it is given besides the experiment and the events. */
import type { ReferenceData } from '../drift';

export interface ReportBuilderOptions {
  /** The drift reference (the experiment's `drift.reference` CSV, parsed). */
  reference?: ReferenceData;
  /** How many recent primary predictions are kept to score shadow agreement. */
  agreementMemory?: number;
  /**
   * How many recent request ids are remembered (per generation, so up to twice as many) for
   * attributing feedback events that carry no variant, and for "latest feedback wins".
   * Default 1,000,000, like the router's `eventLog.idCacheSize`.
   */
  idMemory?: number;
  /**
   * The variant of a recent request id, from a caller that keeps its own index (the router):
   * the builder then keeps no id → variant map of its own.
   */
  variantOf?: (requestId: string) => string | undefined;
  /** Width of a timeline bucket (default 10 s) and how many recent buckets are kept (default 360). */
  bucketMs?: number;
  maxBuckets?: number;
  /** The run to report on (its id); without it, the events before the first run event. */
  run?: string;
  /** Bounds of the per-user memory (tests; the defaults are units.ts' USER_MEMORY and REQUEST_MEMORY). */
  unitMemory?: { users?: number; requests?: number; pending?: number };
}
