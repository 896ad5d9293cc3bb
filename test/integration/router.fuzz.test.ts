import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readFile, rm } from 'node:fs/promises';
import { startRouter, routerDir, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, inParallel, simpleRequest } from '../harness/routerClient';
import { auth, TOKEN } from '../harness/routerSuites';
import { startUpstream, type Upstream } from '../harness/upstream';

describe('router: fuzzing (real router process)', function () {
  let up: Upstream;
  let dir: string;
  let router: RunningRouter;

  before(async () => {
    up = await startUpstream();
    dir = await routerDir();
    router = await startRouter(
      await writeRouterConfig(dir, {
        adminToken: TOKEN,
        limits: { maxBodyBytes: 256 * 1024 },
        timeouts: { headersMs: 2_000, requestMs: 4_000 },
        experiments: [
          {
            name: 'fuzz',
            endpoint: 'fuzz',
            variants: [
              { name: 'a', url: up.url, model: 'm', weight: 1 },
              { name: 'b', url: up.url, model: 'm2', weight: 1 },
            ],
            sticky: { header: 'x-user-id' },
          },
        ],
      }),
    );
  });

  after(async () => {
    await router?.stop();
    await up?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const rss = async (): Promise<number> => {
    const status = await readFile(`/proc/${router.proc.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
  };

  it('survives thousands of generated malformed requests with 4xx answers and bounded memory', async () => {
    // A seeded generator (mulberry32), so a failure can be replayed.
    let seed = 0x5eed;
    const rand = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const junkValue = (depth = 0): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.3) return pick([null, true, -1, 1e308, 'x', '', 0.5, 'ü\u0000', []]);
      if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => junkValue(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(rand() * 4) }, () => [
          pick(['inputs', 'outputs', 'name', 'shape', 'data', 'datatype', 'id', 'x']),
          junkValue(depth + 1),
        ]),
      );
    };
    const mutate = (): unknown => {
      const req = structuredClone(simpleRequest()) as {
        inputs: Record<string, unknown>[];
        outputs?: unknown;
      };
      const input = req.inputs[0]!;
      const field = pick(['name', 'shape', 'datatype', 'data', 'parameters', 'outputs', 'inputs']);
      const value = junkValue();
      if (field === 'outputs') req.outputs = value;
      else if (field === 'inputs') (req as Record<string, unknown>).inputs = value;
      else input[field] = value;
      return req;
    };
    const rawBytes = (): Buffer =>
      Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
    const deep = (): string => '['.repeat(5_000) + ']'.repeat(5_000);

    const client = new Client(router.url, 16);
    await inParallel(200, 16, () => client.infer('fuzz', simpleRequest())); // warm up
    const baseline = await rss();
    const statuses = new Map<number, number>();
    await inParallel(6_000, 32, async (i) => {
      const kind = i % 8;
      let res;
      try {
        if (kind === 0) res = await client.infer('fuzz', rawBytes());
        else if (kind === 1) res = await client.infer('fuzz', junkValue());
        else if (kind === 2 || kind === 3)
          res = await client.infer('fuzz', mutate(), { 'x-user-id': String(rand()) });
        else if (kind === 4) res = await client.infer('fuzz', `{"inputs":${deep()}}`);
        else if (kind === 5)
          res = await client.send(
            'POST',
            '/api/v1/experiments/fuzz/feedback',
            pick([junkValue(), [junkValue()], rawBytes()]) as string,
          );
        else if (kind === 6)
          res = await client.send(
            'PUT',
            '/api/v1/experiments/fuzz/weights',
            { weights: junkValue() },
            pick([auth, {}]),
          );
        else
          res = await client.send(
            pick(['POST', 'PUT'] as const),
            pick([
              '/v2/models/%ZZ/infer',
              '/v2/models//infer',
              '/api/v1/experiments/%/report',
              '/v2/models/fuzz/infer?x=%%',
              '/%C3%A9',
              '/metrics/x',
            ]),
            rawBytes().toString('latin1'),
            { 'x-model-canary-variant': pick(['a', 'zz', 'b']) },
          );
      } catch (err) {
        assert.fail(`request ${i} (kind ${kind}) failed at the transport level: ${(err as Error).message}`);
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    });
    await client.close();

    // Broken HTTP on raw sockets: garbage, huge headers, bodies cut short.
    const raw = (payload: string | Buffer): Promise<string> =>
      new Promise((resolve) => {
        const socket = connect(router.port, '127.0.0.1', () => {
          socket.write(payload);
          setTimeout(() => socket.end(), 20);
        });
        let text = '';
        socket.on('data', (c) => (text += c.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
      });
    for (let i = 0; i < 300; i++) {
      const payloads = [
        rawBytes(),
        `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        'POST /v2/models/fuzz/infer HTTP/1.1\r\nHost: x\r\ncontent-length: 50\r\n\r\n{"in',
        'POST /v2/models/fuzz/infer HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
        'GET /v2/health/live HTTP/9.9\r\n\r\n',
      ];
      await raw(pick(payloads));
    }

    const after = await rss();
    const fiveHundreds = [...statuses].filter(([s]) => s >= 500);
    assert.deepEqual(fiveHundreds, [], `statuses: ${JSON.stringify([...statuses])}`);
    const check = new Client(router.url, 1);
    assert.equal((await check.send('GET', '/v2/health/live')).status, 200, 'still alive');
    assert.equal((await check.infer('fuzz', simpleRequest())).status, 200, 'still routing');
    await check.close();
    assert.equal(router.proc.exitCode, null);
    assert.ok(
      after < baseline + 150 * 1024 * 1024,
      `RSS grew from ${baseline >> 20} MB to ${after >> 20} MB`,
    );
    assert.doesNotMatch(router.output(), /error on /, 'no handler crashed');
  });
});
