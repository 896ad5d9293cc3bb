/**
 * Promotion: an experiment tested locally, applied to a shared cluster through a kubeconfig
 * context — safely.
 *
 * 1. Refuse a `kind-*` context unless asked (the local cluster is not a promotion target).
 * 2. Build the target's objects: plan `canary` puts each candidate at 5% (the baseline keeps the
 *    rest), `as-is` keeps the live weights; experiments already routed there are kept.
 * 3. Server-side dry run (`dryRun=All`) and a unified diff against the live objects, handed to
 *    `onPreview` (the CLI prints it; VS Code opens a diff editor).
 * 4. Explicit confirmation through the injected `confirm`: on a context matching the protected
 *    pattern (default `prod`) the user types the context's name, and `yes` does not skip that.
 * 5. Save the objects it will change (for undo), apply (creating the router's admin-token Secret
 *    when the target has none — its value is never shown), wait for the rollouts, record an Event.
 *    A failure part-way reports what was applied and how to undo it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { Experiment } from '../core/spec/experiment';
import { ANNOTATION_PROMOTED_FROM } from '../manifests/labels';
import {
  DEFAULT_NAMESPACE,
  experimentFiles,
  modelServerObjects,
  routerConfig,
  routerExperimentEntry,
  routerObjects,
  stackNames,
  type ExperimentInput,
  type StackOptions,
} from '../manifests/stack';
import { applyWithAdminToken, readAdminToken } from './adminToken';
import { PartialApplyError, type AppliedObject } from './applyPlan';
import { recordEvent } from './cluster';
import { forContext } from './kubeconfig';
import { apiErrorMessage } from './objects';
import { restorable, undoText } from './promotionUndo';
import { pruneObjects, staleObjects } from './prune';
import { previewApply, type Preview } from './preview';
import { waitForRollouts, type RolloutState, type WorkloadKind } from './rollout';
import { keepLiveReplicas, mergeExperiment, mergeExperimentFiles, readLiveStack } from './stackState';

export type PromotionPlan = 'canary' | 'as-is';

/** What the user is asked; `expect` is what they must type when typing is required. */
export interface ConfirmQuestion {
  kind: 'type-context' | 'yes-no';
  message: string;
  expect?: string;
  context: string;
  preview: Preview;
}

export type Confirm = (question: ConfirmQuestion) => Promise<string | boolean>;

export interface PromoteOptions {
  context: string;
  namespace?: string;
  plan: PromotionPlan;
  /** The live weights at the source, for plan `as-is`; else the file's. */
  sourceWeights?: Record<string, number>;
  /** Where it comes from, recorded in `modelcanary.dev/promoted-from` (e.g. `kind-model-canary/model-canary`). */
  source: string;
  /** Stack settings of the target (model source, images, router bundle or image). */
  stack: Omit<StackOptions, 'namespace' | 'annotations'>;
  dryRun?: boolean;
  /** Skips the question on contexts that are not protected. */
  yes?: boolean;
  allowKind?: boolean;
  /** Contexts whose name matches need the name typed. Default /prod/i. */
  protectedPattern?: RegExp;
  force?: boolean;
  waitTimeoutMs?: number;
  /** Where the objects this promotion changes are saved before it applies (for undo). */
  undoFile?: string;
  confirm: Confirm;
  onPreview?: (preview: Preview) => void | Promise<void>;
  onProgress?: (message: string) => void;
  signal?: AbortSignal;
}

export interface PromotionResult {
  status: 'applied' | 'dry-run' | 'declined' | 'unchanged' | 'failed';
  context: string;
  namespace: string;
  weights: Record<string, number>;
  preview: Preview;
  applied: AppliedObject[];
  rollouts: RolloutState[];
  /** How to undo what was applied (present once anything was). */
  undo?: string;
  error?: string;
}

export class PromotionError extends Error {
  override readonly name = 'PromotionError';
}

export const DEFAULT_PROTECTED_PATTERN = /prod/i;
export const CANARY_PERCENT = 5;

/** The canary plan's weights: each candidate at 5%, the baseline the rest. */
export function canaryWeights(exp: Experiment): Record<string, number> {
  const candidates = exp.spec.variants.filter((v) => v.role !== 'baseline');
  const baselineShare = 100 - CANARY_PERCENT * candidates.length;
  if (baselineShare <= 0)
    throw new PromotionError(
      `${candidates.length} candidates at ${CANARY_PERCENT}% leave the baseline nothing`,
    );
  return Object.fromEntries(
    exp.spec.variants.map((v) => [v.name, v.role === 'baseline' ? baselineShare : CANARY_PERCENT]),
  );
}

/** `v1=95 v2=5` */
function splitText(weights: Record<string, number>): string {
  return Object.entries(weights)
    .map(([n, w]) => `${n}=${w}`)
    .join(' ');
}

/**
 * The protected context that makes a promotion to `context`/`namespace` need a typed
 * confirmation: the context itself when its name matches, else any context whose name matches
 * and that points at the same API server (and, when it names one, the same namespace) — an
 * alias must not skip the protection. Undefined when none does.
 */
export function protectingContext(
  kc: KubeConfig,
  context: string,
  namespace: string,
  pattern: RegExp,
): string | undefined {
  if (pattern.test(context)) return context;
  const serverOf = (name: string): string | undefined => {
    const cluster = kc.getContextObject(name)?.cluster;
    return cluster ? kc.getCluster(cluster)?.server.replace(/\/+$/, '') : undefined;
  };
  const server = serverOf(context);
  if (!server) return undefined;
  return kc
    .getContexts()
    .find(
      (c) =>
        c.name !== context &&
        pattern.test(c.name) &&
        serverOf(c.name) === server &&
        (c.namespace === undefined || c.namespace === namespace),
    )?.name;
}

/** True for a context that belongs to a local kind cluster. */
export function isKindContext(kc: KubeConfig, context: string): boolean {
  const cluster = kc.getContextObject(context)?.cluster ?? '';
  return context.startsWith('kind-') || cluster.startsWith('kind-');
}

/** Builds, previews, confirms, applies and waits. Never throws for a refused or failed apply: see `status`. */
export async function promote(
  kc: KubeConfig,
  input: ExperimentInput,
  o: PromoteOptions,
): Promise<PromotionResult> {
  const exp = input.experiment;
  const { context } = o;
  forContext(kc, context); // names the known contexts when this one does not exist
  if (isKindContext(kc, context) && !o.allowKind)
    throw new PromotionError(
      `${context} is a local kind cluster, not a promotion target — promote to a shared cluster's context, or pass --allow-kind if you really mean the kind cluster`,
    );
  const namespace = o.namespace ?? DEFAULT_NAMESPACE;
  const weights =
    o.plan === 'canary'
      ? canaryWeights(exp)
      : (o.sourceWeights ?? Object.fromEntries(exp.spec.variants.map((v) => [v.name, v.weight])));
  const progress = o.onProgress ?? (() => undefined);
  progress(`reading ${context}/${namespace}`);
  const given: StackOptions = {
    ...o.stack,
    namespace,
    annotations: { [ANNOTATION_PROMOTED_FROM]: o.source },
  };
  const live = await readLiveStack(kc, context, given);
  const stack = keepLiveReplicas(given, live);
  const target: ExperimentInput = { ...input, weights };
  const config = routerConfig(mergeExperiment(live.config, routerExperimentEntry(target, stack)), stack);
  const files = mergeExperimentFiles(live.experimentFiles, exp.metadata.name, experimentFiles(target));
  const objects = [
    ...routerObjects(config, files, stack),
    ...modelServerObjects(target, stack),
  ] as KubernetesObject[];

  // The experiment's variants no longer in the file, and a router Deployment from before StatefulSets.
  const stale = await staleObjects(
    kc,
    context,
    namespace,
    objects,
    [{ experiment: exp.metadata.name }, { router: true }],
    stack.release,
  );
  progress(`dry run: ${objects.length} objects on ${context}`);
  const preview = await previewApply(kc, context, objects, { force: o.force }, stale);
  const liveEntry = live.config?.experiments?.find((e) => e.name === exp.metadata.name);
  const liveWeights = liveEntry && Object.fromEntries(liveEntry.variants.map((v) => [v.name, v.weight]));
  if (liveWeights && Object.entries(weights).some(([n, w]) => liveWeights[n] !== w))
    preview.notes = [
      ...(preview.notes ?? []),
      `plan ${o.plan} sets the split ${splitText(weights)} on ${context}/${namespace}, which runs ${splitText(liveWeights)} now${o.plan === 'canary' ? ' (use --plan as-is to keep a live split)' : ''}`,
    ];
  await o.onPreview?.(preview);
  const base = {
    context,
    namespace,
    weights,
    preview,
    applied: [] as AppliedObject[],
    rollouts: [] as RolloutState[],
  };
  if (o.dryRun) return { ...base, status: 'dry-run' };
  if (preview.conflicts?.length && !o.force)
    throw new PromotionError(
      `other field managers own fields this promotion changes (the diff shows what it would do): ${preview.conflicts
        .map((c) => `${c.ref} (${c.managers.join(', ')})`)
        .join('; ')} — pass --force to take them over, or change them back with the tool that owns them`,
    );
  if (!preview.diff) return { ...base, status: 'unchanged' };

  const protectedBy = protectingContext(
    kc,
    context,
    namespace,
    o.protectedPattern ?? DEFAULT_PROTECTED_PATTERN,
  );
  const isProtected = protectedBy !== undefined;
  const changes = preview.changes.filter((c) => c.action !== 'unchanged').length;
  // The token's value is never shown, so the Secret is not in the diff: say it is coming.
  const tokenNote = (await readAdminToken(kc, context, stack))
    ? ''
    : ` (and create the router's admin-token Secret ${stackNames(stack.release).adminToken})`;
  const question: ConfirmQuestion = isProtected
    ? {
        kind: 'type-context',
        context,
        expect: context,
        preview,
        message: `${protectedBy === context ? `${context} is a protected context` : `${context} points at the same cluster and namespace as the protected context ${protectedBy}`}. Type its name (${context}) to apply ${changes} change(s) to ${namespace}${tokenNote}:`,
      }
    : {
        kind: 'yes-no',
        context,
        preview,
        message: `Apply ${changes} change(s) to ${context}/${namespace}${tokenNote}? [y/N]`,
      };
  // The notes (a live split the plan resets) belong in the question too: VS Code shows no summary.
  if (preview.notes?.length) question.message = `${preview.notes.join('; ')}. ${question.message}`;
  const accepted = !isProtected && o.yes ? true : isAccepted(question, await o.confirm(question));
  if (!accepted) return { ...base, status: 'declined' };

  const toUndo = preview.changes
    .filter((c) => (c.action === 'update' || c.action === 'delete') && c.live)
    .map((c) => c.live!);
  if (o.undoFile) {
    await mkdir(dirname(o.undoFile), { recursive: true });
    await writeFile(
      o.undoFile,
      toUndo.map((obj) => `---\n${stringify(restorable(obj), { lineWidth: 0 })}`).join(''),
    );
  }
  const names = stackNames(stack.release);
  const routerConfigRef = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: names.routerConfig, namespace },
  };
  let applied: AppliedObject[];
  try {
    applied = await applyWithAdminToken(kc, context, objects, stack, {
      force: o.force,
      onProgress: progress,
      signal: o.signal,
    });
  } catch (err) {
    if (!(err instanceof PartialApplyError)) throw err;
    const undo = undoText(context, err.applied, o.undoFile);
    await recordEvent(kc, context, {
      namespace,
      involved: routerConfigRef,
      reason: 'PromotionFailed',
      type: 'Warning',
      message: `promotion of ${exp.metadata.name} from ${o.source} failed at ${err.failed}: ${apiErrorMessage(err.cause)}`,
    }).catch(() => undefined);
    return { ...base, status: 'failed', applied: err.applied, undo, error: err.message };
  }
  const deleted = await pruneObjects(kc, context, stale, progress, stack.release);
  const undo = undoText(context, applied, o.undoFile, deleted);
  const deployments = applied
    .filter((a) => a.result.kind === 'Deployment' || a.result.kind === 'StatefulSet')
    .map((a) => ({
      name: a.result.metadata!.name!,
      namespace: a.result.metadata!.namespace!,
      kind: a.result.kind as WorkloadKind,
    }));
  let rollouts: RolloutState[] = [];
  try {
    progress(`waiting for ${deployments.length} workloads to roll out`);
    rollouts = await waitForRollouts(kc, context, deployments, {
      timeoutMs: o.waitTimeoutMs ?? 300_000,
      onProgress: progress,
      signal: o.signal,
    });
  } catch (err) {
    await recordEvent(kc, context, {
      namespace,
      involved: routerConfigRef,
      reason: 'PromotionFailed',
      type: 'Warning',
      message: `promotion of ${exp.metadata.name} from ${o.source} applied but did not roll out: ${(err as Error).message}`,
    }).catch(() => undefined);
    return { ...base, status: 'failed', applied, undo, error: (err as Error).message };
  }
  const split = Object.entries(weights)
    .map(([v, w]) => `${v}=${w}`)
    .join(' ');
  await recordEvent(kc, context, {
    namespace,
    involved:
      applied.find((a) => a.result.kind === 'ConfigMap' && a.result.metadata?.name === names.routerConfig)
        ?.result ?? routerConfigRef,
    reason: 'Promoted',
    action: 'Promote',
    message: `experiment ${exp.metadata.name} promoted from ${o.source} (plan ${o.plan}: ${split})`,
  });
  return { ...base, status: 'applied', applied, rollouts, undo };
}

function isAccepted(q: ConfirmQuestion, answer: string | boolean): boolean {
  if (q.kind === 'type-context') return typeof answer === 'string' && answer.trim() === q.expect;
  return answer === true || (typeof answer === 'string' && /^y(es)?$/i.test(answer.trim()));
}
