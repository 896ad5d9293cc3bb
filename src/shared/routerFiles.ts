/**
 * The files of the router's app folder: the bundle and, beside it, the dashboard's assets that
 * `/dashboard/` serves. The router image carries them in /opt/model-canary, and the bundle
 * ConfigMap carries them gzipped for the init container that unpacks them there; both build
 * from this one list, so neither can leave an asset behind.
 */

/** The router bundle (dist/router.js), run with `node`. */
export const ROUTER_SCRIPT_FILE = 'router.js';

/** The dashboard's assets (dist/webview.js, dist/dashboard.css) with the content type each is served with. */
export const DASHBOARD_ASSET_TYPES = {
  'webview.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
} as const;

export type DashboardAssetFile = keyof typeof DASHBOARD_ASSET_TYPES;

/** Every file of the app folder, in a fixed order (it feeds the bundle's hash). */
export const ROUTER_APP_FILES = [
  ROUTER_SCRIPT_FILE,
  ...(Object.keys(DASHBOARD_ASSET_TYPES) as DashboardAssetFile[]),
] as const;

/** The router bundle with the dashboard's assets: file name → content. */
export type RouterBundle = Record<(typeof ROUTER_APP_FILES)[number], string>;
