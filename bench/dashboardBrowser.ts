/**
 * Headless Chromium for bench/dashboard.ts: a page opened with watchers for dialogs, page
 * errors, failed responses and CSP violations; full-page screenshots; and the in-page script
 * that times `state` updates.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

export const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Watch {
  dialogs: string[];
  errors: string[];
}

export async function open(
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

export async function cspViolations(page: Page): Promise<string[]> {
  return (await page.evaluate('window.__csp')) as string[];
}

/** A full-page screenshot as `dir/name`; returns the file. */
export async function shot(page: Page, dir: string, name: string): Promise<string> {
  const file = join(dir, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** In the page: dispatch 20 `state` messages with a 10k-point timeline, time each update. */
export const TIMING = `(async ({ report, history, runs }) => {
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
