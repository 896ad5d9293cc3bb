/** Finding an experiment for a CLI command: by file path, or by name in the workspace. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatProblem, SpecError } from '../core/spec/errors';
import { loadExperimentFile, type Experiment } from '../core/spec/experiment';
import { scanWorkspace } from '../core/workspace/discover';
import { UsageError } from './command';

/** An experiment by file path or by name in the workspace; a UsageError saying what is wrong otherwise. */
export async function findExperiment(workspace: string, ref: string): Promise<Experiment> {
  if (existsSync(ref)) {
    try {
      return await loadExperimentFile(resolve(ref));
    } catch (err) {
      if (err instanceof SpecError) throw new UsageError(`invalid experiment file:\n${err.message}`);
      throw err;
    }
  }
  const scan = await scanWorkspace(workspace);
  const found = scan.experiments.find((e) => e.name === ref);
  if (!found)
    throw new UsageError(
      `no experiment "${ref}" in ${workspace} (known: ${scan.experiments.map((e) => e.name).join(', ') || 'none'})`,
    );
  if (!found.experiment)
    throw new UsageError(
      `the experiment "${ref}" is invalid:\n${scan.problems
        .filter((p) => p.file === found.file)
        .map(formatProblem)
        .join('\n')}`,
    );
  return found.experiment;
}
