/**
 * The three small charts (traffic split, latency, error rate) on one time axis, with the
 * thresholds the decision uses drawn where their metric is drawn, and the weight changes as
 * vertical markers. Chart.js is tree-shaken: only what is registered here is bundled.
 * No animation (data streams in), `parsing: false` with {x, y} points, and the decimation
 * plugin (LTTB) for long latency series.
 */
import {
  Chart,
  Decimation,
  Filler,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import type { ChartDataset, ChartOptions, Plugin, TooltipItem } from 'chart.js';
import { withAlpha } from './colour';
import { clock, ms as fmtMs } from '../src/shared/format';
import { pointRadius, type ChartSeries, type XY } from './series';
import type { ColourKey } from './variants';
import type { Theme } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Decimation, Tooltip);
Chart.defaults.animation = false;

type LineDataset = ChartDataset<'line', XY[]>;

/** What the overlay plugin draws: vertical markers and labelled horizontal thresholds. */
interface Marks {
  x: number[];
  thresholds: { y: number; label: string }[];
  colours: { marker: string; threshold: string; text: string; font: string; background: string };
}

function marksPlugin(marks: Marks): Plugin<'line'> {
  return {
    id: 'modelCanaryMarks',
    afterDatasetsDraw(chart) {
      const { ctx, chartArea: area, scales } = chart;
      const x = scales.x;
      const y = scales.y;
      if (!x || !y) return;
      ctx.save();
      ctx.lineWidth = 1;
      ctx.strokeStyle = marks.colours.marker;
      ctx.setLineDash([2, 3]);
      for (const t of marks.x) {
        const px = x.getPixelForValue(t);
        if (px < area.left || px > area.right) continue;
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
      }
      ctx.strokeStyle = marks.colours.threshold;
      ctx.fillStyle = marks.colours.threshold;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([6, 4]);
      ctx.font = `10px ${marks.colours.font}`;
      ctx.textAlign = 'right';
      ctx.textBaseline = 'bottom';
      for (const t of marks.thresholds) {
        const py = y.getPixelForValue(t.y);
        if (py < area.top - 1 || py > area.bottom + 1) continue;
        ctx.beginPath();
        ctx.moveTo(area.left, py);
        ctx.lineTo(area.right, py);
        ctx.stroke();
        // The label on a background patch, so data under it does not scribble over it.
        const w = ctx.measureText(t.label).width;
        ctx.fillStyle = marks.colours.background;
        ctx.fillRect(area.right - w - 5, py - 13, w + 4, 11);
        ctx.fillStyle = marks.colours.threshold;
        ctx.fillText(t.label, area.right - 3, py - 2);
      }
      ctx.restore();
    },
  };
}

export interface Guardrails {
  latencyP95Ms?: number;
  errorRate?: number;
}

type Kind = 'traffic' | 'latency' | 'errors';

function timeTick(span: number): (value: number | string) => string {
  return (value) => clock(Number(value), span < 30 * 60_000);
}

/** Axis ticks: round numbers without trailing zeros ("50 ms", "2.5%"). */
function tickY(kind: Kind, y: number): string {
  const n = Number(y.toPrecision(3));
  return kind === 'latency' ? `${n} ms` : `${n}%`;
}

function formatY(kind: Kind, y: number): string {
  if (kind === 'latency') return fmtMs(y);
  if (kind === 'traffic') return `${Number(y.toFixed(1))}%`;
  return `${Number(y.toPrecision(3))}%`;
}

export class DashboardCharts {
  private readonly charts: Record<Kind, Chart<'line', XY[]>>;
  private readonly marks: Record<Kind, Marks>;
  private structure = '';
  private last: Parameters<DashboardCharts['update']> | undefined;

  constructor(
    canvases: Record<Kind, HTMLCanvasElement>,
    private theme: Theme,
  ) {
    const marks = (): Marks => ({ x: [], thresholds: [], colours: this.markColours() });
    this.marks = { traffic: marks(), latency: marks(), errors: marks() };
    this.charts = {
      traffic: this.create(canvases.traffic, 'traffic'),
      latency: this.create(canvases.latency, 'latency'),
      errors: this.create(canvases.errors, 'errors'),
    };
  }

  private markColours(): Marks['colours'] {
    return {
      marker: this.theme.muted,
      threshold: this.theme.red,
      text: this.theme.fg,
      font: this.theme.font,
      background: withAlpha(this.theme.bg, 0.85),
    };
  }

  private options(kind: Kind): ChartOptions<'line'> {
    const t = this.theme;
    const tick = { color: t.muted, font: { family: t.font, size: 10 } };
    return {
      animation: false,
      parsing: false,
      normalized: true,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      elements: { point: { radius: 0, hoverRadius: 3 }, line: { tension: 0 } },
      plugins: {
        // LTTB down to a few hundred points per line: keeps the shape and the spikes, and keeps
        // a 10k-point update well inside a frame (min-max keeps ~4 points per pixel column).
        decimation: { enabled: true, algorithm: 'lttb', samples: 300, threshold: 600 },
        tooltip: {
          enabled: true,
          backgroundColor: t.bg,
          titleColor: t.fg,
          bodyColor: t.fg,
          borderColor: t.muted,
          borderWidth: 1,
          titleFont: { family: t.font },
          bodyFont: { family: t.font },
          filter: (item: TooltipItem<'line'>) => Number.isFinite(item.parsed.y),
          callbacks: {
            title: (items: TooltipItem<'line'>[]) => clock(items[0]?.parsed.x),
            label: (item: TooltipItem<'line'>) =>
              `${item.dataset.label ?? ''}: ${formatY(kind, item.parsed.y ?? NaN)}`,
          },
        },
      },
      scales: {
        x: {
          type: 'linear',
          ticks: { ...tick, maxTicksLimit: 5, maxRotation: 0, callback: timeTick(0) },
          grid: { color: t.grid },
          border: { color: t.grid },
        },
        y: {
          type: 'linear',
          stacked: kind === 'traffic',
          beginAtZero: true,
          ...(kind === 'traffic' ? { min: 0, max: 100 } : {}),
          ticks: { ...tick, maxTicksLimit: 5, callback: (v) => tickY(kind, Number(v)) },
          grid: { color: t.grid },
          border: { color: t.grid },
        },
      },
    };
  }

  private create(canvas: HTMLCanvasElement, kind: Kind): Chart<'line', XY[]> {
    return new Chart<'line', XY[]>(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: this.options(kind),
      plugins: [marksPlugin(this.marks[kind])],
    });
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.structure = '';
    for (const kind of ['traffic', 'latency', 'errors'] as const) {
      this.charts[kind].options = this.options(kind);
      this.marks[kind].colours = this.markColours();
    }
    // New options drop the time range and the guardrail headroom: put them back right away.
    if (this.last) this.update(...this.last);
  }

  private colour(colours: Map<string, ColourKey>, variant: string): string {
    return this.theme.colours[colours.get(variant) ?? 'neutral'];
  }

  /**
   * Redraws all three charts. Datasets are rebuilt only when the variants or the theme
   * changed; otherwise only their data arrays are swapped (cheap on a 10k-point stream).
   */
  update(series: ChartSeries, colours: Map<string, ColourKey>, guardrails: Guardrails): void {
    this.last = [series, colours, guardrails];
    const variants = series.traffic.map((t) => t.variant);
    const structure = JSON.stringify([variants, [...colours], this.theme.highContrast]);
    if (structure !== this.structure) {
      this.rebuild(series, colours);
      this.structure = structure;
    } else {
      this.swapData(series);
    }
    const span = series.xMax - series.xMin;
    for (const kind of ['traffic', 'latency', 'errors'] as const) {
      const chart = this.charts[kind];
      const x = chart.options.scales?.x;
      if (x && x.type === 'linear') {
        x.min = series.xMin;
        x.max = series.xMax;
        if (x.ticks) x.ticks.callback = timeTick(span);
      }
      this.marks[kind].x = series.weightChanges;
    }
    this.marks.latency.thresholds =
      guardrails.latencyP95Ms !== undefined
        ? [
            {
              y: guardrails.latencyP95Ms,
              label: `p95 guardrail ${Number(guardrails.latencyP95Ms.toPrecision(3))} ms`,
            },
          ]
        : [];
    this.marks.errors.thresholds =
      guardrails.errorRate !== undefined
        ? [
            {
              y: guardrails.errorRate * 100,
              label: `guardrail ${Number((guardrails.errorRate * 100).toPrecision(3))}%`,
            },
          ]
        : [];
    const yl = this.charts.latency.options.scales?.y;
    if (yl)
      yl.suggestedMax = guardrails.latencyP95Ms !== undefined ? guardrails.latencyP95Ms * 1.15 : undefined;
    const ye = this.charts.errors.options.scales?.y;
    if (ye) ye.suggestedMax = guardrails.errorRate !== undefined ? guardrails.errorRate * 100 * 1.3 : 1;
    for (const chart of Object.values(this.charts)) chart.update('none');
  }

  private rebuild(series: ChartSeries, colours: Map<string, ColourKey>): void {
    // High contrast: thicker lines (the theme's colours are already the contrasting ones).
    const w = (width: number): number => (this.theme.highContrast ? width * 1.5 : width);
    const traffic: LineDataset[] = [];
    series.traffic.forEach((t, i) => {
      const c = this.colour(colours, t.variant);
      traffic.push({
        label: `${t.variant} observed`,
        data: t.observed,
        stack: 'observed',
        fill: i === 0 ? 'origin' : '-1',
        // The baseline's area stays quiet; the candidates' slices are what you look at.
        backgroundColor: withAlpha(c, i === 0 ? 0.16 : 0.45),
        borderColor: c,
        borderWidth: w(1),
        spanGaps: false,
      });
    });
    series.traffic.forEach((t) => {
      const c = this.colour(colours, t.variant);
      traffic.push({
        label: `${t.variant} configured`,
        data: t.configured,
        stack: 'configured',
        fill: false,
        stepped: 'after',
        borderColor: this.theme.highContrast ? this.theme.fg : c,
        borderDash: [5, 4],
        borderWidth: w(1.5),
      });
    });
    // Per variant: p95 as the line (the guardrail judges it), p50–p99 as a band around it.
    const latency: LineDataset[] = [];
    for (const l of series.latency) {
      const c = this.colour(colours, l.variant);
      latency.push(
        {
          label: `${l.variant} p50`,
          data: l.p50,
          pointRadius: pointRadius(l.p50),
          borderColor: withAlpha(c, 0.45),
          borderWidth: w(0.75),
          fill: false,
        },
        {
          label: `${l.variant} p95`,
          data: l.p95,
          pointRadius: pointRadius(l.p95),
          borderColor: c,
          backgroundColor: c,
          borderWidth: w(1.75),
          fill: false,
        },
        {
          label: `${l.variant} p99`,
          data: l.p99,
          pointRadius: pointRadius(l.p99),
          borderColor: withAlpha(c, 0.45),
          borderWidth: w(0.75),
          fill: '-2',
          backgroundColor: withAlpha(c, this.theme.highContrast ? 0.25 : 0.14),
        },
      );
    }
    const errors: LineDataset[] = series.errorRate.map((e) => {
      const c = this.colour(colours, e.variant);
      return {
        label: `${e.variant} error rate`,
        data: e.points,
        pointRadius: pointRadius(e.points),
        borderColor: c,
        backgroundColor: c,
        borderWidth: w(1.5),
        fill: false,
      };
    });
    this.charts.traffic.data.datasets = traffic;
    this.charts.latency.data.datasets = latency;
    this.charts.errors.data.datasets = errors;
  }

  private swapData(series: ChartSeries): void {
    const n = series.traffic.length;
    const tr = this.charts.traffic.data.datasets;
    series.traffic.forEach((t, i) => {
      tr[i]!.data = t.observed;
      tr[n + i]!.data = t.configured;
    });
    const lat = this.charts.latency.data.datasets;
    const set = (dataset: LineDataset, data: XY[]): void => {
      dataset.data = data;
      dataset.pointRadius = pointRadius(data);
    };
    series.latency.forEach((l, i) => {
      set(lat[3 * i]!, l.p50);
      set(lat[3 * i + 1]!, l.p95);
      set(lat[3 * i + 2]!, l.p99);
    });
    const er = this.charts.errors.data.datasets;
    series.errorRate.forEach((e, i) => set(er[i]!, e.points));
  }

  destroy(): void {
    for (const chart of Object.values(this.charts)) chart.destroy();
  }
}
