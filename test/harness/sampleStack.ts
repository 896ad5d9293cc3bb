/** The sample workspace's propensity experiment as the input of buildStack, and the objects of a stack. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scanWorkspace } from '../../src/core/workspace/discover';
import {
  buildStack,
  modelRefs,
  type ExperimentInput,
  type KubeObject,
  type StackOptions,
} from '../../src/manifests';
import { SAMPLE_MODELS } from './tools';

/** sample-models/experiments/propensity.yaml with the workspace's models and its drift reference. */
export async function sampleExperimentInput(): Promise<ExperimentInput> {
  const scan = await scanWorkspace(SAMPLE_MODELS);
  const experiment = scan.experiments.find((e) => e.name === 'propensity')!.experiment!;
  const referenceCsv = await readFile(join(SAMPLE_MODELS, 'data/reference.csv'), 'utf8');
  return { experiment, models: modelRefs(scan.root, scan.models), referenceCsv };
}

/** The sample experiment's stack on kind in the namespace `mc`, with `router` (its image, or the bundle). */
export async function sampleKindStack(router: StackOptions['router']): Promise<KubeObject[]> {
  return buildStack([await sampleExperimentInput()], { namespace: 'mc', platform: 'kind', router });
}

/** The object of `kind` and `name` in a stack; fails naming what the stack holds instead. */
export function objectOf(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(
      `no ${kind}/${name} in the stack (it has ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`,
    );
  return found;
}
