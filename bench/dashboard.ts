/**
 * The dashboard in a real browser: serves dist/webview.js and dist/dashboard.css over
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
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { FLAGS, TIMING, cspViolations, median, open, shot } from './dashboardBrowser';
import { fixtureHistory } from './dashboardFixture';
import { POINTS, TOKEN, XSS, models, reports, serve } from './dashboardRouter';
import type { Report } from '../src/shared/report';

const ROOT = new URL('..', import.meta.url).pathname;
const OUT = join(ROOT, 'test-results', 'dashboard');
const BUNDLE = join(ROOT, 'dist', 'webview.js');
const CSS = join(ROOT, 'dist', 'dashboard.css');
const TARGET_MS = 16;

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

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const build = await ensureBundle();
  const bundleKb = statSync(BUNDLE).size / 1024;
  const server = await serve({ bundle: BUNDLE, css: CSS });
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
      files.push(await shot(page, OUT, 'vscode-dark.png'));
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
      files.push(await shot(page, OUT, `${theme}.png`));
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
      files.push(await shot(page, OUT, 'vscode-early.png'));
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
      files.push(await shot(page, OUT, name));
      problems.push(...watch.errors, ...(await cspViolations(page)).map((v) => `CSP violation: ${v}`));
      if (name === 'standalone.png') {
        // Set the split from the page: token asked for, PUT sent with it.
        await page.getByText('Set split', { exact: true }).click();
        await page.locator('input[type=range]').first().fill('30');
        await page.getByText('Apply…', { exact: true }).click();
        await page.locator('vscode-textfield.mc-token input').fill(TOKEN);
        await page.waitForTimeout(100);
        await shot(page, OUT, 'standalone-confirm.png');
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
      files.push(await shot(page, OUT, 'xss.png'));
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
