/**
 * The HTTP binary tensor extension (tritonclient's default) on the router's HTTP front: binary
 * inputs are decoded for an upstream that speaks JSON only, outputs go back binary when asked,
 * and every malformed framing gets a 400 that names it.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { routerDir, startRouter, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client } from '../harness/routerClient';
import { startUpstream, type Upstream } from '../harness/upstream';

describe('router: the HTTP binary tensor extension (real router process, fake V2 upstreams)', function () {
  let v1: Upstream, v2: Upstream;
  let dir: string;
  let router: RunningRouter;
  let http: Client;

  before(async () => {
    [v1, v2] = await Promise.all([startUpstream(), startUpstream()]);
    dir = await routerDir();
    const file = await writeRouterConfig(dir, {
      experiments: [
        {
          name: 'propensity',
          endpoint: 'propensity',
          variants: [
            { name: 'v1', url: v1.url, model: 'propensity-v1', weight: 50, role: 'baseline' },
            { name: 'v2', url: v2.url, model: 'propensity-v2', weight: 50 },
          ],
        },
      ],
    });
    router = await startRouter(file);
    http = new Client(router.url);
  });

  after(async () => {
    await http?.close();
    await router?.stop();
    await Promise.all([v1, v2].map((u) => u?.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('decodes binary inputs for the upstream, answers binary outputs, names what is wrong', async () => {
    const post = async (json: object, binary: Buffer, headerLength?: number) => {
      const head = Buffer.from(JSON.stringify(json));
      const res = await http.pool.request({
        method: 'POST',
        path: '/v2/models/propensity/infer',
        headers: {
          'inference-header-content-length': String(headerLength ?? head.length),
          'x-request-id': 'bin-1',
        },
        body: Buffer.concat([head, binary]),
      });
      return {
        status: res.statusCode,
        headers: res.headers,
        body: Buffer.from(await res.body.arrayBuffer()),
      };
    };
    const data = Buffer.alloc(16);
    data.writeDoubleLE(55, 0);
    data.writeDoubleLE(12, 8);
    const request = {
      inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP64', parameters: { binary_data_size: 16 } }],
      parameters: { binary_data_output: true },
    };
    const ok = await post(request, data);
    assert.equal(ok.status, 200, ok.body.toString());
    const n = Number(ok.headers['inference-header-content-length']);
    const head = JSON.parse(ok.body.subarray(0, n).toString()) as {
      outputs: { name: string; parameters: { binary_data_size: number } }[];
    };
    assert.equal(head.outputs[0]!.name, 'predict');
    assert.equal(head.outputs[0]!.parameters.binary_data_size, 8);
    assert.equal(ok.body.readBigInt64LE(n), 1n);
    const sent = [...v1.calls, ...v2.calls].filter((c) => c.requestId === 'bin-1').at(-1)!.body as {
      inputs: { data: number[]; parameters?: unknown }[];
      parameters?: unknown;
    };
    assert.deepEqual(sent.inputs[0], { name: 'x', shape: [1, 2], datatype: 'FP64', data: [55, 12] });
    assert.equal(sent.parameters, undefined, 'the binary parameters stay at the router');

    const cases: [Awaited<ReturnType<typeof post>>, RegExp][] = [
      [await post(request, data, 10_000), /^inference-header-content-length: must be the byte length/],
      [await post(request, data.subarray(0, 8)), /binary_data_size: 16 bytes, but only 8 follow the JSON/],
      [
        await post(request, Buffer.concat([data, Buffer.alloc(3)])),
        /^3 bytes after the JSON belong to no input/,
      ],
      [
        await post(
          { inputs: [{ ...request.inputs[0]!, parameters: { binary_data_size: 8 } }] },
          data.subarray(0, 8),
        ),
        /has 8 bytes but the shape needs 2 FP64 elements/,
      ],
    ];
    for (const [res, message] of cases) {
      assert.equal(res.status, 400, res.body.toString());
      assert.match((JSON.parse(res.body.toString()) as { error: string }).error, message);
    }
  });
});
