/**
 * The dashboard in a real browser: serves dist/webview.js and media/dashboard.css over
 * loopback the way the router does (/dashboard/, strict CSP from dashboardHtml), with a fake
 * router API; loads it in headless Chromium (playwright-core) and
 *  - measures a state update with a 10k-point timeline (median of 20; target ≤ 16 ms),
 *  - saves screenshots under test-results/dashboard/ (browser light/dark, VS Code dark,
 *    light and high contrast, 800 px wide, and hostile variant names),
 *  - checks that hostile names render as text (no dialog, no injected element) and that the
 *    page runs without a single CSP violation.
 *
 *   node --import tsx bench/dashboard.ts            (rebuilds dist/webview.js when stale)
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { dashboardHtml } from '../webview/html';
import { fixtureHistory, fixtureReport } from './dashboardFixture';
import type { Report } from '../src/shared/report';

const ROOT = new URL('..', import.meta.url).pathname;
const OUT = join(ROOT, 'test-results', 'dashboard');
const BUNDLE = join(ROOT, 'dist', 'webview.js');
const CSS = join(ROOT, 'media', 'dashboard.css');
const XSS = '<img src=x onerror=alert(1)>';
const TARGET_MS = 16;
const POINTS = 10_000;

function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    t = Math.max(t, st.isDirectory() ? newest(p) : st.mtimeMs);
  }
  return t;
}

/** Same options as esbuild.mjs's webview bundle; only rebuilt when a source is newer. */
async function ensureBundle(): Promise<string> {
  const stale =
    !existsSync(BUNDLE) ||
    statSync(BUNDLE).mtimeMs < Math.max(newest(join(ROOT, 'webview')), newest(join(ROOT, 'src', 'shared')));
  if (stale)
    await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: { webview: 'webview/main.ts' },
      outdir: 'dist',
      bundle: true,
      platform: 'browser',
      target: 'es2022',
      format: 'iife',
      sourcemap: 'linked',
      minify: true,
      logLevel: 'warning',
    });
  return stale ? 'rebuilt' : 'up to date';
}

// ── the fake router ────────────────────────────────────────────────────────────────────

const TOKEN = 'bench-admin-token';
const now = Date.now();
const reports: Record<string, Report> = {
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
const models: Record<string, Record<string, string>> = {
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

/** A few of VS Code's theme variables (Dark Modern, Light Modern, Dark High Contrast). */
const THEMES: Record<string, Record<string, string>> = {
  'vscode-dark': {
    '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
    '--vscode-font-size': '13px',
    '--vscode-editor-background': '#1f1f1f',
    '--vscode-editor-foreground': '#cccccc',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-panel-border': '#2b2b2b',
    '--vscode-charts-foreground': '#cccccc',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-yellow': '#cca700',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-button-background': '#0078d4',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-secondaryBackground': '#313131',
    '--vscode-button-secondaryForeground': '#cccccc',
    '--vscode-input-background': '#313131',
    '--vscode-input-foreground': '#cccccc',
    '--vscode-inputValidation-warningBackground': '#352a05',
    '--vscode-inputValidation-errorBackground': '#5a1d1d',
    '--vscode-focusBorder': '#0078d4',
  },
  'vscode-light': {
    '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
    '--vscode-font-size': '13px',
    '--vscode-editor-background': '#ffffff',
    '--vscode-editor-foreground': '#3b3b3b',
    '--vscode-descriptionForeground': '#717171',
    '--vscode-panel-border': '#e5e5e5',
    '--vscode-charts-foreground': '#616161',
    '--vscode-charts-blue': '#1a85ff',
    '--vscode-charts-red': '#e51400',
    '--vscode-charts-green': '#388a34',
    '--vscode-charts-yellow': '#bf8803',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#652d90',
    '--vscode-button-background': '#005fb8',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-secondaryBackground': '#e5e5e5',
    '--vscode-button-secondaryForeground': '#3b3b3b',
    '--vscode-inputValidation-warningBackground': '#f6eec0',
    '--vscode-inputValidation-errorBackground': '#f2dede',
    '--vscode-focusBorder': '#005fb8',
  },
  'vscode-high-contrast': {
    '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
    '--vscode-font-size': '13px',
    '--vscode-editor-background': '#000000',
    '--vscode-editor-foreground': '#ffffff',
    '--vscode-descriptionForeground': '#ffffff',
    '--vscode-panel-border': '#6fc3df',
    '--vscode-contrastBorder': '#6fc3df',
    '--vscode-charts-foreground': '#ffffff',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-yellow': '#ffd700',
    '--vscode-charts-orange': '#f38518',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-button-background': '#000000',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-border': '#6fc3df',
    '--vscode-focusBorder': '#f38518',
  },
};

async function serve(): Promise<{ url: string; close: () => Promise<void>; puts: unknown[] }> {
  const bundle = readFileSync(BUNDLE);
  const css = readFileSync(CSS);
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

// ── the browser ────────────────────────────────────────────────────────────────────────

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface Watch {
  dialogs: string[];
  errors: string[];
}

async function open(
  browser: Browser,
  url: string,
  opts: { width?: number; scheme?: 'light' | 'dark' } = {},
): Promise<{ page: Page; watch: Watch }> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1440, height: 1000 },
    colorScheme: opts.scheme ?? 'dark',
    deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  const watch: Watch = { dialogs: [], errors: [] };
  page.on('dialog', (d) => {
    watch.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => watch.errors.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) watch.errors.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  page.on('console', (m) => {
    // Failed loads are reported with their URL by the response handler.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      watch.errors.push(`console: ${m.text()}`);
  });
  // Record CSP violations from the very start (init scripts run outside the page's CSP).
  await page.addInitScript(
    "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));",
  );
  await page.goto(url);
  return { page, watch };
}

async function cspViolations(page: Page): Promise<string[]> {
  return (await page.evaluate('window.__csp')) as string[];
}

async function shot(page: Page, name: string): Promise<string> {
  const file = join(OUT, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** In the page: dispatch 20 `state` messages with a 10k-point timeline, time each update. */
const TIMING = `(async ({ report, history, runs }) => {
  const state = (i) => {
    const points = report.timeline.points;
    const shift = i * 5;
    const last = points[points.length - 1].ts;
    // Slide the window: drop the oldest points, append new ones (what a live report does).
    const moved = points.slice(shift).concat(points.slice(0, shift).map((p, k) => ({ ...p, ts: last + (k + 1) * 1000 })));
    return {
      type: 'state', experiment: report.experiment, environment: 'local processes',
      // New counts every time, as in a live report: the table, legends and verdict redraw too.
      report: { ...report, generatedAt: new Date(Date.parse(report.generatedAt) + (i + 1) * 2000).toISOString(),
        variants: report.variants.map((v) => ({ ...v, requests: v.requests + i * 7, errors: v.errors + (i % 3) })),
        comparisons: report.comparisons.map((c) => ({ ...c, pValue: c.pValue * (1 + i / 100), reason: c.reason.replace(/^not enough evidence yet: [\\d,]+/, 'not enough evidence yet: ' + (8899 + i * 7).toLocaleString('en-US')) })),
        timeline: { ...report.timeline, points: moved } },
      routerUrl: 'http://127.0.0.1:8090', endpoint: 'propensity', models: { v1: 'propensity-v1', v2: 'propensity-v2' },
      ...(i === 0 ? { history } : {}),
    };
  };
  const messages = Array.from({ length: runs + 3 }, (_, i) => state(i));
  const total = [];
  const names = ['model-canary:charts', 'model-canary:series', 'model-canary:chart-update'];
  const parts = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < messages.length; i++) {
    performance.clearMeasures();
    const t0 = performance.now();
    window.dispatchEvent(new MessageEvent('message', { data: messages[i] }));
    const t1 = performance.now();
    if (i >= 3) {
      total.push(t1 - t0);
      for (const n of names) { const m = performance.getEntriesByName(n); parts[n].push(m.length ? m[m.length - 1].duration : NaN); }
    }
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  }
  return { total, parts };
})`;

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const build = await ensureBundle();
  const bundleKb = statSync(BUNDLE).size / 1024;
  const server = await serve();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS });
  const problems: string[] = [];
  const files: string[] = [];
  try {
    // 1. Timing, in the VS Code shape (postMessage → render), 10k points.
    {
      const { page, watch } = await open(browser, `${server.url}/bench/?theme=vscode-dark`);
      await page.waitForFunction('window.__posted && window.__posted.some((m) => m.type === "ready")');
      const report = reports.propensity!;
      const result = (await page.evaluate(
        `${TIMING}(${JSON.stringify({ report, history: fixtureHistory(report), runs: 20 })})`,
      )) as {
        total: number[];
        parts: Record<string, number[]>;
      };
      const total = median(result.total);
      const charts = median(result.parts['model-canary:charts'] ?? []);
      const shaping = median(result.parts['model-canary:series'] ?? []);
      const drawing = median(result.parts['model-canary:chart-update'] ?? []);
      console.log(`dashboard bundle      ${bundleKb.toFixed(0)} kB (${build})`);
      console.log(
        `chart update, ${POINTS.toLocaleString('en-US')} points   median ${charts.toFixed(1)} ms of 20 (target ≤ ${TARGET_MS} ms) ${charts <= TARGET_MS ? 'ok' : 'OVER'}`,
      );
      console.log(
        `  of which            shaping ${shaping.toFixed(1)} ms · Chart.js update ${drawing.toFixed(1)} ms`,
      );
      console.log(
        `whole state update    median ${total.toFixed(1)} ms of 20 (message → charts, table, heatmap, timeline; same target) ${total <= TARGET_MS ? 'ok' : 'OVER'}`,
      );
      await page.waitForTimeout(800); // the dashboard saves its state shortly after an update
      files.push(await shot(page, 'vscode-dark.png'));
      // Reload: the dashboard must come back from getState() before the host says anything.
      await page.reload();
      const restored = await page
        .waitForSelector('.mc-ab-table', { timeout: 3000 })
        .then(() => true)
        .catch(() => false);
      console.log(
        `state after a reload  ${restored ? 'restored from getState() before any message' : 'NOT restored'}`,
      );
      if (!restored) problems.push('the dashboard did not restore its state after a reload');
      problems.push(...watch.errors, ...(await cspViolations(page)).map((v) => `CSP violation: ${v}`));
      await page.context().close();
    }
    // 2. VS Code light and high contrast (same data, host-sent drift history).
    for (const theme of ['vscode-light', 'vscode-high-contrast']) {
      const { page, watch } = await open(browser, `${server.url}/bench/?theme=${theme}`);
      await page.waitForFunction('window.__posted && window.__posted.some((m) => m.type === "ready")');
      const report = reports.propensity!;
      await page.evaluate(
        `window.dispatchEvent(new MessageEvent('message', { data: ${JSON.stringify({
          type: 'state',
          experiment: 'propensity',
          environment: 'local processes',
          report,
          routerUrl: 'http://127.0.0.1:8090',
          endpoint: 'propensity',
          models: models.propensity,
          history: fixtureHistory(report),
        })} }))`,
      );
      await page.waitForTimeout(300);
      files.push(await shot(page, `${theme}.png`));
      problems.push(...watch.errors, ...(await cspViolations(page)).map((v) => `CSP violation: ${v}`));
      await page.context().close();
    }
    // 2b. Early: deployed, no traffic and no feedback yet — every panel says what is missing.
    {
      const { page, watch } = await open(browser, `${server.url}/bench/?theme=vscode-dark`);
      await page.waitForFunction('window.__posted && window.__posted.some((m) => m.type === "ready")');
      const base = reports.propensity!;
      const early: Report = {
        ...base,
        variants: base.variants.map((v) => ({
          ...v,
          weight: v.role === 'baseline' ? 95 : 5,
          requests: 0,
          errors: 0,
          errorRate: 0,
          observedShare: 0,
          latencyMs: { p50: NaN, p95: NaN, p99: NaN },
          feedback: {},
        })),
        comparisons: [],
        srm: { chi2: 0, pValue: 1, mismatch: false },
        drift: { ...base.drift!, features: [], prediction: [], datasetDrift: false },
        shadow: { variant: 'v3', requests: 0, agreement: 0 },
        timeline: { bucketMs: 1000, points: [], weights: [] },
      };
      await page.evaluate(
        `window.dispatchEvent(new MessageEvent('message', { data: ${JSON.stringify({
          type: 'state',
          experiment: 'propensity',
          environment: 'local processes',
          report: early,
          routerUrl: 'http://127.0.0.1:8090',
          endpoint: 'propensity',
        })} }))`,
      );
      await page.waitForTimeout(200);
      files.push(await shot(page, 'vscode-early.png'));
      problems.push(...watch.errors, ...(await cspViolations(page)).map((v) => `CSP violation: ${v}`));
      await page.context().close();
    }
    // 3. The browser page, served like the router serves it: polling, light and dark, 800 px.
    for (const [name, opts] of [
      ['standalone.png', { scheme: 'dark' as const }],
      ['standalone-light.png', { scheme: 'light' as const }],
      ['standalone-800.png', { scheme: 'light' as const, width: 800 }],
    ] as const) {
      const { page, watch } = await open(browser, `${server.url}/dashboard/?experiment=propensity`, opts);
      await page.waitForSelector('.mc-ab-table');
      await page.waitForTimeout(4500); // two more polls: the drift history has points to draw
      files.push(await shot(page, name));
      problems.push(...watch.errors, ...(await cspViolations(page)).map((v) => `CSP violation: ${v}`));
      if (name === 'standalone.png') {
        // Set the split from the page: token asked for, PUT sent with it.
        await page.getByText('Set split', { exact: true }).click();
        await page.locator('input[type=range]').first().fill('30');
        await page.getByText('Apply…', { exact: true }).click();
        await page.locator('vscode-textfield.mc-token input').fill(TOKEN);
        await page.waitForTimeout(100);
        await shot(page, 'standalone-confirm.png');
        await page.getByText('Confirm', { exact: true }).click();
        await page.waitForSelector('.mc-toast-ok');
        const put = server.puts.at(-1) as { weights?: Record<string, number> } | undefined;
        if (put?.weights?.v2 !== 30 || put.weights.v1 !== 70)
          problems.push(`Set split sent ${JSON.stringify(put)} instead of v1 70 / v2 30`);
        const stored = (await page.evaluate("sessionStorage.getItem('modelCanary.adminToken')")) as
          string | null;
        const inLocal = (await page.evaluate('JSON.stringify(localStorage)')) as string;
        if (stored !== TOKEN) problems.push('the admin token is not in sessionStorage');
        if (inLocal.includes(TOKEN)) problems.push('the admin token leaked into localStorage');
      }
      await page.context().close();
    }
    // 4. Hostile names: shown as text, nothing injected, no dialog.
    {
      const { page, watch } = await open(browser, `${server.url}/dashboard/?experiment=xss`, {
        scheme: 'dark',
      });
      await page.waitForSelector('.mc-ab-table');
      await page.waitForTimeout(2500);
      files.push(await shot(page, 'xss.png'));
      const text = (await page.evaluate('document.body.innerText')) as string;
      const injected = (await page.evaluate(
        "document.querySelectorAll('img, script:not([src]), #app svg[onload], [onerror]').length",
      )) as number;
      if (!text.includes(XSS)) problems.push('the hostile variant name is not shown literally');
      if (injected > 0) problems.push(`${injected} element(s) injected from data`);
      if (watch.dialogs.length) problems.push(`dialog fired: ${watch.dialogs.join(', ')}`);
      problems.push(...watch.errors, ...(await cspViolations(page)).map((v) => `CSP violation: ${v}`));
      console.log(
        `hostile names         shown as text: ${text.includes(XSS) ? 'yes' : 'NO'} · dialogs: ${watch.dialogs.length} · injected elements: ${injected}`,
      );
      await page.context().close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(`screenshots           ${files.map((f) => f.replace(ROOT, '')).join(', ')}`);
  if (problems.length) {
    console.log(`problems:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  } else console.log('CSP violations        0 · page errors 0');
}

await main();
