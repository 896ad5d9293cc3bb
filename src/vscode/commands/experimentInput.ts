/** An experiment with what a cluster needs of it: its models (relative folders) and its drift reference. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Experiment } from '../../core/spec/experiment';
import { modelRefs, type ExperimentInput } from '../../manifests/stack';
import type { CommandContext } from './context';

export async function experimentInputFor(
  ctx: CommandContext,
  experiment: Experiment,
): Promise<ExperimentInput> {
  const scan = ctx.workspace.current.find((s) => s.experiments.some((e) => e.file === experiment.file));
  if (!scan) throw new Error(`${experiment.file} is not in an open workspace folder`);
  const problems = scan.problems.filter((p) => p.file === experiment.file);
  if (problems.length)
    throw new Error(`the experiment has problems — fix them first (see the Problems panel)`);
  const reference = experiment.spec.drift
    ? resolve(dirname(experiment.file), experiment.spec.drift.reference)
    : undefined;
  const referenceCsv = reference ? await readFile(reference, 'utf8').catch(() => undefined) : undefined;
  return { experiment, models: modelRefs(scan.root, scan.models), referenceCsv };
}
