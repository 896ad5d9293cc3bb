/**
 * The router bundle as a ConfigMap, for clusters that run the official Node image instead of a
 * router image: an init container unpacks it into an emptyDir the router runs it from. The
 * ConfigMap carries every file of the router's app folder (src/shared/routerFiles.ts): the
 * bundle and the dashboard's assets, so `/dashboard/` works in the Pod as it does locally.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ROUTER_APP_FILES, type RouterBundle } from '../../shared/routerFiles';
import { ANNOTATION_BUNDLE_SHA } from '../labels';
import type { KubeObject } from '../types';
import { objectMetadata, routerLabels } from './metadata';
import { CONFIGMAP_LIMIT_BYTES, resolveStackOptions, type StackOptions } from './options';
import { RESTRICTED_CONTAINER_SECURITY } from './podSecurity';

const BUNDLE_DIR = '/etc/model-canary/bundle';
/** Where the router runs from: the unpacked bundle, or a router image's own copy. */
export const ROUTER_APP_DIR = '/opt/model-canary';

/** The ConfigMap key of an app file: its name, gzipped. */
const keyOf = (file: string): string => `${file}.gz`;

/** The hash of the whole bundle (every app file, in order), which rolls the router when any file changes. */
export function routerBundleSha256(bundle: RouterBundle): string {
  const hash = createHash('sha256');
  for (const file of ROUTER_APP_FILES) hash.update(`${file}\0${bundle[file].length}\0`).update(bundle[file]);
  return hash.digest('hex');
}

/**
 * The gzipped router bundle and dashboard assets: dist/router.js alone is 1–1.5 MB, over a
 * ConfigMap's 1 MiB; gzip brings all three files to about half a megabyte. Node's gzip header
 * carries no time stamp, so the same files give the same ConfigMap (the promotion diff relies on it).
 */
export function routerBundleConfigMap(
  bundle: RouterBundle,
  opts: StackOptions,
): { configMap: KubeObject; sha256: string } {
  const { names, release } = resolveStackOptions(opts);
  const binaryData: Record<string, string> = {};
  let bytes = 0;
  for (const file of ROUTER_APP_FILES) {
    const gz = gzipSync(Buffer.from(bundle[file], 'utf8'), { level: 9 });
    bytes += gz.length;
    binaryData[keyOf(file)] = gz.toString('base64');
  }
  if (bytes > CONFIGMAP_LIMIT_BYTES)
    throw new Error(
      `the router bundle and dashboard assets are ${(bytes / 1e6).toFixed(2)} MB gzipped, over the 1 MiB a ConfigMap holds — build them minified (node esbuild.mjs), or configure a router image (--router-image)`,
    );
  const sha256 = routerBundleSha256(bundle);
  return {
    sha256,
    configMap: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: objectMetadata(opts, names.bundle, routerLabels(release), true, {
        [ANNOTATION_BUNDLE_SHA]: sha256,
      }),
      binaryData,
    },
  };
}

/**
 * Node unpacks every app file from the bundle folder (argv[1]) into the app folder (argv[2]);
 * no shell in the image is needed for it. The file names are fixed here, so the ConfigMap
 * volume's own entries (`..data` and its time-stamped folder) are never read.
 */
export const UNPACK_SCRIPT = `const fs=require('node:fs'),path=require('node:path'),zlib=require('node:zlib');const [from,to]=process.argv.slice(1);for(const f of ${JSON.stringify(ROUTER_APP_FILES)})fs.writeFileSync(path.join(to,f),zlib.gunzipSync(fs.readFileSync(path.join(from,f+'.gz'))));`;

/** The init container that unpacks the bundle into the `app` volume. */
export function unpackRouterContainer(image: string) {
  return {
    name: 'unpack-router',
    image,
    command: ['node', '-e', UNPACK_SCRIPT],
    args: [BUNDLE_DIR, ROUTER_APP_DIR],
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
