/**
 * Tree nodes as one discriminated union. `contextValue`s are compound ("model file",
 * "experiment file invalid") so package.json menus match them with regular expressions.
 */
import type { ModelVersion, ExperimentFile } from '../../core/workspace/discover';
import type { Variant } from '../../core/spec/experiment';
import type { SpecProblem } from '../../core/spec/errors';
import type { DoctorReport } from '../../kind/doctor';
import type { KubeContextInfo } from '../../kube/kubeconfig';

export type TreeNode =
  | { kind: 'environment.local' }
  | { kind: 'environment.kind'; clusterName: string; doctor?: DoctorReport }
  | { kind: 'environment.contexts'; contexts: KubeContextInfo[]; error?: string }
  | { kind: 'environment.context'; context: KubeContextInfo }
  | { kind: 'model'; model: ModelVersion; problems: SpecProblem[] }
  | { kind: 'experiment'; entry: ExperimentFile; problems: SpecProblem[] }
  | { kind: 'variant'; experimentFile: string; variant: Variant; share: number }
  | { kind: 'shadow'; experimentFile: string; variant: string; model: string; percent: number }
  | { kind: 'problem'; problem: SpecProblem };

/** The file a node stands for, when it stands for one (for Open File). */
export function fileOf(node: TreeNode): string | undefined {
  switch (node.kind) {
    case 'model':
      return node.model.settingsFile;
    case 'experiment':
      return node.entry.file;
    case 'variant':
    case 'shadow':
      return node.experimentFile;
    case 'problem':
      return node.problem.file;
    default:
      return undefined;
  }
}
