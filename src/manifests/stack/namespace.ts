/** The release's namespace as an object of the stack. */
import { stackLabels, type LabelInput } from '../labels';
import type { KubeObject } from '../types';
import { objectMetadata, routerLabels } from './metadata';
import { resolveStackOptions, type StackOptions } from './options';

/** The Namespace, labelled as the release's. */
export function namespaceObject(opts: StackOptions): KubeObject {
  const namespaceLabels: LabelInput = {
    ...routerLabels(resolveStackOptions(opts).release),
    name: 'model-canary',
    component: 'namespace',
  };
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      ...objectMetadata(opts, opts.namespace, namespaceLabels, false),
      // The API server sets this label itself; owning it too keeps re-applies free of changes.
      labels: { ...stackLabels(namespaceLabels), 'kubernetes.io/metadata.name': opts.namespace },
    },
  };
}
