// The router's /metrics under traffic with drift, feedback, a shadow and a rollout, checked by the
// real `promtool check metrics` (Debian's prometheus), and against the exported rules and dashboard.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { grafanaDashboard } from '../../src/manifests/grafanaDashboard';
import { prometheusRuleGroups } from '../../src/manifests/prometheusRules';
import { loadExperimentFile } from '../../src/core/spec/experiment';
import { LATENCY_BUCKETS_SECONDS, ROLLOUT_STATES } from '../../src/shared/metricNames';
import type { Report } from '../../src/shared/report';
import { promtool, referenceRows, rowRequest } from '../harness/monitoring';
import { startRouter, routerDir, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, inParallel } from '../harness/routerClient';
import { TOKEN, auth } from '../harness/routerSuites';
import { SAMPLE_MODELS } from '../harness/tools';
import { startUpstream, type Upstream } from '../harness/upstream';

const EXPERIMENT_FILE = join(SAMPLE_MODELS, 'experiments/propensity.yaml');

describe('router /metrics: promtool check metrics is clean (real router, Debian promtool)', function () {
  this.timeout(60_000);
  let upstreams: Upstream[];
  let dir: string;
  let router: RunningRouter;
  let client: Client;
  let text: string;
  let rolloutState: string | undefined;

  before(async () => {
    upstreams = await Promise.all([startUpstream(), startUpstream(), startUpstream()]);
    const [v1, v2, v3] = upstreams as [Upstream, Upstream, Upstream];
    dir = await routerDir();
    router = await startRouter(
      await writeRouterConfig(dir, {
        adminToken: TOKEN,
        eventLog: { fsyncIntervalMs: 20 },
        experiments: [
          {
            name: 'propensity',
            endpoint: 'propensity',
            experimentFile: EXPERIMENT_FILE,
            variants: [
              { name: 'v1', url: v1.url, model: 'propensity-v1', weight: 50 },
              { name: 'v2', url: v2.url, model: 'propensity-v2', weight: 50 },
            ],
            mirror: { variant: 'v3', url: v3.url, model: 'propensity-v3', percent: 100, maxInFlight: 8 },
          },
        ],
      }),
    );
    client = new Client(router.url, 8);
    const rows = await referenceRows();
    // Ages 30 years older than the reference's on every second request: drift on age.
    const ids: string[] = [];
    await inParallel(400, 8, async (i) => {
      const answer = await client.infer('propensity', rowRequest(rows[i]!, i % 2 ? 30 : 0));
      assert.equal(answer.status, 200, answer.text);
      ids.push(String(answer.headers['x-request-id']));
    });
    const feedback = ids.slice(0, 100).flatMap((requestId, i) => [
      { requestId, metric: 'conversion', value: i % 3 === 0 ? 1 : 0 },
      // Not declared by the experiment: recorded, but it makes no series.
      { requestId, metric: `free-text-${i}`, value: 1 },
    ]);
    assert.equal(
      (await client.send('POST', '/api/v1/experiments/propensity/feedback', feedback)).status,
      202,
    );
    const started = await client.send(
      'POST',
      '/api/v1/experiments/propensity/rollout',
      { action: 'start', candidate: 'v2' },
      auth,
    );
    assert.equal(started.status, 200, started.text);
    await new Promise((r) => setTimeout(r, 1_100)); // the gauges read a report at most a second old
    text = (await client.send('GET', '/metrics')).text;
    rolloutState = ((await client.send('GET', '/api/v1/experiments/propensity/report')).json() as Report)
      .rollout?.state;
  });

  after(async () => {
    await client?.close();
    await router?.stop();
    await Promise.all((upstreams ?? []).map((u) => u.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has no promtool finding (no _total on a gauge, units, help on every metric)', async () => {
    const check = await promtool(['check', 'metrics'], text);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.equal(check.stdout + check.stderr, '');
    // The check can fail: the exposition with one gauge renamed to *_total is refused.
    const bad = text.replace(/model_canary_weight\b/g, 'model_canary_weight_total');
    const refused = await promtool(['check', 'metrics'], bad);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stdout + refused.stderr,
      /model_canary_weight_total non-counter metrics should not have "_total" suffix/,
    );
  });

  it('exposes per variant: requests, errors, latency buckets, drift, SRM, the primary metric and the rollout', () => {
    const series = (re: RegExp): string[] => text.split('\n').filter((l) => re.test(l));
    const le = series(/^model_canary_request_duration_seconds_bucket\{/)
      .filter((l) => l.includes('experiment="propensity",variant="v2",protocol="http"'))
      .map((l) => /le="([^"]+)"/.exec(l)![1]);
    assert.deepEqual(le, [...LATENCY_BUCKETS_SECONDS.map(String), '+Inf']);
    assert.equal(
      series(
        /^model_canary_requests_total\{experiment="propensity",variant="v[12]",protocol="http",code="200"\} \d+/,
      ).length,
      2,
    );
    for (const v of ['v1', 'v2']) {
      for (const [metric, labels] of [
        ['model_canary_drift_p_value', `feature="age",test="ks"`],
        ['model_canary_drift_statistic', `feature="age",test="ks"`],
        ['model_canary_feature_drift_detected', `feature="age",test="ks"`],
        ['model_canary_primary_metric_rate', `metric="conversion"`],
      ] as const)
        assert.equal(
          series(new RegExp(`^${metric}\\{experiment="propensity",variant="${v}",${labels}\\} [0-9.e+-]+$`))
            .length,
          1,
          `${metric} of ${v}`,
        );
    }
    assert.match(
      text,
      /^model_canary_feature_drift_detected\{experiment="propensity",variant="v2",feature="age",test="ks"\} 1$/m,
    );
    assert.match(
      text,
      /^model_canary_primary_metric_always_valid_p_value\{experiment="propensity",variant="v2",metric="conversion"\} [0-9.e-]+$/m,
    );
    assert.match(text, /^model_canary_srm_p_value\{experiment="propensity"\} [0-9.e-]+$/m);
    assert.match(text, /^model_canary_weight\{experiment="propensity",variant="v2"\} \d+$/m);
    assert.match(text, /^model_canary_rollout_step_percent\{experiment="propensity",variant="v2"\} 5$/m);
    assert.ok(rolloutState, 'the report has a rollout');
    const states = series(/^model_canary_rollout_state\{experiment="propensity"/);
    assert.equal(states.length, ROLLOUT_STATES.length, states.join('\n'));
    assert.deepEqual(
      states.filter((l) => l.endsWith(' 1')),
      // Drift pauses the rollout (spec.rollout.drift: pause); the gauge says the report's state.
      [`model_canary_rollout_state{experiment="propensity",state="${rolloutState}"} 1`],
    );
  });

  it("counts feedback only for the experiment's declared metric (bounded label values)", () => {
    assert.match(
      text,
      /^model_canary_feedback_total\{experiment="propensity",variant="v[12]",metric="conversion"\} \d+$/m,
    );
    assert.doesNotMatch(text, /free-text/);
  });

  it('stays within the documented bound on series per experiment (docs/monitoring.md, "Cardinality")', () => {
    const lines = text.split('\n').filter((l) => !l.startsWith('#') && l.includes('experiment="propensity"'));
    // The sample experiment: V = 2 routed variants, S = 1 shadow, F = 6 drift features, G = 3
    // guardrails (p95 latency, error rate, AUC); P protocols and C status codes as observed.
    const V = 2,
      S = 1,
      F = 6,
      G = 3,
      H = LATENCY_BUCKETS_SECONDS.length + 3;
    const P = new Set(lines.map((l) => /protocol="(\w+)"/.exec(l)?.[1]).filter(Boolean)).size;
    const C = new Set(lines.map((l) => /code="(\d+)"/.exec(l)?.[1]).filter(Boolean)).size;
    const bound =
      V * P * (H + C + 1) +
      (V + 1) +
      V +
      S * (H + 3) +
      V +
      2 * V * (F + 1) +
      V * F +
      1 +
      2 +
      V * G +
      V +
      (V - 1) +
      7 +
      1 +
      S;
    console.log(`      ${lines.length} series for the experiment (bound ${bound}; P = ${P}, C = ${C})`);
    assert.ok(lines.length <= bound, `${lines.length} series, over the documented bound ${bound}`);
  });

  it('has every metric the exported rules and the Grafana dashboard query', async () => {
    const exp = await loadExperimentFile(EXPERIMENT_FILE);
    const exprs = [
      ...prometheusRuleGroups(exp).flatMap((g) => g.rules.map((r) => r.expr)),
      ...grafanaDashboard(exp).panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ];
    // Metric names, not the recording rules' `level:metric:operation` names that contain one.
    const used = new Set(
      exprs.flatMap((e) =>
        [...e.matchAll(/(?<![:\w])(model_canary_\w+)/g)].map((m) => m[1]!.replace(/_bucket$/, '')),
      ),
    );
    const exposed = new Set([...text.matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]!));
    assert.ok(used.size >= 10, [...used].join(' '));
    for (const name of used)
      assert.ok(exposed.has(name), `${name} is queried but the router does not expose it`);
  });
});
