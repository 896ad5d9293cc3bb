/**
 * The router bundle as a ConfigMap, for clusters that run the official Node image instead of a
 * router image: an init container unpacks it into an emptyDir the router runs it from.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ANNOTATION_BUNDLE_SHA } from '../labels';
import type { KubeObject } from '../types';
import { objectMetadata, routerLabels } from './metadata';
import { CONFIGMAP_LIMIT_BYTES, resolveStackOptions, type StackOptions } from './options';
import { RESTRICTED_CONTAINER_SECURITY } from './podSecurity';

const BUNDLE_DIR = '/etc/model-canary/bundle';
/** Where the router runs from: the unpacked bundle, or a router image's own copy. */
export const ROUTER_APP_DIR = '/opt/model-canary';
const BUNDLE_KEY = 'router.js.gz';

/** The gzipped router bundle: dist/router.js is 1–1.5 MB, over a ConfigMap's 1 MiB; gzip brings it to about a third. */
export function routerBundleConfigMap(
  bundle: string,
  opts: StackOptions,
): { configMap: KubeObject; sha256: string } {
  const { names, release } = resolveStackOptions(opts);
  const gz = gzipSync(Buffer.from(bundle, 'utf8'), { level: 9 });
  if (gz.length > CONFIGMAP_LIMIT_BYTES)
    throw new Error(
      `the router bundle is ${(gz.length / 1e6).toFixed(2)} MB gzipped, over the 1 MiB a ConfigMap holds — build it minified (node esbuild.mjs), or configure a router image (--router-image)`,
    );
  const sha256 = createHash('sha256').update(bundle).digest('hex');
  return {
    sha256,
    configMap: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: objectMetadata(opts, names.bundle, routerLabels(release), true, {
        [ANNOTATION_BUNDLE_SHA]: sha256,
      }),
      binaryData: { [BUNDLE_KEY]: gz.toString('base64') },
    },
  };
}

// Node writes the unpacked bundle; no shell in the image is needed for it.
const UNPACK_SCRIPT = `const fs=require('node:fs'),zlib=require('node:zlib');fs.writeFileSync('${ROUTER_APP_DIR}/router.js',zlib.gunzipSync(fs.readFileSync('${BUNDLE_DIR}/${BUNDLE_KEY}')));`;

/** The init container that unpacks the bundle into the `app` volume. */
export function unpackRouterContainer(image: string) {
  return {
    name: 'unpack-router',
    image,
    command: ['node', '-e', UNPACK_SCRIPT],
    volumeMounts: [
      { name: 'bundle', mountPath: BUNDLE_DIR, readOnly: true },
      { name: 'app', mountPath: ROUTER_APP_DIR },
    ],
    resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    securityContext: { ...RESTRICTED_CONTAINER_SECURITY, readOnlyRootFilesystem: true },
  };
}

/** The volumes of the bundle ConfigMap and of the directory it is unpacked into. */
export function routerBundleVolumes(bundleConfigMap: string) {
  return [
    { name: 'bundle', configMap: { name: bundleConfigMap } },
    { name: 'app', emptyDir: { sizeLimit: '64Mi' } },
  ];
}
