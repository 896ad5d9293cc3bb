/** Names, labels and metadata of the stack's objects. */
import { dnsName, selectorLabels, stackLabels, type LabelInput } from '../labels';
import type { KubeObject } from '../types';
import { DEFAULT_RELEASE, type StackOptions } from './options';

/** The Deployment/Service name of an experiment's variant. */
export function modelServerName(experiment: string, variant: string): string {
  return dnsName([experiment, variant]);
}

/** The metadata of a stack object: its labels, the namespace unless cluster-scoped, and the options' annotations over its own. */
export function objectMetadata(
  opts: StackOptions,
  name: string,
  labels: LabelInput,
  namespaced = true,
  annotations: Record<string, string> = {},
): KubeObject['metadata'] {
  const all = { ...annotations, ...opts.annotations };
  return {
    name,
    ...(namespaced ? { namespace: opts.namespace } : {}),
    labels: stackLabels(labels),
    ...(Object.keys(all).length ? { annotations: all } : {}),
  };
}

/** The labels of the router and every object shared by the release's experiments. */
export function routerLabels(release: string): LabelInput {
  return { name: 'model-canary-router', instance: release, component: 'router', experiment: '' };
}

/** The labels that select the router's Pods. */
export function routerSelector(release = DEFAULT_RELEASE): Record<string, string> {
  return selectorLabels(routerLabels(release));
}
