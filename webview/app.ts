/**
 * The dashboard app: receives `state` from its transport, keeps the history it can build
 * client-side (drift p-values, report snapshots, events), and draws the sections in the
 * order an ML engineer asks the questions: can I promote? can I trust it? how is it
 * running? what does the A/B say? are inputs drifting? what happened when?
 */
import type { DashboardState, HostToWebview, WebviewToHost } from '../src/shared/protocol';
import type { Report } from '../src/shared/report';
import { DashboardCharts } from './charts';
import type { Guardrails } from './charts';
import { custom, h } from './dom';
import {
  ago,
  count,
  duration,
  ms,
  num,
  percent,
  plain,
  shortPercent,
  splitNumber,
  splitText,
  shares,
} from './format';
import { chartSeries, pushSnapshot, reportTime, timelineFromSnapshots } from './series';
import {
  currentWeights,
  editableSplit,
  feedbackCount,
  feedbackHint,
  headerSplit,
  mergeDrift,
  mergeEvents,
  primaryMetric,
  pushDrift,
  reportEvents,
  sameSplit,
  srmBanner,
  trafficHint,
  variantColours,
  variantOrder,
  verdicts,
  weightEvents,
  rolloutEvents,
  withCandidateShare,
  type ColourKey,
} from './shape';
import { readTheme, watchTheme, type Theme } from './theme';
import type { Transport } from './transport';
import { emptyUiState, restoreUiState, stateForStorage, type UiState } from './uiState';
import {
  abView,
  bannerView,
  driftView,
  keyView,
  legendView,
  lineSample,
  predictionView,
  timelineView,
  rolloutView,
  verdictView,
} from './views';

type Control =
  | { kind: 'idle' }
  | { kind: 'split'; draft: Record<string, number> }
  | { kind: 'confirm-split'; draft: Record<string, number> }
  | { kind: 'promote' }
  | { kind: 'rollback' }
  /** Waiting for the host; `back` is where a failure returns to (to retry, or enter a token). */
  | { kind: 'busy'; what: string; back: Control };

type ChartKind = 'traffic' | 'latency' | 'errors';

interface ChartPanel {
  root: HTMLElement;
  legend: HTMLElement;
  box: HTMLElement;
  empty: HTMLElement;
}

interface VscodeButton extends HTMLElement {
  disabled: boolean;
}
interface VscodeTextfield extends HTMLElement {
  value: string;
}

export class DashboardApp {
  private ui: UiState = emptyUiState();
  private state: DashboardState | undefined;
  private prevReport: Report | undefined;
  private error: string | undefined;
  private toast: { ok: boolean; message: string } | undefined;
  private control: Control = { kind: 'idle' };
  private theme: Theme;
  private readonly charts: DashboardCharts;
  private readonly panels: Record<ChartKind, ChartPanel>;
  private readonly el: {
    header: HTMLElement;
    controls: HTMLElement;
    notice: HTMLElement;
    verdict: HTMLElement;
    srm: HTMLElement;
    ab: HTMLElement;
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
    const panel = (title: string, kind: ChartKind): ChartPanel => {
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
    };
    this.panels = {
      traffic: panel('Traffic split', 'traffic'),
      latency: panel('Latency', 'latency'),
      errors: panel('Error rate', 'errors'),
    };
    this.el = {
      header: h('header', { class: 'mc-header' }),
      controls: h('section', { class: 'mc-controls', 'aria-label': 'Controls', hidden: true }),
      notice: h('div', { class: 'mc-notice' }),
      verdict: h('div', { class: 'mc-verdict-slot' }),
      srm: h('div', { class: 'mc-srm-slot' }),
      ab: h('div', { class: 'mc-ab-slot' }),
      drift: h('div', { class: 'mc-drift-slot' }),
      prediction: h('div', { class: 'mc-prediction-slot' }),
      rollout: h('div', { class: 'mc-rollout-slot' }),
      timeline: h('div', { class: 'mc-timeline-slot' }),
    };
    const canvas = (k: ChartKind): HTMLCanvasElement => this.panels[k].box.querySelector('canvas')!;
    root.replaceChildren(
      this.el.header,
      this.el.controls,
      this.el.notice,
      this.el.verdict,
      this.el.srm,
      h(
        'div',
        { class: 'mc-grid mc-grid-3' },
        this.panels.traffic.root,
        this.panels.latency.root,
        this.panels.errors.root,
      ),
      this.el.ab,
      h('div', { class: 'mc-grid mc-grid-2' }, this.el.drift, this.el.prediction),
      this.el.rollout,
      this.el.timeline,
    );
    this.charts = new DashboardCharts(
      { traffic: canvas('traffic'), latency: canvas('latency'), errors: canvas('errors') },
      this.theme,
    );
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
        this.toast = { ok: m.ok, message: m.message };
        if (this.control.kind === 'busy') this.control = m.ok ? { kind: 'idle' } : this.control.back;
        this.renderControls();
        this.renderHeader();
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
      this.control = { kind: 'idle' };
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
    this.fill(this.el.header, 'waiting', () => [h('h1', {}, 'Model Canary')]);
    this.fill(this.el.verdict, 'waiting', () => [
      h('p', { class: 'mc-empty' }, 'waiting for the first report…'),
    ]);
  }

  render(): void {
    const t0 = performance.now();
    const st = this.state;
    this.renderHeader();
    this.renderNotice();
    if (this.control.kind === 'idle' || !st?.report) this.renderControls();
    const report = st?.report;
    if (!st || !report) {
      const text = st?.notice ?? 'no report yet — deploy the experiment and start the environment';
      this.fill(this.el.verdict, text, () => [h('p', { class: 'mc-empty' }, text)]);
      for (const p of Object.values(this.panels)) this.showEmpty(p, 'no data yet');
      for (const k of ['srm', 'ab', 'drift', 'prediction', 'timeline'] as const)
        this.fill(this.el[k], null, () => []);
      return;
    }
    const colours = variantColours(report);
    const order = variantOrder(report);
    const ctx = {
      ...(st.routerUrl ? { routerUrl: st.routerUrl } : {}),
      ...(st.endpoint ? { endpoint: st.endpoint } : {}),
    };

    const list = verdicts(report, ctx);
    const needsTraffic =
      list.length === 1 &&
      (list[0]!.headline === 'no traffic yet' || list[0]!.headline === 'no feedback yet');
    const simulate =
      needsTraffic && this.transport.can.simulateTraffic
        ? custom<VscodeButton>(
            'vscode-button',
            {
              secondary: true,
              class: 'mc-inline-button',
              onclick: () => this.send({ type: 'simulateTraffic', experiment: st.experiment }),
            },
            'Simulate Traffic',
          )
        : undefined;
    this.fill(this.el.verdict, [list, !!simulate], () => [verdictView(list, colours, simulate)]);

    const srm = srmBanner(report);
    this.fill(this.el.srm, srm, () =>
      srm ? [bannerView('warn', srm, `chi² = ${report.srm.chi2}, p = ${report.srm.pValue}`)] : [],
    );

    const t1 = performance.now();
    this.renderCharts(report, colours, order, ctx);
    const t2 = performance.now();

    const metric = primaryMetric(report);
    const emptyAb =
      !metric || feedbackCount(report, metric) === 0
        ? `no feedback yet — ${feedbackHint(report.experiment, ctx)}`
        : undefined;
    this.fill(this.el.ab, [report.variants, report.comparisons, st.models, emptyAb], () => [
      abView(report, st.models ?? {}, emptyAb),
    ]);
    const lastDrift = this.ui.drift[this.ui.drift.length - 1];
    this.fill(
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
    this.fill(this.el.prediction, [report.drift?.prediction, report.shadow, order], () => [
      predictionView(report, colours),
    ]);
    const timeline = report.timeline ?? timelineFromSnapshots(this.ui.snapshots);
    const rollout = report.rollout;
    this.fill(this.el.rollout, [rollout], () => (rollout ? [rolloutView(rollout)] : []));
    const events = mergeEvents(
      [...weightEvents(timeline.weights, order), ...rolloutEvents(rollout)],
      this.ui.events,
    );
    this.fill(this.el.timeline, events, () => [timelineView(events)]);
    const t3 = performance.now();
    // Measured by bench/dashboard.ts (and visible in the webview's performance panel).
    performance.measure('model-canary:charts', { start: t1, end: t2 });
    performance.measure('model-canary:render', { start: t0, end: t3 });
  }

  private readonly drawn = new WeakMap<Element, string>();

  /**
   * Replaces a slot's content only when what it shows changed (`key`): most of a report is
   * the same from one refresh to the next, and rebuilding DOM (and web components) is not free.
   */
  private fill(slot: Element, key: unknown, build: () => Node[]): void {
    const k = JSON.stringify(key) ?? '';
    if (this.drawn.get(slot) === k) return;
    this.drawn.set(slot, k);
    slot.replaceChildren(...build());
  }

  private showEmpty(p: ChartPanel, text: string): void {
    p.box.hidden = true;
    p.empty.hidden = false;
    p.empty.textContent = text;
    this.fill(p.legend, null, () => []);
  }

  private renderCharts(
    report: Report,
    colours: Map<string, ColourKey>,
    order: string[],
    ctx: { routerUrl?: string; endpoint?: string },
  ): void {
    const timeline = report.timeline ?? timelineFromSnapshots(this.ui.snapshots);
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
      for (const p of Object.values(this.panels)) this.showEmpty(p, text);
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
    this.charts.update(series, colours, guardrails);
    performance.measure('model-canary:series', { start: t0, end: t1 });
    performance.measure('model-canary:chart-update', { start: t1, end: performance.now() });

    const weights = shares(currentWeights(report));
    const byName = new Map(report.variants.map((v) => [v.name, v]));
    const colourOf = (n: string): ColourKey => colours.get(n) ?? 'neutral';
    const legendKey = [order, [...colours], guardrails, report.variants];
    this.fill(this.panels.traffic.legend, legendKey, () => [
      legendView(
        order.map((n) => ({
          colour: colourOf(n),
          name: n,
          value: `${percent(byName.get(n)?.observedShare, 1)} of ${splitNumber(weights[n] ?? 0)}%`,
          title: `${n}: observed share ${String(byName.get(n)?.observedShare)} of the requests; configured weight ${String(byName.get(n)?.weight)}`,
        })),
        [
          keyView(lineSample(undefined, 'mc-stroke-fg', true), 'observed'),
          keyView(lineSample('4 3'), 'configured'),
        ],
      ),
    ]);
    this.fill(this.panels.latency.legend, legendKey, () => [
      legendView(
        order.map((n) => {
          const l = byName.get(n)?.latencyMs;
          return {
            colour: colourOf(n),
            name: n,
            value: `p95 ${ms(l?.p95)}`,
            title: `${n}: p50 ${ms(l?.p50)} · p95 ${ms(l?.p95)} · p99 ${ms(l?.p99)} (whole experiment)`,
          };
        }),
        [
          keyView(lineSample(undefined), 'p95'),
          keyView(lineSample(undefined, 'mc-stroke-fg mc-thin', true), 'p50–p99'),
          ...(guardrails.latencyP95Ms !== undefined
            ? [keyView(lineSample('6 4', 'mc-stroke-red'), `guardrail ${plain(guardrails.latencyP95Ms)} ms`)]
            : []),
        ],
      ),
    ]);
    this.fill(this.panels.errors.legend, legendKey, () => [
      legendView(
        order.map((n) => {
          const v = byName.get(n);
          return {
            colour: colourOf(n),
            name: n,
            value: percent(v?.errorRate),
            title: `${n}: ${count(v?.errors)} errors in ${count(v?.requests)} requests`,
          };
        }),
        guardrails.errorRate !== undefined
          ? [keyView(lineSample('6 4', 'mc-stroke-red'), `guardrail ${shortPercent(guardrails.errorRate)}`)]
          : [],
      ),
    ]);
  }

  private renderHeader(): void {
    const st = this.state;
    const report = st?.report;
    const key = [
      st?.experiment,
      st?.environment,
      report && headerSplit(report),
      this.control.kind,
      report?.variants.map((v) => v.role),
    ];
    if (this.drawn.get(this.el.header) === JSON.stringify(key)) return this.renderAge();
    this.drawn.set(this.el.header, JSON.stringify(key));
    const title = h(
      'div',
      { class: 'mc-title' },
      h('h1', {}, st?.experiment ?? 'Model Canary'),
      st ? h('span', { class: 'mc-env', title: 'environment' }, st.environment) : null,
      report ? h('span', { class: 'mc-split', title: 'configured split' }, headerSplit(report)) : null,
      h('span', { class: 'mc-age', 'data-age': '' }),
    );
    const can = this.transport.can;
    const busy = this.control.kind === 'busy';
    const candidates = report?.variants.filter((v) => v.role === 'candidate') ?? [];
    const button = (
      label: string,
      onclick: () => void,
      opts: { secondary?: boolean; disabled?: boolean; title?: string } = {},
    ): HTMLElement =>
      custom<VscodeButton>(
        'vscode-button',
        { secondary: !!opts.secondary, disabled: !!opts.disabled || busy, title: opts.title ?? '', onclick },
        label,
      );
    const actions = h(
      'div',
      { class: 'mc-actions' },
      button(
        'Set split',
        () => this.setControl(report ? { kind: 'split', draft: editableSplit(report) } : { kind: 'idle' }),
        {
          secondary: true,
          disabled: !report || candidates.length === 0,
          title: 'Change the weights (with a confirmation)',
        },
      ),
      button('Promote', () => this.setControl({ kind: 'promote' }), {
        disabled: !report || candidates.length === 0,
        title: can.promoteInSteps
          ? 'Make a candidate the new baseline, in steps'
          : 'Send all traffic to a candidate',
      }),
      button('Roll back', () => this.setControl({ kind: 'rollback' }), {
        secondary: true,
        disabled: !report,
        title: 'Send all traffic back to the baseline',
      }),
      can.openLogs
        ? button('Logs', () => this.send({ type: 'openLogs' }), {
            secondary: true,
            title: 'Show the Model Canary output',
          })
        : null,
    );
    this.el.header.replaceChildren(title, actions);
    this.renderAge();
  }

  private renderAge(): void {
    const span = this.el.header.querySelector<HTMLElement>('[data-age]');
    const report = this.state?.report;
    if (!span || !report) return;
    const ts = Date.parse(report.generatedAt);
    const age = Date.now() - ts;
    span.textContent = `report ${ago(ts, Date.now())}`;
    span.title = report.generatedAt;
    span.classList.toggle('mc-stale', age > 15_000);
  }

  private renderNotice(): void {
    const items: HTMLElement[] = [];
    if (this.error) items.push(bannerView('error', this.error));
    if (this.state?.notice && this.state.report) items.push(bannerView('info', this.state.notice));
    this.el.notice.replaceChildren(...items);
  }

  // ── controls ───────────────────────────────────────────────────────────────────────

  private setControl(c: Control): void {
    this.control = c;
    this.toast = undefined;
    this.renderControls();
    this.renderHeader();
  }

  /** The admin-token field (browser only), shown until a token is stored for this tab. */
  private tokenField(): HTMLElement | null {
    if (!this.transport.can.adminToken || this.transport.hasToken?.()) return null;
    const field = custom<VscodeTextfield>('vscode-textfield', {
      type: 'password',
      placeholder: 'adminToken from the router config',
      'aria-label': 'Admin token',
      class: 'mc-token',
    });
    field.addEventListener('change', () => this.transport.setToken?.(field.value.trim()));
    field.addEventListener('input', () => this.transport.setToken?.(field.value.trim()));
    return h(
      'label',
      { class: 'mc-token-row' },
      h('span', {}, 'Admin token'),
      field,
      h('span', { class: 'mc-muted' }, 'kept in this tab only (sessionStorage)'),
    );
  }

  private act(what: string, m: WebviewToHost): void {
    if (this.transport.can.adminToken && !this.transport.hasToken?.()) {
      this.toast = { ok: false, message: 'enter the admin token first' };
      this.renderControls();
      return;
    }
    this.control = { kind: 'busy', what, back: this.control };
    this.toast = undefined;
    this.renderControls();
    this.renderHeader();
    this.send(m);
  }

  private renderControls(): void {
    const box = this.el.controls;
    const report = this.state?.report;
    const experiment = this.state?.experiment ?? '';
    const c = this.control;
    const parts: Node[] = [];
    const button = (
      label: string,
      onclick: () => void,
      opts: { secondary?: boolean; disabled?: boolean } = {},
    ): HTMLElement =>
      custom<VscodeButton>(
        'vscode-button',
        { secondary: !!opts.secondary, disabled: !!opts.disabled, onclick },
        label,
      );
    const cancel = (): HTMLElement =>
      button('Cancel', () => this.setControl({ kind: 'idle' }), { secondary: true });
    if (report) {
      const order = variantOrder(report);
      const colours = variantColours(report);
      const baseline = order[0]!;
      const now = splitText(currentWeights(report), order);
      if (c.kind === 'split') {
        const outputs = new Map<string, HTMLOutputElement>();
        const ranges = new Map<string, HTMLInputElement>();
        const apply = button('Apply…', () => this.setControl({ kind: 'confirm-split', draft: c.draft }), {
          disabled: sameSplit(c.draft, currentWeights(report)),
        }) as VscodeButton;
        // Update in place while dragging: re-rendering would take the slider from under the pointer.
        const sync = (): void => {
          for (const [n, o] of outputs) o.textContent = `${c.draft[n] ?? 0}%`;
          for (const [n, r] of ranges) if (Number(r.value) !== c.draft[n]) r.value = String(c.draft[n] ?? 0);
          apply.disabled = sameSplit(c.draft, currentWeights(report));
        };
        const rows = order.map((name) => {
          const out = h('output', { class: 'mc-split-value' }, `${c.draft[name] ?? 0}%`);
          outputs.set(name, out);
          const label = h(
            'span',
            { class: 'mc-variant' },
            h('span', { class: `mc-chip mc-bg-${colours.get(name) ?? 'neutral'}` }),
            h('span', { class: 'mc-variant-name' }, name),
          );
          if (name === baseline)
            return h(
              'div',
              { class: 'mc-split-row' },
              label,
              h('span', { class: 'mc-muted mc-split-rest' }, 'baseline — gets the rest'),
              out,
            );
          const range = h('input', {
            type: 'range',
            min: 0,
            max: 100,
            step: 1,
            value: c.draft[name] ?? 0,
            'aria-label': `weight of ${name} in percent`,
            class: `mc-range mc-accent-${colours.get(name) ?? 'neutral'}`,
          });
          ranges.set(name, range);
          range.addEventListener('input', () => {
            c.draft = withCandidateShare(c.draft, baseline, name, Number(range.value));
            sync();
          });
          return h('div', { class: 'mc-split-row' }, label, range, out);
        });
        parts.push(
          h('h2', {}, 'Set split'),
          h('p', { class: 'mc-sub' }, `now ${now}`),
          ...rows,
          h('div', { class: 'mc-buttons' }, apply, cancel()),
        );
      } else if (c.kind === 'confirm-split') {
        parts.push(
          h('h2', {}, 'Change the split?'),
          h('p', {}, 'from ', h('strong', {}, now), ' to ', h('strong', {}, splitText(c.draft, order))),
          ...[this.tokenField()].filter((x): x is HTMLElement => x !== null),
          h(
            'div',
            { class: 'mc-buttons' },
            button('Confirm', () =>
              this.act('setting the split', { type: 'setWeights', experiment, weights: c.draft }),
            ),
            button('Back', () => this.setControl({ kind: 'split', draft: c.draft }), { secondary: true }),
          ),
        );
      } else if (c.kind === 'promote') {
        const candidates = report.variants.filter((v) => v.role === 'candidate');
        const how = this.transport.can.promoteInSteps
          ? 'the candidate becomes the new baseline, in steps'
          : 'it gets 100% of the traffic at once, the baseline 0%';
        const decided = new Map(report.comparisons.map((x) => [x.variant, x.decision]));
        parts.push(
          h('h2', {}, 'Promote a candidate?'),
          h('p', { class: 'mc-sub' }, how),
          ...[this.tokenField()].filter((x): x is HTMLElement => x !== null),
          h(
            'div',
            { class: 'mc-buttons' },
            ...candidates.map((v) =>
              button(
                `Promote ${v.name}${decided.get(v.name) === 'promote' ? '' : ` (verdict: ${decided.get(v.name) ?? 'none'})`}`,
                () => this.act(`promoting ${v.name}`, { type: 'promote', experiment, variant: v.name }),
                { secondary: decided.get(v.name) !== 'promote' },
              ),
            ),
            cancel(),
          ),
        );
      } else if (c.kind === 'rollback') {
        parts.push(
          h('h2', {}, 'Roll back?'),
          h('p', {}, 'send all traffic back to ', h('strong', {}, baseline), ` (now ${now})`),
          ...[this.tokenField()].filter((x): x is HTMLElement => x !== null),
          h(
            'div',
            { class: 'mc-buttons' },
            button(`Roll back to ${baseline}`, () =>
              this.act('rolling back', { type: 'rollback', experiment }),
            ),
            cancel(),
          ),
        );
      } else if (c.kind === 'busy') {
        parts.push(h('p', { class: 'mc-busy' }, `${c.what}…`));
      }
    }
    if (this.toast)
      parts.push(
        h(
          'p',
          { class: `mc-toast ${this.toast.ok ? 'mc-toast-ok' : 'mc-toast-error'}`, role: 'status' },
          this.toast.message,
        ),
      );
    box.hidden = parts.length === 0;
    box.replaceChildren(...parts);
  }
}
