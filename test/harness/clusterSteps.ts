/**
 * Steps of the cluster tier that talk to the cluster as a user does: V2 requests through the
 * router's port on 127.0.0.1, `model-canary simulate`, and the browser dashboard in Chromium.
 */
import { chromium } from 'playwright-core';
import type { Report } from '../../src/shared/report';
import { REQUEST_ID_HEADER, VARIANT_HEADER } from '../../src/shared/routerApi';
import { probeCharts, type ChartProbe } from '../e2e/dashboardProbes';
import type { ClusterCli } from './clusterCli';
import { namedInputsRequest, trafficRows } from './routerClient';

export interface InferReply {
  status: number;
  variant: string;
  requestId: string;
  outputs: number;
}

/** One V2 inference of the sample experiment's endpoint through the router on 127.0.0.1:port. */
export async function inferThroughRouter(port: number, forceVariant?: string): Promise<InferReply> {
  const row = trafficRows()[0]!;
  const res = await fetch(`http://127.0.0.1:${port}/v2/models/propensity/infer`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-user-id': row.user_id,
      ...(forceVariant ? { [VARIANT_HEADER]: forceVariant } : {}),
    },
    body: JSON.stringify(namedInputsRequest(row.features)),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json().catch(() => ({}))) as { outputs?: unknown[] };
  return {
    status: res.status,
    variant: res.headers.get(VARIANT_HEADER) ?? '',
    requestId: res.headers.get(REQUEST_ID_HEADER) ?? '',
    outputs: body.outputs?.length ?? 0,
  };
}

/** `model-canary simulate propensity` against the cluster's environment; with `allowErrors` a failing request does not fail it. */
export async function simulate(
  cli: ClusterCli,
  envArgs: string[],
  requests: number,
  extra: string[],
  allowErrors = false,
): Promise<void> {
  await cli.run(
    ['simulate', 'propensity', '--requests', String(requests), '--rps', '150', ...extra, ...envArgs],
    {
      expectFail: allowErrors,
    },
  );
}

export function shareOf(report: Report, variant: string): number {
  const total = report.variants.reduce((n, v) => n + v.requests, 0);
  return (report.variants.find((v) => v.name === variant)?.requests ?? 0) / Math.max(1, total);
}

/** Opens the browser dashboard in Chromium and waits until its charts have painted; their probes. */
export async function dashboardShowsData(url: string): Promise<ChartProbe[]> {
  const browser = await chromium.launch({
    executablePath: process.env.MODEL_CANARY_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(url, { waitUntil: 'load' });
    const deadline = Date.now() + 60_000;
    let charts: ChartProbe[] = [];
    while (Date.now() < deadline) {
      charts = await probeCharts(page.mainFrame());
      if (charts.length > 0 && charts.every((c) => !c.hidden && c.series.some((n) => n > 0))) break;
      await page.waitForTimeout(1000);
    }
    if (failed.length) throw new Error(`the dashboard failed to load: ${failed.join(', ')}`);
    return charts;
  } finally {
    await browser.close();
  }
}
