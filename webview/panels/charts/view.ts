/**
 * The three chart panels (traffic split, latency, error rate) on one time axis: their
 * canvases for Chart.js (webview/charts.ts), their legends, and the empty state that says
 * where traffic should come from.
 */
import type { Report } from '../../../src/shared/report';
import type { DashboardCharts, Guardrails } from '../../charts';
import { h } from '../../dom';
import { duration, num } from '../../../src/shared/format';
import { chartSeries, timelineFromSnapshots, type Snapshot } from '../../series';
import { currentWeights, type ColourKey } from '../../variants';
import type { SlotRenderer } from '../shared/slotRenderer';
import { trafficHint, type RouterAddress } from '../shared/trafficHints';
import { chartLegends } from './legends';

export type ChartKind = 'traffic' | 'latency' | 'errors';

interface ChartPanel {
  root: HTMLElement;
  legend: HTMLElement;
  box: HTMLElement;
  empty: HTMLElement;
}

function chartPanel(title: string, kind: ChartKind): ChartPanel {
  const legend = h('div', { class: 'mc-legend-slot' });
  const canvas = h('canvas', { role: 'img', 'aria-label': title });
  const box = h('div', { class: 'mc-chart-box' }, canvas);
  const empty = h('p', { class: 'mc-empty', hidden: true });
  const root = h(
    'section',
    { class: `mc-panel mc-chart mc-chart-${kind}`, 'aria-label': title },
    h('h2', {}, title),
    legend,
    box,
    empty,
  );
  return { root, legend, box, empty };
}

export class ChartPanels {
  private readonly panels: Record<ChartKind, ChartPanel> = {
    traffic: chartPanel('Traffic split', 'traffic'),
    latency: chartPanel('Latency', 'latency'),
    errors: chartPanel('Error rate', 'errors'),
  };

  constructor(private readonly slots: SlotRenderer) {}

  /** The panels in the order of the grid: traffic, latency, errors. */
  get roots(): HTMLElement[] {
    return [this.panels.traffic.root, this.panels.latency.root, this.panels.errors.root];
  }

  /** The canvases Chart.js draws on (create the charts once the panels are in the document). */
  canvases(): Record<ChartKind, HTMLCanvasElement> {
    const canvas = (k: ChartKind): HTMLCanvasElement => this.panels[k].box.querySelector('canvas')!;
    return { traffic: canvas('traffic'), latency: canvas('latency'), errors: canvas('errors') };
  }

  /** Hides the charts and says why instead. */
  showEmpty(text: string): void {
    for (const p of Object.values(this.panels)) {
      p.box.hidden = true;
      p.empty.hidden = false;
      p.empty.textContent = text;
      this.slots.fill(p.legend, null, () => []);
    }
  }

  render(
    charts: DashboardCharts,
    report: Report,
    snapshots: readonly Snapshot[],
    colours: Map<string, ColourKey>,
    order: string[],
    ctx: RouterAddress,
  ): void {
    const timeline = report.timeline ?? timelineFromSnapshots(snapshots);
    const hasTraffic = timeline.points.some((p) =>
      Object.values(p.variants).some((v) => num(v.requests) > 0),
    );
    if (!hasTraffic) {
      const served = report.variants.some((v) => num(v.requests) > 0);
      const text = !served
        ? `no traffic yet — ${trafficHint(report.experiment, ctx)}`
        : timeline.points.length > 0
          ? `no traffic in the last ${duration(timeline.points.length * timeline.bucketMs)} — ${trafficHint(report.experiment, ctx)}`
          : 'the charts fill in from the next reports (one point per refresh)';
      this.showEmpty(text);
      return;
    }
    for (const p of Object.values(this.panels)) {
      p.box.hidden = false;
      p.empty.hidden = true;
    }
    const guardrails: Guardrails = {};
    for (const g of report.guardrails) {
      if (g.name === 'latencyP95Ms' && Number.isFinite(num(g.limit))) guardrails.latencyP95Ms = g.limit;
      if (g.name === 'errorRate' && Number.isFinite(num(g.limit))) guardrails.errorRate = g.limit;
    }
    const t0 = performance.now();
    const series = chartSeries(timeline, order, currentWeights(report));
    const t1 = performance.now();
    charts.update(series, colours, guardrails);
    performance.measure('model-canary:series', { start: t0, end: t1 });
    performance.measure('model-canary:chart-update', { start: t1, end: performance.now() });

    const legends = chartLegends(report, colours, order, guardrails);
    const legendKey = [order, [...colours], guardrails, report.variants];
    this.slots.fill(this.panels.traffic.legend, legendKey, () => [legends.traffic()]);
    this.slots.fill(this.panels.latency.legend, legendKey, () => [legends.latency()]);
    this.slots.fill(this.panels.errors.legend, legendKey, () => [legends.errors()]);
  }
}
