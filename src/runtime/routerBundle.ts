/** Reads the router bundle for the bundle ConfigMap: dist/router.js and the dashboard's assets beside it. */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ROUTER_APP_FILES, type RouterBundle } from '../shared/routerFiles';

/**
 * The files of the router's app folder, read from the folder of `routerScript` (dist/router.js).
 * A missing file is an error naming it and the fix: without the assets the cluster's
 * `/dashboard/` would answer 404.
 */
export async function readRouterBundle(routerScript: string): Promise<RouterBundle> {
  const dir = dirname(routerScript);
  const entries = await Promise.all(
    ROUTER_APP_FILES.map(async (file) => {
      const path = join(dir, file);
      try {
        return [file, await readFile(path, 'utf8')] as const;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        throw new RouterBundleMissing(path);
      }
    }),
  );
  return Object.fromEntries(entries) as RouterBundle;
}

/** A file of the router bundle is missing; the message says how to build it or avoid needing it. */
export class RouterBundleMissing extends Error {
  constructor(readonly path: string) {
    super(
      `the router bundle file ${path} is missing — build the bundles with \`node esbuild.mjs\` (dist/router.js, dist/webview.js, dist/dashboard.css), or set a router image (--router-image)`,
    );
    this.name = 'RouterBundleMissing';
  }
}
