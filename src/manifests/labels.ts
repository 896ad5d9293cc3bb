/**
 * Names and labels of everything the stack creates. Every object carries the
 * `app.kubernetes.io/*` recommended labels and `modelcanary.dev/experiment`; objects shared
 * by all experiments of a namespace (the router, its config, its RBAC) carry the experiment
 * label with an empty value, so `-l modelcanary.dev/experiment=propensity` selects exactly one
 * experiment's model servers and `-l app.kubernetes.io/instance=<release>` the whole stack.
 */
import { createHash } from 'node:crypto';

export const PART_OF = 'model-canary';
export const MANAGED_BY = 'model-canary';
export const LABEL_EXPERIMENT = 'modelcanary.dev/experiment';
export const LABEL_VARIANT = 'modelcanary.dev/variant';
export const ANNOTATION_MODEL = 'modelcanary.dev/model';
export const ANNOTATION_PROMOTED_FROM = 'modelcanary.dev/promoted-from';
export const ANNOTATION_BUNDLE_SHA = 'modelcanary.dev/router-bundle-sha256';

export type Component = 'router' | 'model-server' | 'namespace' | 'metrics-adapter';

export interface LabelInput {
  /** `app.kubernetes.io/name`: the application, e.g. `model-canary-router` or `mlserver`. */
  name: string;
  /** `app.kubernetes.io/instance`: the release (one stack per namespace). */
  instance: string;
  component: Component;
  /** Empty for objects every experiment shares. */
  experiment: string;
  variant?: string;
}

/** The full label set of an object. */
export function stackLabels(l: LabelInput): Record<string, string> {
  return {
    'app.kubernetes.io/name': l.name,
    'app.kubernetes.io/instance': l.instance,
    'app.kubernetes.io/component': l.component,
    'app.kubernetes.io/part-of': PART_OF,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    [LABEL_EXPERIMENT]: l.experiment,
    ...(l.variant ? { [LABEL_VARIANT]: l.variant } : {}),
  };
}

/** The labels a Deployment selects its Pods by (a subset that never changes for an object). */
export function selectorLabels(l: LabelInput): Record<string, string> {
  return {
    'app.kubernetes.io/name': l.name,
    'app.kubernetes.io/instance': l.instance,
    'app.kubernetes.io/component': l.component,
    ...(l.variant ? { [LABEL_EXPERIMENT]: l.experiment, [LABEL_VARIANT]: l.variant } : {}),
  };
}

/** The selector for everything a release manages, as a label-selector string. */
export function releaseSelector(instance: string): string {
  return `app.kubernetes.io/instance=${instance},app.kubernetes.io/managed-by=${MANAGED_BY}`;
}

/**
 * A DNS-1035 label (Service names need a leading letter) of at most `max` characters, built
 * from `parts`; when something had to be changed or cut, a short hash of the original keeps
 * different inputs apart.
 */
export function dnsName(parts: string[], max = 63): string {
  const raw = parts.join('-');
  let name = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(name)) name = `m-${name}`;
  if (name === raw && name.length <= max) return name;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 6);
  return `${name.slice(0, max - 7).replace(/-+$/, '')}-${hash}`;
}

/** Whether a string is a valid label value (≤ 63, alphanumerics with `-_.` inside, or empty). */
export function isLabelValue(v: string): boolean {
  return v === '' || (v.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(v));
}
