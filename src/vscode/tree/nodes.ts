/**
 * Tree nodes as one discriminated union. `contextValue`s are compound ("model file",
 * "experiment file invalid") so package.json menus match them with regular expressions.
 */
import type { ModelVersion, ExperimentFile } from '../../core/workspace/discover';
import type { Variant } from '../../core/spec/experiment';
import type { SpecProblem } from '../../core/spec/errors';
import type { DoctorReport } from '../../kind/doctor';
import type { KubeContextInfo } from '../../kube/kubeconfig';
import type { ComponentStatus } from '../../runtime/runtime';
import type { Comparison, VariantReport } from '../../shared/report';

export type TreeNode =
  | {
      kind: 'environment.local';
      current: boolean;
      running?: { routerUrl?: string; ready: number; total: number };
    }
  | { kind: 'environment.kind'; clusterName: string; current: boolean; doctor?: DoctorReport }
  | { kind: 'environment.contexts'; contexts: KubeContextInfo[]; current?: string; error?: string }
  | { kind: 'environment.context'; context: KubeContextInfo; current: boolean }
  | { kind: 'model'; model: ModelVersion; problems: SpecProblem[]; server?: ComponentStatus }
  | {
      kind: 'experiment';
      entry: ExperimentFile;
      problems: SpecProblem[];
      live: boolean;
      driftFlag?: boolean;
      srmMismatch?: boolean;
    }
  | {
      kind: 'variant';
      experimentFile: string;
      variant: Variant;
      share: number;
      live?: VariantReport;
      comparison?: Comparison;
      drifting?: string[];
    }
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
