/**
 * The names and pinned inputs of the stack's own images, from the code that uses them, so that
 * tools/images/build.sh builds exactly what the manifests name:
 *   node --import tsx tools/images/names.ts   prints them as shell assignments.
 * The tests import `stackImageNames()` to find the images build.sh made.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_IMAGES } from '../../src/manifests/images';
import { MLSERVER_PACKAGES, MLSERVER_VERSION } from '../../src/runtime/python';

const REPO = join(import.meta.dirname, '../..');

export interface StackImageNames {
  /** The manifests' MLServer image, built here as Debian Python + a venv of MLSERVER_PACKAGES. */
  mlserver: string;
  /** The manifests' Node image (the ConfigMap path's runtime), built here with the router inside too. */
  node: string;
  /** The router image for `--router-image`: the same image as `node`, under the product's own name. */
  router: string;
  /** Node's version, from the Node image's tag (22.22.0 of node:22.22.0-alpine). */
  nodeVersion: string;
  /** The pip requirements of the MLServer image: those of the local process runtime. */
  mlserverPackages: readonly string[];
  mlserverVersion: string;
}

export function stackImageNames(): StackImageNames {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  const nodeVersion = /^node:(\d+\.\d+\.\d+)(-|$)/.exec(DEFAULT_IMAGES.node)?.[1];
  if (!nodeVersion) throw new Error(`the Node image ${DEFAULT_IMAGES.node} has no node:<x.y.z> tag`);
  return {
    mlserver: DEFAULT_IMAGES.mlserver,
    node: DEFAULT_IMAGES.node,
    router: `model-canary/router:${pkg.version}`,
    nodeVersion,
    mlserverPackages: MLSERVER_PACKAGES,
    mlserverVersion: MLSERVER_VERSION,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const n = stackImageNames();
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  console.log(
    [
      `MLSERVER_IMAGE=${quote(n.mlserver)}`,
      `NODE_IMAGE=${quote(n.node)}`,
      `ROUTER_IMAGE=${quote(n.router)}`,
      `NODE_IMAGE_VERSION=${quote(n.nodeVersion)}`,
      `MLSERVER_PIP_PACKAGES=${quote(n.mlserverPackages.join(' '))}`,
      `MLSERVER_PIP_VERSION=${quote(n.mlserverVersion)}`,
    ].join('\n'),
  );
}
