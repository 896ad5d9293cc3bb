// The steps localLoop.e2e.ts takes again and again in the workbench (simulate, read the
// Experiments view, wait for the charts, screenshots), and the experiment whose free text carries
// markup.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { probeCharts, type ChartProbe } from './dashboardProbes';
import { sleep, waitFor, type Workbench } from './workbench';

/** Requests per variant from "simulated 1000 requests (v2 59, v1 941), 0 errors, …". */
export function simulatedCounts(message: string): Record<string, number> {
  const list = /simulated \d+ requests \(([^)]*)\)/.exec(message)?.[1] ?? '';
  return Object.fromEntries([...list.matchAll(/([a-z0-9-]+) (\d+)/g)].map((m) => [m[1] ?? '', Number(m[2])]));
}

/** The workbench steps of the local loop on `experiment`; `timings` collects what `timed` measured. */
export function localLoopSteps(workbench: () => Workbench, experiment: string, timings: string[]) {
  async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      timings.push(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  }

  /**
   * Waits until the three charts are visible, painted (axes, grid, guardrails) and titled v1, v2,
   * with data drawn: `lines: 'traffic'` asks for v2's area in the traffic chart; `'all'` also for
   * v2's latency line and an error-rate line (v1's covers v2's when both are at 0%). The latency
   * and error-rate lines need two timeline buckets (10 s each): a first simulation can fit in one.
   * v2's colour is what is looked for: v1's neutral grey is also the axis labels' colour.
   */
  async function chartsDrawn(lines: 'traffic' | 'all', timeoutMs = 60_000): Promise<ChartProbe[]> {
    let last: ChartProbe[] = [];
    try {
      return await waitFor(
        async () => {
          last = await probeCharts(await workbench().dashboardFrame(experiment));
          const data = (c: ChartProbe): boolean =>
            c.kind === 'traffic'
              ? (c.series[1] ?? 0) >= 50
              : lines === 'traffic' ||
                (c.kind === 'errors' ? Math.max(...c.runs) >= 40 : (c.series[1] ?? 0) >= 50);
          const ok =
            last.length === 3 &&
            last.every(
              (c) =>
                !c.hidden &&
                c.width > 0 &&
                c.height > 0 &&
                c.painted > 500 &&
                c.legend.join() === 'v1,v2' &&
                data(c),
            );
          return ok ? last : undefined;
        },
        `the charts were not drawn (${lines})`,
        timeoutMs,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(last)}`);
    }
  }

  async function simulate(
    requests: '1000' | '3000' | '10000',
    protocol: 'HTTP' | 'gRPC' = 'HTTP',
  ): Promise<string> {
    const w = workbench();
    await w.clearNotifications();
    // The local environment's router has a gRPC port: the protocol is asked.
    await w.runCommandWithPicks('Model Canary: Simulate Traffic', [
      [requests, 'the request-count pick did not offer ' + requests],
      ['No drift', 'the drift pick did not offer "No drift"'],
      [protocol, `the protocol pick did not offer ${protocol}`],
    ]);
    return workbench().waitForOutcome(
      new RegExp(`simulated ${requests} requests`),
      'Simulate Traffic',
      120_000,
    );
  }

  /** v2's share of the requests from the Experiments tree ("propensity-v2 · weight 5 · observed 4.9% · …"). */
  async function treeShare(variant: string): Promise<{ weight: number; observed: number } | undefined> {
    const text = await workbench().treeItemDescription('Experiments', new RegExp(`^\\s*${variant} \\(`));
    const m = /weight ([\d.]+) · observed ([\d.]+)%/.exec(text);
    return m ? { weight: Number(m[1]), observed: Number(m[2]) / 100 } : undefined;
  }

  /** A screenshot without notification toasts (alerts such as a guardrail breach pop up at any time). */
  async function shot(name: string): Promise<string> {
    const w = workbench();
    await w.clearNotifications();
    return w.screenshot(name);
  }

  /** Screenshot of a dashboard: side bar hidden, a taller window, charts redrawn at that size. */
  async function dashboardScreenshot(
    name: string,
    lines: 'traffic' | 'all' | 'no charts',
    dashboard = experiment,
  ): Promise<string> {
    const w = workbench();
    const viewport = w.page.viewportSize() ?? { width: 1440, height: 900 };
    await w.setSideBarVisible(false);
    await w.page.setViewportSize({ width: 1440, height: 1240 });
    try {
      const frame = await workbench().dashboardFrame(dashboard);
      await frame.$eval('body', (body) => body.ownerDocument.defaultView?.scrollTo(0, 0));
      if (lines !== 'no charts') await chartsDrawn(lines, 30_000);
      // Let the next report arrive and be drawn at this size: a steady state, not the frame right
      // after the resize (see the report: one chart update after a theme change loses the axes).
      const generatedAt = (): Promise<string | null> =>
        frame.$eval('[data-age]', (e) => e.getAttribute('title')).catch(() => null);
      const seen = await generatedAt();
      await waitFor(
        async () => ((await generatedAt()) !== seen ? true : undefined),
        'no new report reached the dashboard',
        20_000,
      );
      await sleep(500);
      return await shot(name);
    } finally {
      await w.page.setViewportSize(viewport);
      await w.setSideBarVisible(true);
    }
  }

  /**
   * The models view for the README: the container with its three views and, in a window wide
   * enough for its three-column layout, the dashboard beside it.
   */
  async function modelsViewScreenshot(): Promise<string> {
    const w = workbench();
    const viewport = w.page.viewportSize() ?? { width: 1440, height: 900 };
    await w.page.setViewportSize({ width: 1680, height: 1000 });
    try {
      await w.findTreeItem('Models', 'propensity-v1');
      await chartsDrawn('all');
      await sleep(300);
      return await shot('16-models-view-dark');
    } finally {
      await w.page.setViewportSize(viewport);
    }
  }

  /**
   * Clicks the current run under Experiments › Runs and returns the text of the report it opens in
   * an editor (closed again, unsaved, afterwards).
   */
  async function currentRunReport(): Promise<string> {
    const w = workbench();
    await (await w.findTreeItem('Experiments', /\(current\)$/, 60_000)).click();
    const editor = w.page.locator('.editor-instance .view-lines').first();
    const text = await waitFor(
      async () => {
        const t = ((await editor.textContent().catch(() => '')) ?? '').replace(/\u00a0/g, ' ');
        return t.includes(`Experiment ${experiment} — run`) ? t : undefined;
      },
      'clicking the current run opened no report',
      30_000,
    );
    await w.runCommand('View: Revert and Close Editor');
    return text;
  }

  return {
    timed,
    chartsDrawn,
    simulate,
    treeShare,
    shot,
    dashboardScreenshot,
    modelsViewScreenshot,
    currentRunReport,
  };
}

/** A second experiment, deployed at the end, whose free-text fields carry markup. */
export const PROBE = 'xss-probe';
/** The primary metric's name is free text (any string up to 100 characters): "A/B on <metric>". */
export const XSS_METRIC = `<img src=x onerror=alert('xss-metric')>`;
/** So is the drift reference path: "reference <path>" in the drift panel. */
export const XSS_REFERENCE = `../data/<img src=x onerror=alert('xss-reference')>.csv`;

/** Writes experiments/PROBE.yaml: a copy of `experiment` with the markup in its metric name and drift reference. */
export function writeMarkupProbe(folder: string, experiment: string): void {
  const data = path.join(folder, 'data');
  fs.copyFileSync(path.join(data, 'reference.csv'), path.resolve(folder, 'experiments', XSS_REFERENCE));
  const spec = fs
    .readFileSync(path.join(folder, 'experiments', `${experiment}.yaml`), 'utf8')
    .replace(/name: propensity$/m, `name: ${PROBE}`)
    .replace(/endpoint: propensity$/m, `endpoint: ${PROBE}`)
    .replace(/primary: \{ name: conversion,/, `primary: { name: "${XSS_METRIC}",`)
    .replace(/reference: \.\.\/data\/reference\.csv$/m, `reference: "${XSS_REFERENCE}"`);
  assert.ok(spec.includes(XSS_METRIC) && spec.includes(XSS_REFERENCE) && spec.includes(`name: ${PROBE}`));
  fs.writeFileSync(path.join(folder, 'experiments', `${PROBE}.yaml`), spec);
}
