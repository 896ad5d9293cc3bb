import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isPortFree } from '../../src/kind/doctor';
import { isAlive } from '../../src/runtime/state';
import type { EnvironmentStatus } from '../../src/runtime/runtime';
import type { Report } from '../../src/shared/report';
import { InferenceClient } from '../harness/grpcClient';
import { copySampleModels, workspaceCli, removeSampleModels } from '../harness/sampleWorkspace';

// The local environment end to end, through the built CLI as a user runs it: real MLServer
// processes serving the sample models, the real router, the simulator, the report.
describe('local environment (real MLServer + router processes, sample-models)', function () {
  let ws: string;
  const cli = workspaceCli(() => ws, 240_000);
  const status = async (): Promise<EnvironmentStatus> =>
    JSON.parse((await cli('status', '--json')).stdout) as EnvironmentStatus;

  before(async () => {
    ws = await copySampleModels('mc-local-');
  });

  after(async () => {
    await removeSampleModels(ws);
  });

  it('up starts the router on a free port and writes state another process can read', async () => {
    const res = await cli('up', '--port', '0', '--json');
    assert.equal(res.exitCode, 0, res.stderr);
    const s = await status();
    assert.equal(s.up, true);
    assert.deepEqual(
      s.components.map((c) => [c.name, c.state]),
      [['router', 'ready']],
    );
  });

  it('deploy refuses an invalid experiment with its file, line and field', async () => {
    const bad = join(ws, 'experiments/bad.yaml');
    const text = await readFile(join(ws, 'experiments/propensity.yaml'), 'utf8');
    await writeFile(
      bad,
      text
        .replace('name: propensity\n', 'name: broken\n')
        .replace('model: propensity-v2', 'model: propensity-v9'),
    );
    const res = await cli('deploy', bad);
    assert.equal(res.exitCode, 2);
    assert.match(res.stderr, /bad\.yaml:\d+:\d+: spec\.variants\[1\]\.model: unknown model "propensity-v9"/);
    await rm(bad);
  });

  it('deploy starts one MLServer per model version and routes the endpoint', async () => {
    const res = await cli('deploy', join(ws, 'experiments/propensity.yaml'), '--json');
    assert.equal(res.exitCode, 0, res.stderr);
    const s = await status();
    assert.deepEqual(
      s.components.map((c) => [c.name, c.state]),
      [
        ['router', 'ready'],
        ['propensity-v1', 'ready'],
        ['propensity-v2', 'ready'],
        ['propensity-v3', 'ready'],
      ],
    );
    assert.deepEqual(
      s.experiments.map((e) => e.name),
      ['propensity'],
    );
    // The router's gRPC front reaches the same experiment, over MLServer's gRPC ports.
    assert.match(s.routerGrpc ?? '', /^127\.0\.0\.1:\d+$/);
    const grpc = new InferenceClient(s.routerGrpc!);
    try {
      assert.deepEqual((await grpc.call('ModelReady', { name: 'propensity' })).response, { ready: true });
      const request = {
        model_name: 'propensity',
        parameters: { content_type: { string_param: 'pd' } },
        inputs: [
          { name: 'age', datatype: 'INT64', shape: [1], contents: { int64_contents: [41] } },
          { name: 'tenure_months', datatype: 'INT64', shape: [1], contents: { int64_contents: [12] } },
          { name: 'sessions_30d', datatype: 'INT64', shape: [1], contents: { int64_contents: [3] } },
          { name: 'basket_value', datatype: 'FP64', shape: [1], contents: { fp64_contents: [52.5] } },
          {
            name: 'channel',
            datatype: 'BYTES',
            shape: [1],
            contents: { bytes_contents: [Buffer.from('web')] },
          },
          {
            name: 'region',
            datatype: 'BYTES',
            shape: [1],
            contents: { bytes_contents: [Buffer.from('east')] },
          },
        ],
      };
      // Forced, so the experiment's own counts (checked below) stay those of the simulation.
      const answer = await grpc.call<{ outputs: { name: string }[] }>('ModelInfer', request, {
        'x-model-canary-variant': 'v2',
      });
      assert.equal(answer.error, undefined, answer.error?.details);
      assert.deepEqual(
        answer.response?.outputs.map((o) => o.name),
        ['predict'],
      );
      assert.equal(answer.headers?.get('x-model-canary-variant')[0], 'v2');
    } finally {
      grpc.close();
    }
  });

  it('simulate + report: v2 converts better, the injected drift is flagged on that feature only, the split passes SRM', async () => {
    const sim = await cli(
      'simulate',
      'propensity',
      '--requests',
      '3000',
      '--rps',
      '1000',
      '--drift',
      'basket_value=shift:+60',
      '--json',
    );
    assert.equal(sim.exitCode, 0, sim.stderr);
    const summary = JSON.parse(sim.stdout) as {
      ok: number;
      errors: number;
      feedbackSent: number;
      labelsSent?: number;
      firstError?: string;
    };
    assert.equal(summary.ok, 3000, summary.firstError);
    assert.equal(summary.feedbackSent, 3000);
    assert.equal(summary.labelsSent, 3000, 'the experiment scores its model: every answer gets its label');
    const report = JSON.parse((await cli('report', 'propensity', '--json')).stdout) as Report;
    const v1 = report.variants.find((v) => v.name === 'v1')!;
    const v2 = report.variants.find((v) => v.name === 'v2')!;
    assert.equal(v1.requests + v2.requests, 3000);
    assert.ok(
      v2.feedback.conversion!.rate > v1.feedback.conversion!.rate,
      `v2 ${v2.feedback.conversion!.rate} > v1 ${v1.feedback.conversion!.rate}`,
    );
    assert.equal(report.srm.mismatch, false, `SRM p = ${report.srm.pValue}`);
    const drifting = new Set(report.drift!.features.filter((f) => f.drift).map((f) => f.name));
    assert.deepEqual([...drifting], ['basket_value']);
    assert.equal(report.drift!.datasetDrift, true);
    assert.ok((report.shadow?.requests ?? 0) > 0, 'the shadow received mirrored traffic');
    assert.ok((report.shadow?.agreement ?? 0) > 0.5);
    // Delayed ground truth scored per variant: every request labelled and scored, v1's AUC (0.66
    // on held-out data) well above chance on ~2,850 labels.
    for (const v of report.modelMetrics!.variants)
      assert.deepEqual([v.labels, v.scored], [v.variant === 'v1' ? v1.requests : v2.requests, v.labels]);
    const auc = report.modelMetrics!.variants.find((v) => v.variant === 'v1')!.auc!;
    assert.ok(auc.value > 0.55 && auc.value < 0.8 && auc.ci95[0] < auc.value, JSON.stringify(auc));
  });

  it("simulate --protocol grpc drives the same experiment through the router's gRPC port", async () => {
    const sim = await cli(
      'simulate',
      'propensity',
      '--protocol',
      'grpc',
      '--requests',
      '60',
      '--rps',
      '100',
      '--json',
    );
    assert.equal(sim.exitCode, 0, sim.stderr);
    const summary = JSON.parse(sim.stdout) as {
      ok: number;
      feedbackSent: number;
      startRow?: number;
      firstError?: string;
    };
    assert.equal(summary.ok, 60, summary.firstError);
    // It goes on after the 3,000 requests of the first simulation: new users, not the same ones again.
    assert.equal(summary.startRow, 3000);
    assert.equal(summary.feedbackSent, 60);
    const metrics = await (await fetch(`${(await status()).routerUrl}/metrics`)).text();
    const grpcRequests = [
      ...metrics.matchAll(/model_canary_requests_total\{[^}]*protocol="grpc",code="200"\} (\d+)/g),
    ]
      .map((m) => Number(m[1]))
      .reduce((a, b) => a + b, 0);
    // The 60 simulated requests and the one forced request of the deploy check.
    assert.equal(grpcRequests, 61);
    const bad = await cli('simulate', 'propensity', '--protocol', 'udp');
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /protocol must be http or grpc, got "udp"/);
  });

  it('split changes the weights the router uses', async () => {
    const res = await cli('split', 'propensity', 'v1=50', 'v2=50');
    assert.equal(res.exitCode, 0, res.stderr);
    const report = JSON.parse((await cli('report', 'propensity', '--json')).stdout) as Report;
    assert.deepEqual(
      report.variants.map((v) => v.weight),
      [50, 50],
    );
  });

  it('re-deploying an edited experiment reaches the router (new guardrail in the report)', async () => {
    const total = (r: Report): number => r.variants.reduce((n, v) => n + v.requests, 0);
    const served = total(JSON.parse((await cli('report', 'propensity', '--json')).stdout) as Report);
    const file = join(ws, 'experiments/propensity.yaml');
    await writeFile(
      file,
      (await readFile(file, 'utf8')).replace('latencyP95Ms: { max: 50 }', 'latencyP95Ms: { max: 500 }'),
    );
    assert.equal((await cli('deploy', file)).exitCode, 0);
    const report = JSON.parse((await cli('report', 'propensity', '--json')).stdout) as Report;
    assert.deepEqual(
      report.guardrails.filter((g) => g.name === 'latencyP95Ms').map((g) => g.limit),
      [500, 500],
    );
    // The second deploy started a run of its own; the first, with the simulated traffic, stays readable.
    const runs = JSON.parse((await cli('runs', 'propensity', '--json')).stdout) as {
      current: string;
      runs: { id: string; reason?: string }[];
    };
    assert.equal(runs.runs.length, 2, JSON.stringify(runs));
    assert.equal(runs.current, runs.runs[1]!.id);
    assert.equal(report.run?.id, runs.current);
    assert.equal(total(report), 0, 'the new run starts empty');
    const first = await cli('report', 'propensity', '--run', runs.runs[0]!.id, '--json');
    const earlier = JSON.parse(first.stdout) as Report;
    assert.equal(earlier.run?.id, runs.runs[0]!.id);
    assert.ok(served >= 3000, `the first run served the simulations (${served})`);
    assert.equal(total(earlier), served);
    const text = (await cli('runs', 'propensity')).stdout.split('\n');
    assert.equal(text.length, 2, text.join('\n'));
    assert.match(
      text[1]!,
      new RegExp(`^${runs.current} · started \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d · deploy · current$`),
    );
    assert.doesNotMatch(text[0]!, /current/);
  });

  it('a killed model server shows up as errors of its variant and in status', async () => {
    const before = JSON.parse((await cli('report', 'propensity', '--json')).stdout) as Report;
    const v2 = (await status()).components.find((c) => c.name === 'propensity-v2')!;
    process.kill(-Number(v2.id), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    const s = await status();
    assert.equal(s.components.find((c) => c.name === 'propensity-v2')?.state, 'stopped');
    await cli('simulate', 'propensity', '--requests', '400', '--rps', '400', '--json');
    const after = JSON.parse((await cli('report', 'propensity', '--json')).stdout) as Report;
    const errorsV2 =
      after.variants.find((v) => v.name === 'v2')!.errors -
      before.variants.find((v) => v.name === 'v2')!.errors;
    const errorsV1 =
      after.variants.find((v) => v.name === 'v1')!.errors -
      before.variants.find((v) => v.name === 'v1')!.errors;
    assert.ok(errorsV2 > 50, `v2 errors ${errorsV2}`);
    assert.equal(errorsV1, 0);
  });

  it('down stops every process and frees every port', async () => {
    const s = await status();
    const pids = s.components.map((c) => Number(c.id));
    const ports = s.components.map((c) => Number(new URL(c.url).port));
    ports.push(Number(s.routerGrpc?.split(':')[1]));
    const res = await cli('down');
    assert.equal(res.exitCode, 0);
    for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} is gone`);
    for (const port of ports) assert.equal(await isPortFree(port), true, `port ${port} is free`);
    assert.equal((await status()).up, false);
  });

  it('up fails with the fix when Python is missing', async () => {
    const res = await cli('up', '--port', '0', '--python', '/nonexistent/python3');
    assert.equal(res.exitCode, 1);
    assert.match(res.stderr, /Python 3 was not found .*--python/);
    assert.equal((await status()).up, false);
  });
});
