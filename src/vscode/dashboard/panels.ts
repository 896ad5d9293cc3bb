/**
 * Dashboard panels, one per experiment: strict-CSP webviews fed by the live state. The
 * webview speaks first (`ready`); the host answers with `state` and then sends every new
 * report. A serializer brings panels back after a window reload.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import {
  isWebviewToHost,
  type DashboardAction,
  type DashboardState,
  type HostToWebview,
  type WebviewToHost,
} from '../../shared/protocol';
import { dashboardHtml } from '../../shared/dashboardHtml';
import type { Environments } from '../environments';
import type { LiveState } from '../liveState';
import type { WorkspaceModel } from '../workspaceModel';

export const DASHBOARD_VIEW_TYPE = 'modelCanary.dashboard';

interface PanelState {
  experiment: string;
}

/** What the panels need to run an action the user confirmed in the dashboard. */
export type DashboardActionHandler = (
  action: Exclude<WebviewToHost, { type: 'ready' } | { type: 'refresh' }>,
) => Promise<string>;

class DashboardPanel {
  private ready = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly experiment: string,
    private readonly host: DashboardPanels,
    extensionUri: vscode.Uri,
  ) {
    const webview = panel.webview;
    webview.options = {
      enableScripts: true,
      localResourceRoots: [
        vscode.Uri.joinPath(extensionUri, 'dist'),
        vscode.Uri.joinPath(extensionUri, 'media'),
      ],
    };
    webview.html = dashboardHtml({
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'dashboard.css')).toString(),
      nonce: randomBytes(16).toString('base64'),
      cspSource: webview.cspSource,
      mode: 'vscode',
      title: `Model Canary — ${experiment}`,
    });
    this.disposables.push(
      webview.onDidReceiveMessage((message: unknown) => void this.onMessage(message)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private async onMessage(message: unknown): Promise<void> {
    if (!isWebviewToHost(message)) return; // untrusted input: ignore what is not ours
    if (message.type === 'ready') {
      this.ready = true;
      this.post(this.host.stateFor(this.experiment));
      return;
    }
    if (message.type === 'refresh') {
      await this.host.live.refresh();
      return;
    }
    const action = message.type as DashboardAction;
    try {
      const text = await this.host.handleAction(message);
      this.post({ type: 'actionResult', action, ok: true, message: text });
    } catch (err) {
      this.post({ type: 'actionResult', action, ok: false, message: (err as Error).message });
    }
  }

  /** Posts only after the webview said it listens. */
  post(message: HostToWebview): void {
    if (this.ready) void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.host.forget(this);
  }
}

export class DashboardPanels implements vscode.Disposable, vscode.WebviewPanelSerializer<PanelState> {
  private readonly panels = new Set<DashboardPanel>();
  private readonly subscriptions: vscode.Disposable[];
  handleAction: DashboardActionHandler = () => Promise.reject(new Error('not ready'));

  constructor(
    private readonly extensionUri: vscode.Uri,
    readonly live: LiveState,
    private readonly environments: Environments,
    private readonly workspace: WorkspaceModel,
  ) {
    this.subscriptions = [
      live.onDidChange(() => {
        for (const p of this.panels) p.post(this.stateFor(p.experiment));
      }),
      vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, this),
    ];
  }

  /** Opens (or reveals) the dashboard of an experiment. */
  open(experiment: string): void {
    const existing = [...this.panels].find((p) => p.experiment === experiment);
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      DASHBOARD_VIEW_TYPE,
      `Canary: ${experiment}`,
      vscode.ViewColumn.Active,
      {
        enableScripts: true,
        retainContextWhenHidden: false,
      },
    );
    this.adopt(panel, experiment);
  }

  /** Restores a panel after a reload (the webview kept its experiment in getState). */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: PanelState | undefined): Promise<void> {
    const experiment = typeof state?.experiment === 'string' ? state.experiment : undefined;
    if (!experiment) {
      panel.dispose();
      return;
    }
    this.adopt(panel, experiment);
  }

  private adopt(panel: vscode.WebviewPanel, experiment: string): void {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'canary.svg');
    this.panels.add(new DashboardPanel(panel, experiment, this, this.extensionUri));
    void this.live.refresh();
  }

  /** The state message for one experiment, from the latest live snapshot. */
  stateFor(experiment: string): HostToWebview {
    const snapshot = this.live.current;
    const deployed = snapshot.status?.experiments.find((e) => e.name === experiment);
    const spec = this.workspace.current
      .flatMap((s) => s.experiments)
      .find((e) => e.experiment?.metadata.name === experiment)?.experiment;
    const report = snapshot.reports.get(experiment) ?? null;
    const notice = !snapshot.status?.up
      ? snapshot.error
        ? `Cannot read ${this.environments.label()}: ${snapshot.error}`
        : `The environment (${this.environments.label()}) is not running — run Model Canary: Start Environment, then Deploy Experiment.`
      : !deployed
        ? `${experiment} is not deployed — run Model Canary: Deploy Experiment.`
        : !report
          ? (snapshot.error ?? 'waiting for the first report…')
          : undefined;
    const state: DashboardState = {
      experiment,
      environment: this.environments.label(),
      report,
      notice,
      routerUrl: snapshot.status?.routerUrl,
      endpoint: spec?.spec.endpoint ?? deployed?.endpoint,
      models: spec ? Object.fromEntries(spec.spec.variants.map((v) => [v.name, v.model])) : undefined,
    };
    return { type: 'state', ...state };
  }

  forget(panel: DashboardPanel): void {
    this.panels.delete(panel);
  }

  dispose(): void {
    for (const p of [...this.panels]) p.panel.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
