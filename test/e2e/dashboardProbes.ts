// Reads the dashboard webview: what its charts paint, the rows of its A/B table, the traffic
// legend's observed shares.
import type { Frame } from 'playwright-core';

/** What the dashboard's charts show, read in the webview frame. */
export interface ChartProbe {
  kind: string;
  hidden: boolean;
  width: number;
  height: number;
  /** Pixels with any paint. */
  painted: number;
  /** Opaque pixels in each variant's colour (from its legend chip, in legend order): the data lines. */
  series: number[];
  /** Longest horizontal run of pixels in each variant's colour: a line, not the glyphs of a label. */
  runs: number[];
  legend: string[];
}

export async function probeCharts(frame: Frame): Promise<ChartProbe[]> {
  // Evaluated on <body>: this project's tsconfig has no DOM lib, so the page is reached through it.
  // No named helper functions inside: tsx (esbuild keepNames) would wrap them in a __name() the
  // page does not have.
  return frame.$eval('body', (body) => {
    const doc = body.ownerDocument;
    const view = doc.defaultView!;
    return [...doc.querySelectorAll('section.mc-chart')].map((section) => {
      const kind = [...section.classList].find((c) => /^mc-chart-/.test(c))?.slice(9) ?? '?';
      const box = section.querySelector('.mc-chart-box') as { hidden: boolean } | null;
      const canvas = section.querySelector('canvas');
      const legend = [...section.querySelectorAll('.mc-legend-item .mc-variant-name')].map(
        (e) => e.textContent ?? '',
      );
      const colours = [...section.querySelectorAll('.mc-legend-item .mc-chip')]
        .map((c) =>
          /rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)/.exec(view.getComputedStyle(c).backgroundColor),
        )
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [Number(m[1]), Number(m[2]), Number(m[3])]);
      const probe = {
        kind,
        hidden: !box || box.hidden,
        width: canvas?.width ?? 0,
        height: canvas?.height ?? 0,
        painted: 0,
        series: colours.map(() => 0),
        runs: colours.map(() => 0),
        legend,
      };
      const ctx = canvas && canvas.width > 0 && canvas.height > 0 ? canvas.getContext('2d') : null;
      if (!ctx || !canvas) return probe;
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const run = colours.map(() => 0);
      for (let i = 0; i < data.length; i += 4) {
        if ((i / 4) % canvas.width === 0) run.fill(0);
        const a = data[i + 3] ?? 0;
        if (a > 0) probe.painted++;
        const r = data[i] ?? 0;
        const g = data[i + 1] ?? 0;
        const b = data[i + 2] ?? 0;
        colours.forEach((c, k) => {
          if (a >= 200 && Math.abs(c[0]! - r) + Math.abs(c[1]! - g) + Math.abs(c[2]! - b) < 60) {
            probe.series[k]!++;
            run[k]!++;
            probe.runs[k] = Math.max(probe.runs[k]!, run[k]!);
          } else run[k] = 0;
        });
      }
      return probe;
    });
  });
}

/** The chart probes as a log line: pixels in v1/v2 colours per chart (longest runs). */
export function chartPixels(charts: ChartProbe[]): string {
  return charts.map((c) => `${c.kind} ${c.series.join('/')} (${c.runs.join('/')})`).join(', ');
}

/** One row of the A/B table. */
export interface AbRow {
  variant: string;
  requests: number;
  /** Of the requests, those over gRPC (0 when the table shows none). */
  grpc: number;
  model: string;
}

export async function abRows(frame: Frame): Promise<AbRow[]> {
  return frame.$$eval('.mc-ab-table tbody tr', (rows) =>
    rows.map((tr) => ({
      variant: (tr.querySelector('.mc-variant-name')?.textContent ?? '').trim(),
      // The cell's own text; a line under it says HTTP n · gRPC m once requests came over gRPC.
      requests: Number(
        (tr.querySelectorAll('td')[1]?.firstChild?.textContent ?? '').replace(/[^\d]/g, '') || NaN,
      ),
      grpc: Number(
        (/gRPC ([\d,]+)/.exec(tr.querySelectorAll('td')[1]?.textContent ?? '')?.[1] ?? '0').replace(/,/g, ''),
      ),
      model: (tr.querySelector('.mc-model')?.textContent ?? '').trim(),
    })),
  );
}

/** v2's observed share from the traffic legend's tooltip ("v2: observed share 0.0512 of the requests; …"). */
export async function legendShare(frame: Frame, variant: string): Promise<number | undefined> {
  const titles = await frame.$$eval('.mc-chart-traffic .mc-legend-item', (items) =>
    items.map((i) => i.getAttribute('title') ?? ''),
  );
  const title = titles.find((t) => t.startsWith(`${variant}:`));
  const m = title ? /observed share ([\d.eE-]+)/.exec(title) : null;
  return m ? Number(m[1]) : undefined;
}
