/**
 * The dashboard in a browser, served by the router at /dashboard/: polls
 * GET ../api/v1/experiments/{name}/report every 2 s and turns it into the same `state`
 * messages the extension host sends. Actions go through the router's typed client (src/shared/
 * routerApi.ts) with the admin token the user typed (kept in sessionStorage only, never in the
 * URL): a split is PUT weights; Promote and Roll back are the router's rollout controller, the
 * same engine as Promote Candidate in VS Code and `model-canary promote-candidate`.
 *
 * No DOM here: fetch, storage and timers are injected, so node tests drive it with fakes.
 */
import { isReport } from '../src/shared/protocol';
import type { DashboardAction, HostToWebview, WebviewToHost } from '../src/shared/protocol';
import type { Report } from '../src/shared/report';
import { PROMOTION_OVERRIDES } from '../src/shared/promotion';
import { RouterApiError, RouterClient } from '../src/shared/routerApi';
import { formatSplit } from '../src/shared/weights';
import type { Capabilities, Transport } from './transport';

export interface HttpResponseLike {
  ok: boolean;
  status: number;
  text(): Promise<string>;
}

export type FetchLike = (
  url: string,
  init?: { method?: string; headers?: Record<string, string>; body?: string; cache?: 'no-store' },
) => Promise<HttpResponseLike>;

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface BrowserTransportDeps {
  fetch: FetchLike;
  /** The page's URL (location.href): the API is at ../api/v1/ relative to /dashboard/. */
  pageUrl: string;
  /** sessionStorage (undefined when the browser refuses it). */
  storage?: StorageLike;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  /** True while the tab is hidden: polling pauses (the next visible poll catches up). */
  isHidden?: () => boolean;
  intervalMs?: number;
}

export const TOKEN_KEY = 'modelCanary.adminToken';
export const UI_STATE_KEY = 'modelCanary.dashboard';

interface ExperimentInfo {
  name: string;
  endpoint?: string;
  models: Record<string, string>;
}

/** The router's GET /api/v1/experiments answer, read defensively. */
export function parseExperiments(body: unknown): ExperimentInfo[] {
  const list = (body as { experiments?: unknown } | null)?.experiments;
  if (!Array.isArray(list)) return [];
  const out: ExperimentInfo[] = [];
  for (const e of list) {
    if (typeof e !== 'object' || e === null) continue;
    const { name, endpoint, variants } = e as { name?: unknown; endpoint?: unknown; variants?: unknown };
    if (typeof name !== 'string' || name === '') continue;
    const models: Record<string, string> = {};
    if (Array.isArray(variants))
      for (const v of variants) {
        const { name: vn, model } = (v ?? {}) as { name?: unknown; model?: unknown };
        if (typeof vn === 'string' && typeof model === 'string') models[vn] = model;
      }
    out.push({ name, ...(typeof endpoint === 'string' ? { endpoint } : {}), models });
  }
  return out;
}

/** The `error` of a router's JSON error body, or the status line. */
async function errorText(res: HttpResponseLike): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const e = (JSON.parse(text) as { error?: unknown }).error;
    if (typeof e === 'string' && e) return e;
  } catch {
    // not JSON: fall through
  }
  return `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
}

export class BrowserTransport implements Transport {
  readonly mode = 'browser' as const;
  readonly can: Capabilities = {
    openLogs: false,
    simulateTraffic: false,
    promoteInSteps: false,
    adminToken: true,
  };

  private listener: ((m: HostToWebview) => void) | undefined;
  private experiment: ExperimentInfo | undefined;
  private lastReport: Report | undefined;
  private timer: unknown;
  private polling = false;
  private started = false;
  private readonly interval: number;
  private readonly origin: string;

  constructor(private readonly deps: BrowserTransportDeps) {
    this.interval = deps.intervalMs ?? 2000;
    this.origin = new URL(deps.pageUrl).origin;
  }

  private api(path: string): string {
    return new URL(`../api/v1/${path}`, this.deps.pageUrl).toString();
  }

  private emit(m: HostToWebview): void {
    this.listener?.(m);
  }

  start(listener: (message: HostToWebview) => void): void {
    this.listener = listener;
  }

  send(message: WebviewToHost): void {
    switch (message.type) {
      case 'ready':
        if (!this.started) {
          this.started = true;
          void this.poll();
        }
        return;
      case 'refresh':
        void this.poll();
        return;
      case 'setWeights': {
        const { experiment, weights } = message;
        void this.adminAction('setWeights', async (client) => {
          const now = await client.setWeights(experiment, weights);
          return `split set: ${formatSplit(now)}`;
        });
        return;
      }
      case 'promote': {
        const { experiment, variant } = message;
        void this.adminAction('promote', async (client) => {
          const rollout = await client.rollout(experiment, 'start', {
            candidate: variant,
            overrides: PROMOTION_OVERRIDES,
          });
          return `promoting ${variant}: rollout ${rollout.state} — ${rollout.reason}`;
        });
        return;
      }
      case 'rollback': {
        const { experiment } = message;
        void this.adminAction('rollback', async (client) => {
          const rollout = await client.rollout(experiment, 'abort');
          return `rolled back: ${rollout.reason}`;
        });
        return;
      }
      case 'openLogs':
        return this.result('openLogs', false, "the router's logs are in the terminal that runs it");
      case 'simulateTraffic':
        return this.result(
          'simulateTraffic',
          false,
          `run \`model-canary simulate --experiment ${message.experiment}\` in a terminal to send traffic`,
        );
    }
  }

  loadUiState(): unknown {
    try {
      const text = this.deps.storage?.getItem(UI_STATE_KEY);
      return text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      return undefined;
    }
  }

  saveUiState(state: unknown): void {
    try {
      this.deps.storage?.setItem(UI_STATE_KEY, JSON.stringify(state));
    } catch {
      // Storage full or refused: the dashboard still works, it just forgets on reload.
    }
  }

  hasToken(): boolean {
    return !!this.deps.storage?.getItem(TOKEN_KEY);
  }

  setToken(token: string): void {
    if (token) this.deps.storage?.setItem(TOKEN_KEY, token);
    else this.deps.storage?.removeItem(TOKEN_KEY);
  }

  private result(action: DashboardAction, ok: boolean, message: string): void {
    this.emit({ type: 'actionResult', action, ok, message });
  }

  /** Which experiment to show: ?experiment=…, else the first the router runs. */
  private async resolveExperiment(): Promise<ExperimentInfo | undefined> {
    const wanted = new URL(this.deps.pageUrl).searchParams.get('experiment') ?? undefined;
    let list: ExperimentInfo[] | undefined;
    try {
      const res = await this.deps.fetch(this.api('experiments'), { cache: 'no-store' });
      if (res.ok) list = parseExperiments(JSON.parse(await res.text()) as unknown);
    } catch {
      // The list is a convenience: with ?experiment= we can go on without it.
    }
    if (wanted) return list?.find((e) => e.name === wanted) ?? { name: wanted, models: {} };
    if (list === undefined) {
      this.emit({
        type: 'error',
        message: `can't reach the router's experiment list at ${this.api('experiments')} — is the router running? Or open this page with ?experiment=<name>. Retrying every ${this.interval / 1000} s.`,
      });
      return undefined;
    }
    if (list.length === 0) {
      this.emit({
        type: 'error',
        message:
          'this router runs no experiment yet — deploy one (Model Canary: Deploy Experiment, or `model-canary deploy`). Retrying.',
      });
      return undefined;
    }
    return list[0];
  }

  /** One poll, then the next one in `interval` ms (never two at once). */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    this.deps.clearTimeout(this.timer);
    try {
      if (this.deps.isHidden?.()) return;
      this.experiment ??= await this.resolveExperiment();
      const exp = this.experiment;
      if (!exp) return;
      const url = this.api(`experiments/${encodeURIComponent(exp.name)}/report`);
      let res: HttpResponseLike;
      try {
        res = await this.deps.fetch(url, { cache: 'no-store' });
      } catch {
        this.emit({
          type: 'error',
          message: `can't reach the router at ${this.origin} — is it running? Retrying every ${this.interval / 1000} s.`,
        });
        return;
      }
      if (!res.ok) {
        this.emit({
          type: 'error',
          message: `the router answered ${res.status} for the report: ${await errorText(res)}`,
        });
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(await res.text());
      } catch {
        this.emit({ type: 'error', message: `the report at ${url} is not JSON` });
        return;
      }
      if (!isReport(body)) {
        this.emit({
          type: 'error',
          message: `the report at ${url} does not have the expected shape — is the router the same version as this dashboard?`,
        });
        return;
      }
      this.lastReport = body;
      this.emit({
        type: 'state',
        experiment: exp.name,
        environment: `router at ${new URL(this.deps.pageUrl).host}`,
        report: body,
        routerUrl: this.origin,
        ...(exp.endpoint ? { endpoint: exp.endpoint } : {}),
        models: exp.models,
      });
    } finally {
      this.polling = false;
      this.timer = this.deps.setTimeout(() => void this.poll(), this.interval);
    }
  }

  /** An admin call through the router's client with the typed token; its outcome becomes the action's result. */
  private async adminAction(
    action: DashboardAction,
    call: (client: RouterClient) => Promise<string>,
  ): Promise<void> {
    const token = this.deps.storage?.getItem(TOKEN_KEY) ?? '';
    if (!token)
      return this.result(action, false, 'enter the admin token (adminToken in the router config) first');
    const base = new URL('..', this.deps.pageUrl).toString().replace(/\/+$/, '');
    const client = new RouterClient(
      async (path, request) => {
        const res = await this.deps.fetch(base + path, {
          method: request.method,
          headers: request.headers,
          body: request.body,
          cache: 'no-store',
        });
        return { status: res.status, text: await res.text() };
      },
      async () => token,
    );
    let message: string;
    try {
      message = await call(client);
    } catch (err) {
      if (err instanceof RouterApiError && err.status === 401) {
        this.deps.storage?.removeItem(TOKEN_KEY);
        return this.result(
          action,
          false,
          `the router refused the admin token (${err.message}) — enter the adminToken from the router config`,
        );
      }
      if (err instanceof RouterApiError) return this.result(action, false, err.message);
      return this.result(action, false, `can't reach the router at ${this.origin} — is it running?`);
    }
    this.result(action, true, message);
    void this.poll();
  }
}
