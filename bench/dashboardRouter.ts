/**
 * The fake router bench/dashboard.ts loads the dashboard from: /dashboard/ with the strict
 * CSP of dashboardHtml, a stand-in VS Code page at /bench/ (acquireVsCodeApi and a theme's
 * variables), and the router API (experiments, reports whose p-values wander a little, and
 * weight changes behind the admin token).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dashboardHtml } from '../src/shared/dashboardHtml';
import { fixtureReport } from './dashboardFixture';
import { THEMES } from './dashboardThemes';
import type { Report } from '../src/shared/report';

/** A variant name that would run script if it were ever treated as HTML. */
export const XSS = '<img src=x onerror=alert(1)>';
/** Timeline points of the propensity experiment's report. */
export const POINTS = 10_000;
export const TOKEN = 'bench-admin-token';
const now = Date.now();
/** The experiments on offer: propensity with a long timeline, and xss with hostile names. */
export const reports: Record<string, Report> = {
  propensity: fixtureReport({ points: POINTS, now }),
  xss: {
    ...fixtureReport({
      points: 600,
      now,
      candidate: XSS,
      shadow: '"><svg onload=alert(2)>',
      features: ['<b>tenure</b>', 'age', "x');alert(3);//"],
      srmMismatch: true,
    }),
    experiment: 'xss',
  },
};
/** The model behind each variant, as the experiment list reports it. */
export const models: Record<string, Record<string, string>> = {
  propensity: { v1: 'propensity-v1', v2: 'propensity-v2' },
  xss: { v1: 'propensity-v1', [XSS]: `<script>alert(4)</script>` },
};
let polls = 0;

/** The report as the router would serve it at this moment (p-values wander a little). */
function served(name: string): Report {
  const r = reports[name]!;
  polls++;
  const jitter = (p: number, i: number): number =>
    Math.min(0.99, Math.max(1e-5, p * (1 + 0.25 * Math.sin(polls + i))));
  return {
    ...r,
    generatedAt: new Date().toISOString(),
    drift: r.drift && {
      ...r.drift,
      features: r.drift.features.map((f, i) => ({ ...f, pValue: jitter(f.pValue, i) })),
    },
  };
}

function vscodePage(nonce: string, theme: string): string {
  const html = dashboardHtml({
    scriptUri: '/dashboard/webview.js',
    styleUri: '/dashboard/dashboard.css',
    nonce,
    cspSource: "'self'",
    mode: 'vscode',
  });
  // Stands in for VS Code: acquireVsCodeApi, the theme's variables on <html>, the body class.
  const stub = `<script nonce="${nonce}">
    window.__posted = [];
    window.__theme = ${JSON.stringify(theme)};
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => window.__posted.push(m),
      // Like VS Code's, the state outlives a reload of the webview (here: localStorage).
      getState: () => JSON.parse(localStorage.getItem('bench-vscode-state') || 'null') ?? undefined,
      setState: (s) => (localStorage.setItem('bench-vscode-state', JSON.stringify(s)), s),
    });
    for (const [k, v] of Object.entries(${JSON.stringify(THEMES[theme] ?? {})})) document.documentElement.style.setProperty(k, v);
    document.body.className = ${JSON.stringify(theme)};
  </script>
    `;
  return html.replace(/(<script nonce=)/, `${stub}$1`);
}

/** Serves the dashboard's bundle and stylesheet, and the fake API, on a free loopback port. */
export async function serve(files: {
  bundle: string;
  css: string;
}): Promise<{ url: string; close: () => Promise<void>; puts: unknown[] }> {
  const bundle = readFileSync(files.bundle);
  const css = readFileSync(files.css);
  const puts: unknown[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const send = (status: number, type: string, body: string | Buffer): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const json = (status: number, body: unknown): void =>
      send(status, 'application/json', JSON.stringify(body));
    if (path === '/dashboard/')
      return send(
        200,
        'text/html; charset=utf-8',
        dashboardHtml({
          scriptUri: 'webview.js',
          styleUri: 'dashboard.css',
          nonce: randomBytes(16).toString('base64'),
          cspSource: "'self'",
          mode: 'browser',
        }),
      );
    if (path === '/dashboard/webview.js') return send(200, 'text/javascript', bundle);
    if (path === '/dashboard/dashboard.css') return send(200, 'text/css', css);
    if (path === '/bench/')
      return send(
        200,
        'text/html; charset=utf-8',
        vscodePage(randomBytes(16).toString('base64'), url.searchParams.get('theme') ?? 'vscode-dark'),
      );
    if (path === '/api/v1/experiments')
      return json(200, {
        experiments: Object.keys(reports).map((name) => ({
          name,
          endpoint: name,
          variants: reports[name]!.variants.map((v) => ({
            name: v.name,
            role: v.role,
            model: models[name]?.[v.name],
          })),
        })),
      });
    const m = /^\/api\/v1\/experiments\/([^/]+)\/(report|weights)$/.exec(path);
    if (m) {
      const name = decodeURIComponent(m[1]!);
      if (!reports[name]) return json(404, { error: `unknown experiment "${name}"` });
      if (m[2] === 'report') return json(200, served(name));
      if (req.method === 'PUT') {
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(401, { error: 'wrong admin token' });
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          puts.push(JSON.parse(body));
          json(200, { experiment: name, weights: (JSON.parse(body) as { weights: unknown }).weights });
        });
        return;
      }
    }
    json(404, { error: `no route for ${req.method} ${path}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    puts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
