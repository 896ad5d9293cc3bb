/** Finding an experiment: by file path, or by name in the workspace, with what a cluster needs of it. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readDriftReferences } from '../core/workspace/driftReferences';
import { formatProblem, SpecError } from '../core/spec/errors';
import { loadExperimentFile, type Experiment } from '../core/spec/experiment';
import { scanWorkspace } from '../core/workspace/discover';
import { modelRefs, type ExperimentInput } from '../manifests/stack';
import { usageError } from './errors';

/** An experiment by file path or by name in the workspace; a usage error saying what is wrong otherwise. */
export async function findExperiment(workspace: string, ref: string): Promise<Experiment> {
  if (existsSync(ref)) {
    try {
      return await loadExperimentFile(resolve(ref));
    } catch (err) {
      if (err instanceof SpecError) throw usageError(`invalid experiment file:\n${err.message}`);
      throw err;
    }
  }
  const scan = await scanWorkspace(workspace);
  const found = scan.experiments.find((e) => e.name === ref);
  if (!found)
    throw usageError(
      `no experiment "${ref}" in ${workspace} (known: ${scan.experiments.map((e) => e.name).join(', ') || 'none'})`,
    );
  if (!found.experiment)
    throw usageError(
      `the experiment "${ref}" is invalid:\n${scan.problems
        .filter((p) => p.file === found.file)
        .map(formatProblem)
        .join('\n')}`,
    );
  return found.experiment;
}

/** An experiment with its models and drift reference, as the manifests need it. */
export async function experimentInput(workspace: string, ref: string): Promise<ExperimentInput> {
  const experiment = await findExperiment(workspace, ref);
  const scan = await scanWorkspace(workspace);
  const problems = scan.problems.filter((p) => p.file === experiment.file);
  if (problems.length)
    throw usageError(`the experiment is invalid:\n${problems.map(formatProblem).join('\n')}`);
  return {
    experiment,
    models: modelRefs(scan.root, scan.models),
    ...(await readDriftReferences(experiment)),
  };
}
