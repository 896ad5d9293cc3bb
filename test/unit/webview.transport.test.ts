import assert from 'node:assert/strict';
import type { HostToWebview } from '../../src/shared/protocol';
import type { Report } from '../../src/shared/report';
import { BrowserTransport, TOKEN_KEY, parseExperiments } from '../../webview/transportBrowser';
import type { FetchLike, StorageLike } from '../../webview/transportBrowser';

// The browser transport against a fake router: real request URLs, bodies and headers are
// recorded and answered the way src/router/server.ts answers them.

const REPORT: Report = {
  experiment: 'propensity',
  generatedAt: '2025-11-25T14:00:00.000Z',
  variants: [
    {
      name: 'v1',
      role: 'baseline',
      weight: 95,
      observedShare: 0.95,
      requests: 95,
      errors: 0,
      errorRate: 0,
      latencyMs: { p50: 1, p95: 2, p99: 3 },
      feedback: {},
    },
    {
      name: 'v2',
      role: 'candidate',
      weight: 5,
      observedShare: 0.05,
      requests: 5,
      errors: 0,
      errorRate: 0,
      latencyMs: { p50: 1, p95: 2, p99: 3 },
      feedback: {},
    },
  ],
  srm: { chi2: 0, pValue: 1, mismatch: false },
  comparisons: [],
  guardrails: [],
};

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

function rolloutStatus(state: string, reason: string) {
  return {
    state,
    baseline: 'v1',
    candidate: 'v2',
    stepIndex: 0,
    steps: [5, 25, 50, 100],
    stepStartedAt: 0,
    stepStartRequests: 0,
    awaitingApproval: false,
    approved: false,
    reason,
    gates: [],
    history: [],
  };
}

function fakeRouter(routes: Record<string, (c: Call) => [number, unknown]>): {
  fetch: FetchLike;
  calls: Call[];
} {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    const call = {
      url,
      method: init?.method ?? 'GET',
      headers: init?.headers ?? {},
      ...(init?.body ? { body: init.body } : {}),
    };
    calls.push(call);
    const route = routes[`${call.method} ${new URL(url).pathname}`];
    if (!route) throw new TypeError('fetch failed');
    const [status, body] = route(call);
    return { ok: status < 400, status, text: async () => JSON.stringify(body) };
  };
  return { fetch, calls };
}

function memoryStorage(): StorageLike & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

function transport(
  fetch: FetchLike,
  pageUrl = 'http://127.0.0.1:8090/dashboard/',
  storage = memoryStorage(),
) {
  const messages: HostToWebview[] = [];
  const timers: (() => void)[] = [];
  const t = new BrowserTransport({
    fetch,
    pageUrl,
    storage,
    setTimeout: (fn) => timers.push(fn),
    clearTimeout: () => undefined,
  });
  t.start((m) => messages.push(m));
  return { t, messages, timers, storage };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

const experiments = {
  experiments: [
    {
      name: 'propensity',
      endpoint: 'propensity',
      weights: { v1: 95, v2: 5 },
      variants: [
        { name: 'v1', model: 'propensity-v1' },
        { name: 'v2', model: '<b>v2</b>' },
      ],
    },
    { name: 'churn', endpoint: 'churn', variants: [] },
  ],
};

describe('dashboard in a browser: the HTTP transport', () => {
  it('shows the first experiment the router runs, with its models, polling ../api/v1', async () => {
    const { fetch, calls } = fakeRouter({
      'GET /api/v1/experiments': () => [200, experiments],
      'GET /api/v1/experiments/propensity/report': () => [200, REPORT],
    });
    const { t, messages, timers } = transport(fetch);
    t.send({ type: 'ready' });
    await settle();
    assert.deepEqual(
      calls.map((c) => c.url),
      [
        'http://127.0.0.1:8090/api/v1/experiments',
        'http://127.0.0.1:8090/api/v1/experiments/propensity/report',
      ],
    );
    const state = messages[0];
    assert.equal(state?.type, 'state');
    if (state?.type !== 'state') return;
    assert.equal(state.experiment, 'propensity');
    assert.equal(state.environment, 'router at 127.0.0.1:8090');
    assert.equal(state.routerUrl, 'http://127.0.0.1:8090');
    assert.deepEqual(state.models, { v1: 'propensity-v1', v2: '<b>v2</b>' });
    assert.equal(timers.length, 1, 'the next poll is scheduled');
    timers[0]!();
    await settle();
    assert.equal(calls.length, 3, 'the list is read once; the report on every poll');
  });

  it('shows the experiment named in ?experiment=, even without the list', async () => {
    const { fetch, calls } = fakeRouter({
      'GET /api/v1/experiments/a%2Fb/report': () => [200, { ...REPORT, experiment: 'a/b' }],
    });
    const { t, messages } = transport(fetch, 'http://127.0.0.1:8090/dashboard/?experiment=a%2Fb');
    t.send({ type: 'ready' });
    await settle();
    assert.equal(calls[1]?.url, 'http://127.0.0.1:8090/api/v1/experiments/a%2Fb/report');
    assert.equal(messages[0]?.type, 'state');
  });

  it('says what to do when the router is not there, has no experiment, or answers nonsense', async () => {
    const down = transport(fakeRouter({}).fetch);
    down.t.send({ type: 'ready' });
    await settle();
    assert.equal(down.messages[0]?.type, 'error');
    assert.match(
      (down.messages[0] as { message: string }).message,
      /is the router running\? Or open this page with \?experiment=<name>/,
    );

    const empty = transport(
      fakeRouter({ 'GET /api/v1/experiments': () => [200, { experiments: [] }] }).fetch,
    );
    empty.t.send({ type: 'ready' });
    await settle();
    assert.match((empty.messages[0] as { message: string }).message, /runs no experiment yet — deploy one/);

    const bad = transport(
      fakeRouter({
        'GET /api/v1/experiments': () => [200, experiments],
        'GET /api/v1/experiments/propensity/report': () => [
          200,
          { experiment: 'propensity', variants: 'many' },
        ],
      }).fetch,
    );
    bad.t.send({ type: 'ready' });
    await settle();
    assert.match((bad.messages[0] as { message: string }).message, /does not have the expected shape/);

    const gone = transport(
      fakeRouter({
        'GET /api/v1/experiments': () => [200, experiments],
        'GET /api/v1/experiments/propensity/report': () => [
          404,
          { error: 'unknown experiment "propensity"' },
        ],
      }).fetch,
    );
    gone.t.send({ type: 'ready' });
    await settle();
    assert.match(
      (gone.messages[0] as { message: string }).message,
      /answered 404 for the report: unknown experiment "propensity"/,
    );
  });

  it('PUTs weights with the admin token from sessionStorage, and asks for it when missing or refused', async () => {
    let accepted = 'secret';
    const PROGRESSING = rolloutStatus('Progressing', 'started at 5%');
    const ROLLED_BACK = rolloutStatus('RolledBack', 'rolled back by a user');
    let rollout: ReturnType<typeof rolloutStatus> | undefined;
    const { fetch, calls } = fakeRouter({
      'GET /api/v1/experiments': () => [200, experiments],
      'GET /api/v1/experiments/propensity/report': () => [200, { ...REPORT, rollout }],
      'PUT /api/v1/experiments/propensity/weights': (c) =>
        c.headers.authorization === `Bearer ${accepted}`
          ? [200, { weights: { v1: 75, v2: 25 } }]
          : [401, { error: 'wrong admin token' }],
      'POST /api/v1/experiments/propensity/rollout': (c) => {
        if (c.headers.authorization !== `Bearer ${accepted}`) return [401, { error: 'wrong admin token' }];
        rollout = JSON.parse(c.body!).action === 'abort' ? ROLLED_BACK : PROGRESSING;
        return [200, {}];
      },
    });
    const { t, messages, storage } = transport(fetch);
    t.send({ type: 'ready' });
    await settle();

    t.send({ type: 'setWeights', experiment: 'propensity', weights: { v1: 75, v2: 25 } });
    await settle();
    assert.deepEqual(messages.at(-1), {
      type: 'actionResult',
      action: 'setWeights',
      ok: false,
      message: 'enter the admin token (adminToken in the router config) first',
    });

    t.setToken('secret');
    assert.equal(storage.data.get(TOKEN_KEY), 'secret');
    assert.ok(t.hasToken());
    t.send({ type: 'setWeights', experiment: 'propensity', weights: { v1: 75, v2: 25 } });
    await settle();
    const put = calls.find((c) => c.method === 'PUT')!;
    assert.equal(put.url, 'http://127.0.0.1:8090/api/v1/experiments/propensity/weights');
    assert.equal(put.headers.authorization, 'Bearer secret');
    assert.deepEqual(JSON.parse(put.body!), { weights: { v1: 75, v2: 25 } });
    assert.ok(
      messages.some((m) => m.type === 'actionResult' && m.ok && m.message === 'split set: v1=75 v2=25'),
    );

    // Promote and Roll back drive the router's rollout controller; nothing jumps to 100% here.
    t.send({ type: 'promote', experiment: 'propensity', variant: 'v2' });
    await settle();
    const promoted = calls.filter((c) => c.method === 'POST').at(-1)!;
    assert.equal(promoted.url, 'http://127.0.0.1:8090/api/v1/experiments/propensity/rollout');
    assert.deepEqual(JSON.parse(promoted.body!), {
      action: 'start',
      candidate: 'v2',
      overrides: { promoteWhenEquivalent: true },
    });
    assert.equal(calls.filter((c) => c.method === 'PUT').length, 1, 'a promotion sets no weights itself');
    assert.ok(
      messages.some(
        (m) =>
          m.type === 'actionResult' &&
          m.ok &&
          m.message === 'promoting v2: rollout Progressing — started at 5%',
      ),
    );
    t.send({ type: 'rollback', experiment: 'propensity' });
    await settle();
    assert.deepEqual(JSON.parse(calls.filter((c) => c.method === 'POST').at(-1)!.body!), { action: 'abort' });
    assert.ok(
      messages.some(
        (m) => m.type === 'actionResult' && m.ok && m.message === 'rolled back: rolled back by a user',
      ),
    );

    accepted = 'rotated';
    t.send({ type: 'rollback', experiment: 'propensity' });
    await settle();
    const refused = messages.filter((m) => m.type === 'actionResult').at(-1);
    assert.equal(refused?.type === 'actionResult' && refused.ok, false);
    assert.match((refused as { message: string }).message, /refused the admin token \(wrong admin token\)/);
    assert.equal(t.hasToken(), false, 'a refused token is forgotten');
  });

  it('keeps UI state in session storage and survives a broken store', () => {
    const storage = memoryStorage();
    const { t } = transport(fakeRouter({}).fetch, undefined, storage);
    t.saveUiState({ v: 1, drift: [] });
    assert.deepEqual(t.loadUiState(), { v: 1, drift: [] });
    storage.data.set('modelCanary.dashboard', '{not json');
    assert.equal(t.loadUiState(), undefined);
  });

  it('reads the experiment list defensively', () => {
    assert.deepEqual(
      parseExperiments({
        experiments: [{ name: 'a', variants: [{ name: 'v1', model: 'm' }, { name: 2 }] }, { name: '' }, null],
      }),
      [{ name: 'a', models: { v1: 'm' } }],
    );
    assert.deepEqual(parseExperiments('nope'), []);
  });
});
