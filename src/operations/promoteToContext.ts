/**
 * `promote` / Promote to Cluster…: an experiment to a kubeconfig context. Builds the target's
 * objects, dry-runs them on its API server, shows the diff (onPreview), asks (confirm), applies,
 * waits and records where it came from. Plan `as-is` takes the live weights of the source.
 */
import { relative } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Experiment } from '../core/spec/experiment';
import { DEFAULT_CLUSTER_NAME } from '../kind/cluster';
import { loadKubeConfig } from '../kube/kubeconfig';
import {
  isKindContext,
  promote,
  type PromoteOptions,
  type PromotionPlan,
  type PromotionResult,
} from '../kube/promote';
import { readLiveStack } from '../kube/stackState';
import { DEFAULT_NAMESPACE } from '../manifests/stack';
import type { OperationOptions, Runtime } from '../runtime/runtime';
import type { RouterBundle } from '../shared/routerFiles';
import { usageError } from './errors';
import { experimentInput } from './experiments';

export interface PromoteToContextInput {
  workspace: string;
  /** The experiment's file or name. */
  experiment: string;
  context: string;
  namespace?: string;
  plan: PromotionPlan;
  /** Plan as-is: read the live weights from CONTEXT[/NAMESPACE]. */
  from?: string;
  /** Where the promotion is recorded as coming from, when not derived from `from` or the local environment. */
  source?: string;
  modelUriBase?: string;
  routerImage?: string;
  /** The router bundle (dist/router.js and the dashboard's assets) when no router image is given. */
  routerBundle?: RouterBundle;
  mlserverImage?: string;
  dryRun?: boolean;
  yes?: boolean;
  allowKind?: boolean;
  protectedPattern?: RegExp;
  force?: boolean;
  waitTimeoutMs?: number;
  /** Where the objects are saved before the apply, for undo. */
  undoFile: string;
  /** The local environment, whose live weights plan as-is uses when it runs the experiment. */
  localEnvironment?: Runtime;
}

export type PromoteToContextOptions = OperationOptions & Pick<PromoteOptions, 'confirm' | 'onPreview'>;

export interface PromoteToContextResult extends PromotionResult {
  experiment: string;
  /** Where plan as-is took the weights from, or the file. */
  source: string;
  usedLiveWeights: boolean;
}

export async function promoteToContext(
  input: PromoteToContextInput,
  options: PromoteToContextOptions,
): Promise<PromoteToContextResult> {
  if (!input.context)
    throw usageError('name the kubeconfig context to promote to (see kubectl config get-contexts)');
  if (input.plan !== 'canary' && input.plan !== 'as-is') throw usageError('the plan must be canary or as-is');
  const exp = await experimentInput(input.workspace, input.experiment);
  const kc = loadKubeConfig();
  const { sourceWeights, source } = await liveWeights(kc, input, exp.experiment);
  if (input.plan === 'as-is')
    options.onProgress?.(
      sourceWeights
        ? `live weights from ${source}`
        : `no running environment has ${exp.experiment.metadata.name}: using the file's weights`,
    );
  const result = await promote(kc, exp, {
    context: input.context,
    namespace: input.namespace,
    plan: input.plan,
    sourceWeights,
    source: input.source ?? source,
    stack: {
      platform: isKindContext(kc, input.context) ? 'kind' : 'remote',
      ...(input.modelUriBase ? { modelSource: { kind: 'http', baseUrl: input.modelUriBase } } : {}),
      router: { image: input.routerImage, bundle: input.routerImage ? undefined : input.routerBundle },
      ...(input.mlserverImage ? { images: { mlserver: input.mlserverImage } } : {}),
    },
    dryRun: input.dryRun,
    yes: input.yes,
    allowKind: input.allowKind,
    protectedPattern: input.protectedPattern,
    force: input.force,
    waitTimeoutMs: input.waitTimeoutMs,
    undoFile: input.undoFile,
    confirm: options.confirm,
    onPreview: options.onPreview,
    onProgress: options.onProgress,
    signal: options.signal,
  });
  return { ...result, experiment: exp.experiment.metadata.name, source, usedLiveWeights: !!sourceWeights };
}

/**
 * Where plan as-is takes the live weights from: `from` (CONTEXT[/NAMESPACE]); else the local
 * environment if it runs the experiment; else the local kind cluster's; else none (the file's).
 */
async function liveWeights(
  kc: KubeConfig,
  input: PromoteToContextInput,
  exp: Experiment,
): Promise<{ sourceWeights?: Record<string, number>; source: string }> {
  const fileSource = `workspace:${relative(input.workspace, exp.file) || exp.file}`;
  const fromCluster = async (context: string, namespace: string) => {
    const live = await readLiveStack(kc, context, { namespace, platform: 'remote' });
    const entry = live.config?.experiments?.find((e) => e.name === exp.metadata.name);
    return entry && Object.fromEntries(entry.variants.map((x) => [x.name, x.weight]));
  };
  if (input.from) {
    const { context, namespace } = parseSource(kc, input.from);
    const weights = await fromCluster(context, namespace);
    if (!weights) throw usageError(`${exp.metadata.name} is not deployed in ${context}/${namespace}`);
    return { sourceWeights: weights, source: `${context}/${namespace}` };
  }
  if (input.plan !== 'as-is') return { source: fileSource };
  const local = await input.localEnvironment?.report(exp.metadata.name).catch(() => undefined);
  if (local)
    return {
      sourceWeights: Object.fromEntries(local.variants.map((x) => [x.name, x.weight])),
      source: `local:${input.workspace}`,
    };
  const kindContext = `kind-${DEFAULT_CLUSTER_NAME}`;
  if (kc.getContextObject(kindContext)) {
    const weights = await fromCluster(kindContext, DEFAULT_NAMESPACE).catch(() => undefined);
    if (weights) return { sourceWeights: weights, source: `${kindContext}/${DEFAULT_NAMESPACE}` };
  }
  return { source: fileSource };
}

/**
 * `CONTEXT[/NAMESPACE]` where context names may hold slashes themselves (EKS:
 * `arn:aws:eks:eu-west-1:123:cluster/prod`): a whole name that is a context wins; otherwise the
 * part after the last slash is the namespace.
 */
export function parseSource(kc: KubeConfig, from: string): { context: string; namespace: string } {
  if (kc.getContextObject(from)) return { context: from, namespace: DEFAULT_NAMESPACE };
  const at = from.lastIndexOf('/');
  const context = at > 0 ? from.slice(0, at) : from;
  const namespace = at > 0 ? from.slice(at + 1) : DEFAULT_NAMESPACE;
  if (!kc.getContextObject(context))
    throw usageError(
      `--from: no context "${context}" in the kubeconfig (known: ${
        kc
          .getContexts()
          .map((c) => c.name)
          .join(', ') || 'none'
      })`,
    );
  return { context, namespace: namespace || DEFAULT_NAMESPACE };
}
