import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Client } from '../harness/routerClient';
import { simpleRequest } from '../harness/routerClient';
import { startRoutingFixture, type RoutingFixture } from '../harness/routingFixture';

describe('router: malformed requests, slow clients and metrics (real router process, fake V2 upstreams)', function () {
  let fixture: RoutingFixture | undefined;
  let client: Client;
  let router: RoutingFixture['router'];

  before(async () => {
    fixture = await startRoutingFixture();
    ({ client, router } = fixture);
  });

  after(async () => {
    await fixture?.stop();
  });

  it('refuses malformed requests with the field named: 413, 400, 404, 405', async () => {
    const big = { inputs: [{ name: 'x', shape: [20_000], datatype: 'FP64', data: Array(20_000).fill(1.5) }] };
    assert.equal((await client.infer('propensity', big)).status, 413);
    const cases: [unknown, RegExp][] = [
      ['{"inputs": [', /^malformed JSON/],
      ['', /empty/],
      [[1, 2], /JSON object with "inputs"/],
      [{ inputs: [] }, /^inputs: must not be empty/],
      [
        { inputs: [{ name: 'a', shape: [2], datatype: 'FP64', data: [1] }] },
        /^inputs\[0\]\.data: has 1 elements but shape \[2\] needs 2/,
      ],
      [
        { inputs: [{ name: 'a', shape: [1], datatype: 'FP99', data: [1] }] },
        /^inputs\[0\]\.datatype: must be one of/,
      ],
      [{ inputs: [{ name: 'a', shape: [-1], datatype: 'FP64', data: [] }] }, /^inputs\[0\]\.shape/],
      [
        {
          inputs: [
            { name: 'a', shape: [1], datatype: 'FP64', data: [1] },
            { name: 'b', shape: [1], datatype: 'INT64', data: ['x'] },
          ],
        },
        /^inputs\[1\]\.data\[0\]: INT64 needs numbers, got string/,
      ],
      [{ inputs: [{ shape: [1], datatype: 'FP64', data: [1] }] }, /^inputs\[0\]\.name/],
      [{ ...simpleRequest(), outputs: [{}] }, /^outputs\[0\]\.name/],
    ];
    for (const [body, message] of cases) {
      const res = await client.infer('propensity', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status}`);
      assert.match((res.json() as { error: string }).error, message);
    }
    assert.equal((await client.infer('no-such-model', simpleRequest())).status, 404);
    const noExperiment = await client.send('GET', '/api/v1/experiments/nope/report');
    assert.equal(noExperiment.status, 404);
    assert.match((noExperiment.json() as { error: string }).error, /unknown experiment "nope"/);
    assert.equal((await client.send('GET', '/v2/models/propensity/infer')).status, 405);
    assert.equal((await client.send('GET', '/nothing/here')).status, 404);
    assert.equal(
      (await client.infer('propensity', simpleRequest(), { 'x-request-id': 'x'.repeat(300) })).status,
      400,
    );
  });

  it('times out slow clients: headers that never finish, and a body that never arrives', async () => {
    const slowSocket = (payload: string): Promise<{ ms: number; text: string }> =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const socket = connect(router.port, '127.0.0.1', () => socket.write(payload));
        let text = '';
        socket.on('data', (c) => (text += c.toString()));
        socket.on('close', () => resolve({ ms: Date.now() - started, text }));
        socket.on('error', () => resolve({ ms: Date.now() - started, text }));
        setTimeout(() => reject(new Error('the router kept a slow client for 10 s')), 10_000).unref();
      });
    const headers = await slowSocket('POST /v2/models/propensity/infer HTTP/1.1\r\nHost: x\r\n');
    assert.match(headers.text, /^HTTP\/1\.1 408/);
    const body = await slowSocket(
      'POST /v2/models/propensity/infer HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"inp',
    );
    assert.ok(body.ms < 8_000, `closed after ${body.ms} ms`);
    assert.equal((await client.send('GET', '/v2/health/live')).status, 200);
  });

  it('serves Prometheus metrics labelled by experiment and variant', async () => {
    for (const variant of ['v1', 'v2'])
      assert.equal(
        (await client.infer('propensity', simpleRequest(), { 'x-model-canary-variant': variant })).status,
        200,
      );
    const text = (await client.send('GET', '/metrics')).text;
    assert.match(
      text,
      /model_canary_request_duration_seconds_bucket\{le="0\.005",experiment="propensity",variant="v1",protocol="http"\}/,
    );
    assert.match(
      text,
      /model_canary_requests_total\{experiment="propensity",variant="v2",protocol="http",code="200"\} \d+/,
    );
    assert.match(text, /model_canary_weight\{experiment="propensity",variant="v1"\} 90/);
    assert.match(text, /model_canary_srm_p_value\{experiment="propensity"\}/);
    assert.match(text, /model_canary_rejected_requests_total\{code="400"\}/);
  });
});
