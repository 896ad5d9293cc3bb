import assert from 'node:assert/strict';
import { parseCsv } from '../../src/core/drift';
import { RouterClient, fetchTransport } from '../../src/shared/routerApi';
import type { LabelEvent, RequestEvent } from '../../src/shared/events';
import type { Report } from '../../src/shared/report';
import { simulate } from '../../src/simulator/simulator';
import { seededRandom } from '../../src/core/stats/random';
import { inParallel, readEvents, simpleRequest } from '../harness/routerClient';
import { until } from '../harness/routerSuites';
import { startTwoArmRouter, type TwoArmRouter } from '../harness/twoArmRouter';
import { fakeClass } from '../harness/upstream';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postLabels } from '../../src/operations/label';
import type { Runtime } from '../../src/runtime/runtime';

// #15 item 8: delayed ground truth through a real router process on loopback, in front of real
// V2 upstreams (test/harness/upstream.ts: class = age > 40, score = age / 80). The report scores
// each variant's recorded predictions against the labels and judges the model guardrail.

/** Mann–Whitney AUC by counting pairs (ties ½): independent of the report's histogram. */
function pairAuc(scores: number[], labels: number[]): number {
  let pairs = 0;
  let wins = 0;
  scores.forEach((sp, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((sn, j) => {
      if (labels[j] !== 0) return;
      pairs++;
      wins += sp > sn ? 1 : sp === sn ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

describe('router: labels and model metrics (real router process, V2 upstreams)', function () {
  let arms: TwoArmRouter;
  let api: RouterClient;

  before(async () => {
    arms = await startTwoArmRouter({
      name: 'quality',
      weights: [50, 50],
      metric: { name: 'conversion', kind: 'proportion' },
      metricsExtra:
        'model: { task: classification, positiveClass: 1 }, guardrails: { model: { minLabels: 100, auc: { maxDrop: 0.01 } } }',
    });
    api = new RouterClient(fetchTransport(arms.router.url, fetch));
  });

  after(async () => {
    await arms?.stop();
  });

  it('scores labels per variant, keeps the latest, sets forced ones aside, and rolls back a candidate whose AUC fell', async () => {
    const random = seededRandom(8);
    const sent: { id: string; age: number; variant: string; forced: boolean }[] = [];
    const ages = Array.from({ length: 900 }, () => 20 + Math.floor(random() * 50));
    await inParallel(ages.length, 16, async (i) => {
      const id = `q-${i}`;
      const forced = i % 30 === 0;
      const headers: Record<string, string> = {
        'x-request-id': id,
        ...(forced ? { 'x-model-canary-variant': 'v2' } : {}),
      };
      const res = await arms.client.infer('quality', simpleRequest(ages[i]), headers);
      assert.equal(res.status, 200, res.text);
      sent.push({ id, age: ages[i]!, variant: String(res.headers['x-model-canary-variant']), forced });
    });
    // The truth follows v1's score; v2's requests get labels its score cannot rank (a worse model there).
    const truth = new Map(
      sent.map((s) => [s.id, s.variant === 'v1' ? (random() < s.age / 80 ? 1 : 0) : random() < 0.3 ? 1 : 0]),
    );
    // Every 5th request first gets the opposite label; the second post replaces it.
    const wrong = sent
      .filter((_, i) => i % 5 === 0)
      .map((s) => ({ requestId: s.id, label: 1 - truth.get(s.id)! }));
    assert.equal(await api.labels('quality', wrong), wrong.length);
    const all = sent.map((s) => ({ requestId: s.id, label: truth.get(s.id)! }));
    assert.equal(await api.labels('quality', all), all.length);

    // All or nothing: one unknown id refuses the batch, naming it; a bad label names its field.
    const unknown = await arms.client.send('POST', '/api/v1/experiments/quality/labels', [
      { requestId: sent[1]!.id, label: 0 },
      { requestId: 'never-routed', label: 1 },
    ]);
    assert.equal(unknown.status, 404);
    assert.match(
      (unknown.json() as { error: string }).error,
      /unknown request id "never-routed" for experiment quality.*nothing was recorded/,
    );
    const bad = await arms.client.send('POST', '/api/v1/experiments/quality/labels', [
      { requestId: sent[1]!.id, label: {} },
    ]);
    assert.equal(bad.status, 400);
    assert.match((bad.json() as { error: string }).error, /\[0\]\.label: must be the true class/);

    const logged = readEvents(join(arms.dir, 'data')).filter((e): e is LabelEvent => e.type === 'label');
    assert.equal(logged.length, wrong.length + all.length, 'refused batches record nothing');
    for (const e of logged) assert.equal(e.variant, sent.find((s) => s.id === e.id)!.variant);

    const report = await until('the labels in the report', async () => {
      const r = (await arms.client.send('GET', '/api/v1/experiments/quality/report')).json() as Report;
      return r.modelMetrics?.variants.every((v) => v.scored > 0) ? r : undefined;
    });
    const m = report.modelMetrics!;
    // Label events for forced requests are counted beside the metrics (both posts of a relabelled one).
    const isForced = new Set(sent.filter((s) => s.forced).map((s) => s.id));
    assert.equal(m.excludedLabels, [...wrong, ...all].filter((l) => isForced.has(l.requestId)).length);
    // The expected values come from what the upstream answered (class = age > 40, score = age / 80),
    // over the requests whose score the router recorded (it learns a model's outputs on its first answers).
    const recorded = new Map(
      readEvents(join(arms.dir, 'data'))
        .filter((e): e is RequestEvent => e.type === 'request')
        .map((e) => [e.id, e.outputs]),
    );
    for (const name of ['v1', 'v2']) {
      const arm = sent.filter((s) => s.variant === name && !s.forced);
      const withScore = arm.filter((s) => recorded.get(s.id)?.proba !== undefined);
      assert.ok(
        withScore.length > arm.length - 20,
        `${name}: ${withScore.length} of ${arm.length} scores recorded`,
      );
      for (const s of withScore)
        assert.equal(recorded.get(s.id)!.proba, Math.min(0.99, Math.max(0.01, s.age / 80)));
      const labels = withScore.map((s) => truth.get(s.id)!);
      const correct = arm.filter((s) => fakeClass(s.age) === truth.get(s.id)).length;
      const got = m.variants.find((v) => v.variant === name)!;
      assert.equal(got.labels, arm.length, `${name}: one label per request`);
      assert.equal(got.scored, arm.length);
      assert.ok(Math.abs(got.accuracy!.value - correct / arm.length) < 1e-12, `${name} accuracy`);
      const auc = pairAuc(
        withScore.map((s) => s.age / 80),
        labels,
      );
      assert.ok(Math.abs(got.auc!.value - auc) < 1e-12, `${name} AUC ${got.auc!.value} vs ${auc}`);
      assert.equal(got.positives, labels.filter((y) => y === 1).length);
    }
    const v1 = m.variants.find((v) => v.variant === 'v1')!;
    const v2 = m.variants.find((v) => v.variant === 'v2')!;
    console.log(
      `      AUC v1 ${v1.auc!.value.toFixed(3)} ${JSON.stringify(v1.auc!.ci95)}, v2 ${v2.auc!.value.toFixed(3)} ${JSON.stringify(v2.auc!.ci95)}`,
    );
    const guardrail = report.guardrails.find((g) => g.name === 'model.auc')!;
    assert.equal(guardrail.variant, 'v2');
    assert.equal(guardrail.ok, false, guardrail.detail);
    assert.equal(report.comparisons[0]!.decision, 'rollback');
    assert.match(
      report.comparisons[0]!.reason,
      /guardrail model\.auc breached: model\.auc of v2 − v1 = −0\.\d+/,
    );

    // A restarted router replays the log into the same model metrics.
    await arms.restart();
    const replayed = (await arms.client.send('GET', '/api/v1/experiments/quality/report')).json() as Report;
    assert.deepEqual(replayed.modelMetrics, m);
  });

  it('the simulator posts each answered request’s label after a delay', async function () {
    this.timeout(60_000);
    const rows = Array.from({ length: 300 }, (_, i) => ({
      user_id: `s-${i}`,
      age: 20 + (i % 50),
      converted: i % 3 === 0 ? 1 : 0,
    }));
    const data = parseCsv(
      ['user_id,age,converted', ...rows.map((r) => `${r.user_id},${r.age},${r.converted}`)].join('\n'),
    );
    // The first test restarted the router: on a new port.
    api = new RouterClient(fetchTransport(arms.router.url, fetch));
    const before = (await api.report('quality')).modelMetrics!.variants.reduce((n, v) => n + v.labels, 0);
    const startedAt = Date.now();
    const summary = await simulate({
      routerUrl: arms.router.url,
      experiment: 'quality',
      endpoint: 'quality',
      data,
      metric: 'conversion',
      requests: rows.length,
      rps: 300,
      labels: { delayMs: 1500 },
    });
    assert.equal(summary.ok, rows.length, summary.firstError);
    assert.equal(summary.labelsSent, rows.length, summary.firstError);
    assert.ok(Date.now() - startedAt >= 1500, 'the last labels waited for their delay');
    const after = (await api.report('quality')).modelMetrics!.variants.reduce((n, v) => n + v.labels, 0);
    assert.equal(after - before, rows.length);
  });

  it('model-canary label’s operation posts a CSV or JSON Lines file in batches the router accepts', async () => {
    api = new RouterClient(fetchTransport(arms.router.url, fetch));
    const ids: string[] = [];
    await inParallel(30, 8, async (i) => {
      const res = await arms.client.infer('quality', simpleRequest(30 + i), { 'x-request-id': `file-${i}` });
      assert.equal(res.status, 200);
      ids.push(`file-${i}`);
    });
    const dir = await mkdtemp(join(tmpdir(), 'mc-labels-'));
    try {
      const csv = join(dir, 'labels.csv');
      await writeFile(
        csv,
        ['requestId,label', ...ids.slice(0, 20).map((id, i) => `${id},${i % 2}`)].join('\n'),
      );
      const jsonl = join(dir, 'labels.jsonl');
      await writeFile(
        jsonl,
        ids
          .slice(20)
          .map((id) => JSON.stringify({ requestId: id, label: 1 }))
          .join('\n'),
      );
      const runtime = { router: async () => api } as unknown as Runtime;
      const before = (await api.report('quality')).modelMetrics!.variants.reduce((n, v) => n + v.labels, 0);
      assert.deepEqual(await postLabels(runtime, { experiment: 'quality', file: csv }), {
        experiment: 'quality',
        accepted: 20,
      });
      assert.deepEqual(await postLabels(runtime, { experiment: 'quality', file: jsonl }), {
        experiment: 'quality',
        accepted: 10,
      });
      const after = (await api.report('quality')).modelMetrics!.variants.reduce((n, v) => n + v.labels, 0);
      assert.equal(after - before, 30);
      const metrics = (await arms.client.send('GET', '/metrics')).text;
      const counted = [
        ...metrics.matchAll(/^model_canary_labels_total\{[^}]*experiment="quality"[^}]*\} (\d+)$/gm),
      ];
      assert.ok(counted.reduce((n, m) => n + Number(m[1]), 0) >= 30, metrics.slice(0, 300));
      await assert.rejects(
        postLabels(runtime, { experiment: 'quality', requestId: 'nobody', label: '1' }),
        /labels 1–1 for quality were refused \(HTTP 404\): unknown request id "nobody"/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a regressor takes numbers only and gets its MAE and RMSE', async () => {
    const reg = await startTwoArmRouter({
      name: 'eta',
      weights: [50, 50],
      metric: { name: 'minutes', kind: 'continuous' },
      metricsExtra: 'model: { task: regression }',
    });
    try {
      const sent: { id: string; predicted: number }[] = [];
      await inParallel(200, 8, async (i) => {
        const res = await reg.client.infer('eta', simpleRequest(20 + (i % 50)), { 'x-request-id': `e-${i}` });
        assert.equal(res.status, 200);
        sent.push({ id: `e-${i}`, predicted: fakeClass(20 + (i % 50)) });
      });
      const word = await reg.client.send('POST', '/api/v1/experiments/eta/labels', {
        requestId: 'e-1',
        label: 'late',
      });
      assert.equal(word.status, 400);
      assert.match(
        (word.json() as { error: string }).error,
        /label: must be a finite number — this experiment's model is a regressor/,
      );
      const truth = (i: number): number => (i % 7) / 2;
      const labels = sent.map((s) => ({ requestId: s.id, label: truth(Number(s.id.slice(2))) }));
      assert.equal((await reg.client.send('POST', '/api/v1/experiments/eta/labels', labels)).status, 202);
      const m = ((await reg.client.send('GET', '/api/v1/experiments/eta/report')).json() as Report)
        .modelMetrics!;
      const errors = sent.map((s) => s.predicted - truth(Number(s.id.slice(2))));
      const mae = errors.reduce((n, e) => n + Math.abs(e), 0) / errors.length;
      const total = m.variants.reduce((n, v) => n + v.scored, 0);
      assert.equal(total, sent.length);
      const pooled = m.variants.reduce((n, v) => n + v.mae!.value * v.scored, 0) / total;
      assert.ok(Math.abs(pooled - mae) < 1e-9, `MAE ${pooled} vs ${mae}`);
      assert.ok(m.variants.every((v) => v.rmse!.value >= v.mae!.value && v.rmse!.ci95[0] <= v.rmse!.value));
    } finally {
      await reg.stop();
    }
  });
});
