/** Which dataset a simulation replays by default, and loading it. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseCsv, type ReferenceData } from '../core/drift';
import type { Experiment } from '../core/spec/experiment';

/** The sample layout: data/traffic.csv beside the drift reference; else the reference itself. */
export function defaultTrafficFile(experiment: Experiment): string {
  const reference = experiment.spec.drift?.reference;
  const base = dirname(experiment.file);
  if (reference) {
    const traffic = join(dirname(resolve(base, reference)), 'traffic.csv');
    return existsSync(traffic) ? traffic : resolve(base, reference);
  }
  return join(base, '..', 'data', 'traffic.csv');
}

/** Reads a CSV dataset; throws an Error naming the file when it cannot. */
export async function loadDataset(file: string): Promise<ReferenceData> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`the traffic file ${file} cannot be read — pass a CSV with the model's feature columns`);
  }
  const data = parseCsv(text);
  if (data.rows.length === 0) throw new Error(`the traffic file ${file} has no rows`);
  return data;
}
