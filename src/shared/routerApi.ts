/**
 * The router's HTTP API as one typed client, and its protocol constants (paths and headers).
 * Every caller of the API goes through `RouterClient`: the local runtime (fetch on loopback),
 * the Kubernetes runtime (the API server's service proxy or a port-forward), the simulator's
 * feedback and the browser dashboard. Only the transport differs, so it is injected. No DOM
 * and no Node here: the webview bundle imports this file too.
 */
import type { Report, RolloutStatus, RunInfo } from './report';

/** Carries the admin token through the Kubernetes API server's service proxy, which strips `Authorization`. */
export const ADMIN_TOKEN_HEADER = 'x-model-canary-token';
/** Carries an experiment's ingest token on feedback and labels (distinct from the admin token). */
export const INGEST_TOKEN_HEADER = 'x-model-canary-ingest-token';
/** Where model-canary reads the ingest token from. */
export const INGEST_TOKEN_ENV = 'MODEL_CANARY_INGEST_TOKEN';
/** Response: the variant that answered. Request: forces a variant (excluded from the experiment's statistics). */
export const VARIANT_HEADER = 'x-model-canary-variant';
/** The request id feedback refers to; the router returns it on every inference answer. */
export const REQUEST_ID_HEADER = 'x-request-id';

const experimentPath = (experiment: string, leaf: string): string =>
  `/api/v1/experiments/${encodeURIComponent(experiment)}/${leaf}`;

/** The router's paths, relative to its base URL. */
export const routerPaths = {
  experiments: '/api/v1/experiments',
  report: (experiment: string) => experimentPath(experiment, 'report'),
  weights: (experiment: string) => experimentPath(experiment, 'weights'),
  rollout: (experiment: string) => experimentPath(experiment, 'rollout'),
  feedback: (experiment: string) => experimentPath(experiment, 'feedback'),
  labels: (experiment: string) => experimentPath(experiment, 'labels'),
  runs: (experiment: string) => experimentPath(experiment, 'runs'),
  infer: (endpoint: string) => `/v2/models/${encodeURIComponent(endpoint)}/infer`,
  ready: (endpoint: string) => `/v2/models/${encodeURIComponent(endpoint)}/ready`,
  live: '/v2/health/live',
  metrics: '/metrics',
  dashboard: (experiment?: string) =>
    `/dashboard/${experiment ? `?experiment=${encodeURIComponent(experiment)}` : ''}`,
} as const;

export type RolloutAction = 'start' | 'pause' | 'resume' | 'approve' | 'abort';
export const ROLLOUT_ACTIONS: readonly RolloutAction[] = ['start', 'pause', 'resume', 'approve', 'abort'];

/** Settings a rollout start may override (a demo wants short steps; a promotion accepts "not worse"). */
export interface RolloutOverrides {
  minSamplesPerStep?: number;
  minStepSeconds?: number;
  steps?: number[];
  manualApproval?: boolean;
  promoteWhenEquivalent?: boolean;
}

export interface RouterRequest {
  method: 'GET' | 'POST' | 'PUT';
  body?: string;
  headers: Record<string, string>;
  signal?: AbortSignal;
}

export interface RouterAnswer {
  status: number;
  text: string;
}

/** Sends one request to the router (path relative to its base URL); rejects only when nothing answered. */
export type RouterTransport = (path: string, request: RouterRequest) => Promise<RouterAnswer>;

/** The router answered with an error status; `message` is the router's own explanation. */
export class RouterApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RouterApiError';
  }
}

/** The router's error text: its JSON `{"error": …}` when it sent one, else the body as it came. */
export function routerErrorText(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 500) || '(no body)';
}

export interface FeedbackEntry {
  requestId: string;
  metric: string;
  value: number;
}

/** The true class (a classifier) or value (a regressor) of a request. */
export interface LabelEntry {
  requestId: string;
  label: number | string;
}

/** The typed client: each method is one endpoint of docs/router-api.md. */
export class RouterClient {
  constructor(
    private readonly send: RouterTransport,
    /** The admin token, read when an admin call needs it (a rotated token is picked up). */
    private readonly adminToken: () => Promise<string | undefined> = async () => undefined,
    /** The ingest token for feedback and labels, when the router needs one. */
    private readonly ingestToken: () => Promise<string | undefined> = async () => undefined,
  ) {}

  /** True when the router answers its liveness probe. */
  async live(signal?: AbortSignal): Promise<boolean> {
    const answer = await this.send(routerPaths.live, { method: 'GET', headers: {}, signal }).catch(
      () => undefined,
    );
    return answer?.status === 200;
  }

  async experiments(signal?: AbortSignal): Promise<string[]> {
    const body = await this.json<{ experiments?: { name: string }[] }>(routerPaths.experiments, {
      method: 'GET',
      headers: {},
      signal,
    });
    return (body.experiments ?? []).map((e) => e.name);
  }

  /** Lines of the router's event log that replay quarantined; undefined when there are none. */
  async eventLogHealth(
    signal?: AbortSignal,
  ): Promise<{ quarantined: number; quarantineFile: string } | undefined> {
    const body = await this.json<{ eventLog?: { quarantined: number; quarantineFile: string } }>(
      routerPaths.experiments,
      { method: 'GET', headers: {}, signal },
    );
    return body.eventLog;
  }

  /** The report of the experiment's current run, or of an earlier run by its id. */
  report(experiment: string, signal?: AbortSignal, run?: string): Promise<Report> {
    const path = routerPaths.report(experiment) + (run ? `?run=${encodeURIComponent(run)}` : '');
    return this.json<Report>(path, { method: 'GET', headers: {}, signal });
  }

  /** The experiment's runs, oldest first, and the current one's id (null before the first). */
  runs(experiment: string, signal?: AbortSignal): Promise<{ current: string | null; runs: RunInfo[] }> {
    return this.json(routerPaths.runs(experiment), { method: 'GET', headers: {}, signal });
  }

  /** Starts a new run (admin): from now on the report covers only its traffic. */
  async startRun(experiment: string, reason: string, signal?: AbortSignal): Promise<RunInfo> {
    const body = await this.json<{ run: RunInfo }>(routerPaths.runs(experiment), {
      method: 'POST',
      headers: await this.adminHeaders(),
      body: JSON.stringify({ reason }),
      signal,
    });
    return body.run;
  }

  /** PUT weights: variants left out keep their weight (the router applies the rule of weights.ts). */
  async setWeights(
    experiment: string,
    weights: Record<string, number>,
    signal?: AbortSignal,
  ): Promise<Record<string, number>> {
    const body = await this.json<{ weights: Record<string, number> }>(routerPaths.weights(experiment), {
      method: 'PUT',
      headers: await this.adminHeaders(),
      body: JSON.stringify({ weights }),
      signal,
    });
    return body.weights;
  }

  /** A rollout action; answers the rollout's state after it. */
  async rollout(
    experiment: string,
    action: RolloutAction,
    options: { candidate?: string; overrides?: RolloutOverrides; signal?: AbortSignal } = {},
  ): Promise<RolloutStatus> {
    await this.json<unknown>(routerPaths.rollout(experiment), {
      method: 'POST',
      headers: await this.adminHeaders(),
      body: JSON.stringify({ action, candidate: options.candidate, overrides: options.overrides }),
      signal: options.signal,
    });
    const report = await this.report(experiment, options.signal);
    if (!report.rollout) throw new RouterApiError(500, `the router reports no rollout for ${experiment}`);
    return report.rollout;
  }

  /** POST feedback: outcomes by request id; answers how many the router accepted. */
  async feedback(experiment: string, entries: FeedbackEntry[], signal?: AbortSignal): Promise<number> {
    const body = await this.json<{ accepted?: number }>(routerPaths.feedback(experiment), {
      method: 'POST',
      headers: await this.ingestHeaders(),
      body: JSON.stringify(entries),
      signal,
    });
    return body.accepted ?? entries.length;
  }

  /** POST labels: ground truth by request id; answers how many the router accepted. */
  async labels(experiment: string, entries: LabelEntry[], signal?: AbortSignal): Promise<number> {
    const body = await this.json<{ accepted?: number }>(routerPaths.labels(experiment), {
      method: 'POST',
      headers: await this.ingestHeaders(),
      body: JSON.stringify(entries),
      signal,
    });
    return body.accepted ?? entries.length;
  }

  private async ingestHeaders(): Promise<Record<string, string>> {
    const token = await this.ingestToken();
    return token ? { [INGEST_TOKEN_HEADER]: token } : {};
  }

  private async adminHeaders(): Promise<Record<string, string>> {
    const token = await this.adminToken();
    return token ? { authorization: `Bearer ${token}`, [ADMIN_TOKEN_HEADER]: token } : {};
  }

  private async json<T>(path: string, request: RouterRequest): Promise<T> {
    const headers = request.body
      ? { 'content-type': 'application/json', ...request.headers }
      : request.headers;
    const answer = await this.send(path, { ...request, headers });
    if (answer.status < 200 || answer.status >= 300)
      throw new RouterApiError(answer.status, routerErrorText(answer.text));
    return (answer.text ? JSON.parse(answer.text) : {}) as T;
  }
}

/** The part of `fetch` a transport needs (the global one in Node and browsers, or a test's). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{ status: number; text(): Promise<string> }>;

/** A transport over plain HTTP to a base URL (a router on loopback, a port-forward, the page's own origin). */
export function fetchTransport(baseUrl: string, fetchImpl: FetchLike, timeoutMs = 30_000): RouterTransport {
  const base = baseUrl.replace(/\/+$/, '');
  return async (path, request) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    const res = await fetchImpl(base + path, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal,
    });
    return { status: res.status, text: await res.text() };
  };
}
