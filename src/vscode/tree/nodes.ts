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
import type { ExperimentRuns } from '../../operations/runs';
import type { Comparison, RunInfo, VariantReport } from '../../shared/report';
import type { Alert } from '../../core/analysis/alerts';

/** What the selected environment's node shows: running (with its components), or why it cannot tell. */
export interface EnvironmentLive {
  running?: {
    routerUrl?: string;
    routerGrpc?: string;
    ready: number;
    total: number;
    components: ComponentStatus[];
  };
  /** The environment could not be read (an unreachable API server, a missing context). */
  error?: string;
}

export type TreeNode =
  | ({ kind: 'environment.local'; current: boolean } & EnvironmentLive)
  | ({
      kind: 'environment.kind';
      clusterName: string;
      current: boolean;
      doctor?: DoctorReport;
      /** The kubeconfig has the kind cluster's context. */
      exists?: boolean;
    } & EnvironmentLive)
  | {
      kind: 'environment.contexts';
      contexts: KubeContextInfo[];
      current?: string;
      error?: string;
      live?: EnvironmentLive;
    }
  | ({
      kind: 'environment.context';
      context: KubeContextInfo;
      current: boolean;
      /** The selected context: the namespace the stack runs in (modelCanary.kubernetes.namespace). */
      stackNamespace?: string;
    } & EnvironmentLive)
  | { kind: 'environment.component'; component: ComponentStatus }
  | { kind: 'environment.error'; message: string }
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
  /** A step of a graph variant, with its live figures when the experiment runs. */
  | {
      kind: 'step';
      experimentFile: string;
      variant: string;
      step: string;
      /** The steps it reads from (none: the request). */
      after: string[];
      live?: NonNullable<VariantReport['steps']>[number];
      slowest: boolean;
    }
  | { kind: 'shadow'; experimentFile: string; variant: string; model: string; percent: number }
  | { kind: 'runs'; experimentFile: string; experiment: string; runs: ExperimentRuns }
  | { kind: 'run'; experimentFile: string; experiment: string; run: RunInfo; current: boolean }
  | { kind: 'problem'; problem: SpecProblem }
  /** A live experiment's current alerts (src/vscode/alertList.ts), and each of them. */
  | { kind: 'alerts'; experimentFile: string; experiment: string; alerts: Alert[] }
  | { kind: 'alert'; experimentFile: string; experiment: string; alert: Alert };

/** The file a node stands for, when it stands for one (for Open File). */
export function fileOf(node: TreeNode): string | undefined {
  switch (node.kind) {
    case 'model':
      return node.model.settingsFile;
    case 'experiment':
      return node.entry.file;
    case 'variant':
    case 'step':
    case 'shadow':
    case 'runs':
    case 'run':
    case 'alerts':
    case 'alert':
      return node.experimentFile;
    case 'problem':
      return node.problem.file;
    default:
      return undefined;
  }
}
