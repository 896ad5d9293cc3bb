/** The drift references an experiment names, read as text for the manifests' ConfigMap (absent when unreadable). */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Experiment } from '../spec/experiment';

export async function readDriftReferences(
  experiment: Experiment,
): Promise<{ referenceCsv?: string; modelInputCsv?: string }> {
  const drift = experiment.spec.drift;
  const read = (path: string | undefined): Promise<string | undefined> =>
    path === undefined
      ? Promise.resolve(undefined)
      : readFile(resolve(dirname(experiment.file), path), 'utf8').catch(() => undefined);
  const [referenceCsv, modelInputCsv] = await Promise.all([
    read(drift?.reference),
    read(drift?.modelInput?.reference),
  ]);
  return {
    ...(referenceCsv !== undefined ? { referenceCsv } : {}),
    ...(modelInputCsv !== undefined ? { modelInputCsv } : {}),
  };
}
