/**
 * Reads what a bring-your-own detector's folder says it is: alibi-detect's `save_detector` writes
 * a `config.toml` whose top-level `name` is the detector class (`KSDrift`, `MMDDrift`,
 * `ClassifierDrift`, `IForest`, …), beside its reference data. Only that one key is read, so a
 * TOML library is not needed: the file is alibi-detect's own, with `name = "..."` on a line.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Alibi Detect's drift detectors (alibi_detect.cd) that save_detector writes. */
const DRIFT = new Set([
  'KSDrift',
  'CVMDrift',
  'ChiSquareDrift',
  'TabularDrift',
  'FETDrift',
  'MMDDrift',
  'LSDDDrift',
  'ClassifierDrift',
  'SpotTheDiffDrift',
  'LearnedKernelDrift',
  'ContextMMDDrift',
  'MMDDriftOnline',
  'LSDDDriftOnline',
  'CVMDriftOnline',
  'FETDriftOnline',
]);
/** Its outlier detectors (alibi_detect.od) that save_detector writes. */
const OUTLIER = new Set([
  'IForest',
  'Mahalanobis',
  'OutlierAE',
  'OutlierVAE',
  'OutlierAEGMM',
  'OutlierVAEGMM',
  'OutlierProphet',
  'OutlierSeq2Seq',
  'SpectralResidual',
  'LLR',
]);

export interface SavedDetector {
  /** The detector class named in config.toml (or the legacy meta.dill format's folder: 'legacy'). */
  method: string;
  kind: 'drift' | 'outlier' | 'unknown';
}

/** What the folder holds; throws an Error that says how to make a valid one. */
export async function readSavedDetector(dir: string): Promise<SavedDetector> {
  let text: string;
  try {
    text = await readFile(join(dir, 'config.toml'), 'utf8');
  } catch {
    throw new Error(
      `${dir} has no config.toml — give the folder alibi-detect's save_detector(detector, folder) wrote`,
    );
  }
  const name = /^name\s*=\s*"([^"]+)"\s*$/m.exec(text)?.[1];
  if (!name)
    throw new Error(
      `${join(dir, 'config.toml')} names no detector (no top-level name = "..."): save it again`,
    );
  return { method: name, kind: DRIFT.has(name) ? 'drift' : OUTLIER.has(name) ? 'outlier' : 'unknown' };
}
