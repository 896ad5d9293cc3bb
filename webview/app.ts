/**
 * The dashboard app: receives `state` from its transport, keeps the history it can build
 * client-side (drift p-values, report snapshots, events), and draws the panels in the
 * order an ML engineer asks the questions: can I promote? can I trust it? how is it
 * running? what does the A/B say? are inputs drifting? what happened when?
 * Each panel lives in webview/panels/<panel>/ (view.ts draws it, shape.ts shapes its data).
 */
import type { DashboardState, HostToWebview, WebviewToHost } from '../src/shared/protocol';
import type { Report } from '../src/shared/report';
import { DashboardCharts } from './charts';
import { h } from './dom';
import { pushSnapshot, reportTime, timelineFromSnapshots } from './series';
import { readTheme, watchTheme, type Theme } from './theme';
import type { Transport } from './transport';
import { emptyUiState, restoreUiState, stateForStorage, type UiState } from './uiState';
import { feedbackCount, primaryMetric, variantColours, variantOrder } from './variants';
import { ChartPanels } from './panels/charts/view';
import { abView } from './panels/comparisons/view';
import { ControlsPanel } from './panels/controls/view';
import { mergeDrift, pushDrift } from './panels/drift/shape';
import { driftView } from './panels/drift/view';
import { headerKey, headerView, showReportAge } from './panels/header/view';
import { attributionText, excludedText, unitsText } from '../src/shared/format';
import { srmBanner } from './panels/notices/shape';
import { noticeBanners, srmBannerView } from './panels/notices/view';
import { predictionView } from './panels/predictions/view';
import { rolloutView } from './panels/rollout/view';
import { graphView } from './panels/graph/view';
import { SlotRenderer } from './panels/shared/slotRenderer';
import { feedbackHint, type RouterAddress } from './panels/shared/trafficHints';
import { mergeEvents, reportEvents, rolloutEvents, weightEvents } from './panels/timeline/shape';
import { timelineView } from './panels/timeline/view';
import { verdicts, waitsForTraffic } from './panels/verdict/shape';
import { simulateTrafficButton, verdictView } from './panels/verdict/view';

export class DashboardApp {
  private ui: UiState = emptyUiState();
  private state: DashboardState | undefined;
  private prevReport: Report | undefined;
  private error: string | undefined;
  private theme: Theme;
  private readonly slots = new SlotRenderer();
  private readonly charts: DashboardCharts;
  private readonly chartPanels: ChartPanels;
  private readonly controls: ControlsPanel;
  private readonly el: {
    header: HTMLElement;
    notice: HTMLElement;
    verdict: HTMLElement;
    srm: HTMLElement;
    ab: HTMLElement;
    graph: HTMLElement;
    drift: HTMLElement;
    prediction: HTMLElement;
    rollout: HTMLElement;
    timeline: HTMLElement;
  };

  constructor(
    private readonly root: HTMLElement,
    private readonly transport: Transport,
  ) {
    this.theme = readTheme();
    this.chartPanels = new ChartPanels(this.slots);
    this.controls = new ControlsPanel(
      transport,
      () => this.state,
      () => this.renderHeader(),
    );
    this.el = {
      header: h('header', { class: 'mc-header' }),
      notice: h('div', { class: 'mc-notice' }),
      verdict: h('div', { class: 'mc-verdict-slot' }),
      srm: h('div', { class: 'mc-srm-slot' }),
      ab: h('div', { class: 'mc-ab-slot' }),
      graph: h('div', { class: 'mc-graph-slot' }),
      drift: h('div', { class: 'mc-drift-slot' }),
      prediction: h('div', { class: 'mc-prediction-slot' }),
      rollout: h('div', { class: 'mc-rollout-slot' }),
      timeline: h('div', { class: 'mc-timeline-slot' }),
    };
    root.replaceChildren(
      this.el.header,
      this.controls.root,
      this.el.notice,
      this.el.verdict,
      this.el.srm,
      h('div', { class: 'mc-grid mc-grid-3' }, ...this.chartPanels.roots),
      this.el.ab,
      this.el.graph,
      h('div', { class: 'mc-grid mc-grid-2' }, this.el.drift, this.el.prediction),
      this.el.rollout,
      this.el.timeline,
    );
    this.charts = new DashboardCharts(this.chartPanels.canvases(), this.theme);
  }

  start(): void {
    this.ui = restoreUiState(this.transport.loadUiState());
    // Draw what we had before the reload at once; the host's answer to `ready` replaces it.
    if (this.ui.last) this.apply(this.ui.last, false);
    else this.renderWaiting();
    this.transport.start((m) => this.onMessage(m));
    watchTheme(() => {
      this.theme = readTheme();
      this.charts.setTheme(this.theme);
      this.render();
    });
    setInterval(() => this.renderAge(), 1000);
    this.send({ type: 'ready' });
  }

  private send(m: WebviewToHost): void {
    this.transport.send(m);
  }

  onMessage(m: HostToWebview): void {
    switch (m.type) {
      case 'state':
        this.error = undefined;
        this.apply(m, true);
        return;
      case 'error':
        this.error = m.message;
        this.renderNotice();
        return;
      case 'actionResult':
        this.controls.actionResult(m.ok, m.message);
        return;
    }
  }

  /** Takes a new state: updates the client-side history, saves, draws. */
  private apply(st: DashboardState, fresh: boolean): void {
    const { type: _ignored, ...rest } = st as DashboardState & { type?: string };
    const next: DashboardState = rest;
    if (this.state && this.state.experiment !== next.experiment) {
      this.ui = emptyUiState();
      this.prevReport = undefined;
      this.controls.reset();
    }
    this.state = next;
    if (next.history) this.ui.drift = mergeDrift(next.history.drift, this.ui.drift);
    const report = next.report;
    if (report && fresh) {
      const ts = reportTime(report, Date.now());
      this.ui.drift = pushDrift(this.ui.drift, report, ts);
      if (!report.timeline) this.ui.snapshots = pushSnapshot(this.ui.snapshots, report, Date.now());
      this.ui.events = mergeEvents(this.ui.events, reportEvents(this.prevReport, report, ts));
      this.prevReport = report;
    }
    this.ui.last = next;
    this.ui.experiment = next.experiment;
    if (fresh) this.save();
    this.render();
  }

  private saveTimer: ReturnType<typeof setTimeout> | undefined;

  /** Saves the UI state after the frame (serializing a report is not free; once per burst is enough). */
  private save(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.transport.saveUiState(stateForStorage(this.ui));
    }, 500);
  }

  // ── rendering ──────────────────────────────────────────────────────────────────────

  private renderWaiting(): void {
    this.slots.fill(this.el.header, 'waiting', () => [h('h1', {}, 'Model Canary')]);
    this.slots.fill(this.el.verdict, 'waiting', () => [
      h('p', { class: 'mc-empty' }, 'waiting for the first report…'),
    ]);
  }

  render(): void {
    const t0 = performance.now();
    const st = this.state;
    this.renderHeader();
    this.renderNotice();
    if (this.controls.kind === 'idle' || !st?.report) this.controls.render();
    const report = st?.report;
    if (!st || !report) {
      const text = st?.notice ?? 'no report yet — deploy the experiment and start the environment';
      this.slots.fill(this.el.verdict, text, () => [h('p', { class: 'mc-empty' }, text)]);
      this.chartPanels.showEmpty('no data yet');
      for (const k of ['srm', 'ab', 'graph', 'drift', 'prediction', 'timeline'] as const)
        this.slots.fill(this.el[k], null, () => []);
      return;
    }
    const colours = variantColours(report);
    const order = variantOrder(report);
    const ctx: RouterAddress = {
      ...(st.routerUrl ? { routerUrl: st.routerUrl } : {}),
      ...(st.endpoint ? { endpoint: st.endpoint } : {}),
    };

    const list = verdicts(report, ctx);
    const simulate =
      waitsForTraffic(list) && this.transport.can.simulateTraffic
        ? simulateTrafficButton(() => this.send({ type: 'simulateTraffic', experiment: st.experiment }))
        : undefined;
    this.slots.fill(this.el.verdict, [list, !!simulate], () => [verdictView(list, colours, simulate)]);

    const srm = srmBanner(report);
    this.slots.fill(
      this.el.srm,
      [srm, excludedText(report.excluded), unitsText(report), attributionText(report)],
      () => srmBannerView(report),
    );

    const t1 = performance.now();
    this.chartPanels.render(this.charts, report, this.ui.snapshots, colours, order, ctx);
    const t2 = performance.now();

    const metric = primaryMetric(report);
    const emptyAb =
      !metric || feedbackCount(report, metric) === 0
        ? `no feedback yet — ${feedbackHint(report.experiment, ctx)}`
        : undefined;
    this.slots.fill(this.el.ab, [report.variants, report.comparisons, st.models, emptyAb], () => [
      abView(report, st.models ?? {}, emptyAb),
    ]);
    const graphs = report.variants.map((v) => v.steps);
    this.slots.fill(this.el.graph, [graphs, order], () => {
      const view = graphView(report, colours);
      return view ? [view] : [];
    });
    const lastDrift = this.ui.drift[this.ui.drift.length - 1];
    this.slots.fill(
      this.el.drift,
      [report.drift, order, this.ui.feature, this.ui.drift.length, lastDrift?.ts],
      () => [
        driftView(report, this.ui.drift, colours, order, this.ui.feature, (f) => {
          this.ui.feature = f;
          this.save();
          this.render();
        }),
      ],
    );
    this.slots.fill(this.el.prediction, [report.drift?.prediction, report.shadow, order], () => [
      predictionView(report, colours),
    ]);
    const timeline = report.timeline ?? timelineFromSnapshots(this.ui.snapshots);
    const rollout = report.rollout;
    this.slots.fill(this.el.rollout, [rollout], () => (rollout ? [rolloutView(rollout)] : []));
    const events = mergeEvents(
      [...weightEvents(timeline.weights, order), ...rolloutEvents(rollout)],
      this.ui.events,
    );
    this.slots.fill(this.el.timeline, events, () => [timelineView(events)]);
    const t3 = performance.now();
    // Measured by bench/dashboard.ts (and visible in the webview's performance panel).
    performance.measure('model-canary:charts', { start: t1, end: t2 });
    performance.measure('model-canary:render', { start: t0, end: t3 });
  }

  private renderHeader(): void {
    const st = this.state;
    const report = st?.report;
    this.slots.fill(this.el.header, headerKey(st, this.controls.kind), () =>
      headerView(st, this.transport.can, this.controls.kind === 'busy', {
        setSplit: () => this.controls.openSplitEditor(report),
        promote: () => this.controls.openPromote(),
        rollback: () => this.controls.openRollback(),
        openLogs: () => this.send({ type: 'openLogs' }),
      }),
    );
    this.renderAge();
  }

  private renderAge(): void {
    showReportAge(this.el.header, this.state);
  }

  private renderNotice(): void {
    this.el.notice.replaceChildren(...noticeBanners(this.error, this.state?.notice, !!this.state?.report));
  }
}
