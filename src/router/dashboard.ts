/**
 * The standalone dashboard at /dashboard/: the same bundle as the VS Code panel, reading the
 * report over HTTP. The assets are the files beside the router bundle (dist/webview.js and
 * dist/dashboard.css; in a Pod, /opt/model-canary, from the router image or unpacked from the
 * bundle ConfigMap — see src/shared/routerFiles.ts); a router deployed without them answers 404
 * saying so.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { dashboardCsp, dashboardHtml } from '../shared/dashboardHtml';
import { DASHBOARD_ASSET_TYPES } from '../shared/routerFiles';

const ASSETS: Readonly<Record<string, string>> = DASHBOARD_ASSET_TYPES;

/** The folder holding the dashboard assets: the router bundle's own. */
export function defaultAssetDir(): string {
  return dirname(process.argv[1] ?? '.');
}

/** Serves /dashboard/ (the page) and /dashboard/<asset>; returns false for other paths. */
export async function serveDashboard(path: string, res: ServerResponse, assetDir: string): Promise<boolean> {
  if (path === '/dashboard') {
    res.writeHead(301, { location: '/dashboard/' });
    res.end();
    return true;
  }
  if (!path.startsWith('/dashboard/')) return false;
  const name = path.slice('/dashboard/'.length);
  // The page carries weight, promote and roll-back buttons: no other site may frame it.
  const security = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
  };
  if (name === '' || name === 'index.html') {
    const page = {
      nonce: randomBytes(16).toString('base64'),
      cspSource: "'self'",
      mode: 'browser' as const,
    };
    const html = dashboardHtml({
      ...page,
      scriptUri: 'webview.js',
      styleUri: 'dashboard.css',
      title: 'Model Canary dashboard',
    });
    // The <meta> policy cannot say frame-ancestors; the header carries it.
    const csp = `${dashboardCsp(page)}; frame-ancestors 'none'`;
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      ...security,
    });
    res.end(html);
    return true;
  }
  const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!type) return false;
  try {
    const body = await readFile(join(assetDir, name));
    res.writeHead(200, { 'content-type': type, ...security });
    res.end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        error: `the dashboard asset ${name} is not deployed with this router (expected in ${assetDir})`,
      }),
    );
  }
  return true;
}
