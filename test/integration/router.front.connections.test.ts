/**
 * The raw HTTP front's connections (src/router/front/): pipelined requests in order, requests in
 * tiny pieces, a connection handed to node:http at its first other request, a head written byte
 * by byte, the shadow after the answer, the slow-client timeouts (the same 408 as node:http), a
 * fuzz of mutated heads, and a graceful stop. With NODE_DEBUG=http the router prints a line for
 * each connection node:http takes, which shows whether the raw front served one on its own.
 */
import assert from 'node:assert/strict';
import { simpleRequest } from '../harness/routerClient';
import { startFrontPair, type FrontPair } from '../harness/frontPair';
import { exchange, headerOf, request, type RawAnswer } from '../harness/rawHttp';

const INFER = '/v2/models/front/infer';
const OK = JSON.stringify(simpleRequest());
const infer = (id: string, headers: Record<string, string> = {}): Buffer =>
  request('POST', INFER, OK, { 'content-type': 'application/json', 'x-request-id': id, ...headers });
const ids = (answers: RawAnswer[]): (string | undefined)[] => answers.map((a) => headerOf(a, 'x-request-id'));

describe('router: the raw HTTP front on its connections (real router processes)', function () {
  this.timeout(120_000);
  let pair: FrontPair;
  const TIMEOUTS = { headersMs: 600, requestMs: 1_500, keepAliveMs: 1_000 };
  /** Connections node:http took so far on the raw-front router. */
  const handedOver = (): number => pair.raw.output().match(/SERVER new http connection/g)?.length ?? 0;

  before(async () => {
    pair = await startFrontPair(
      { timeouts: TIMEOUTS, limits: { maxBodyBytes: 4096 } },
      { NODE_DEBUG: 'http' },
    );
  });

  after(async () => {
    await pair?.close();
  });

  it('serves pipelined requests in order, and requests in tiny pieces, without node:http', async () => {
    const before = handedOver();
    const pipelined = await exchange(
      pair.raw.port,
      [Buffer.concat([infer('p1'), infer('p2'), infer('p3')])],
      {
        answers: 3,
      },
    );
    assert.deepEqual(ids(pipelined.answers), ['p1', 'p2', 'p3']);
    assert.deepEqual(
      pipelined.answers.map((a) => a.status),
      [200, 200, 200],
    );
    assert.equal(pipelined.closed, false);

    // The head in 40 pieces, the body byte by byte.
    const bytes = infer('tiny');
    const split = bytes.indexOf('\r\n\r\n') + 4;
    const step = Math.ceil(split / 40);
    const pieces = [
      ...Array.from({ length: Math.ceil(split / step) }, (_, i) =>
        bytes.subarray(i * step, Math.min(split, (i + 1) * step)),
      ),
      ...[...bytes.subarray(split)].map((b) => Buffer.from([b])),
    ];
    const tiny = await exchange(pair.raw.port, pieces, { gapMs: 1 });
    assert.deepEqual(ids(tiny.answers), ['tiny']);
    assert.equal(tiny.answers[0]!.status, 200, tiny.answers[0]!.body.toString());

    const later = await exchange(
      pair.raw.port,
      [infer('later').subarray(0, split), infer('later').subarray(split)],
      {
        gapMs: 300,
      },
    );
    assert.equal(later.answers[0]?.status, 200);
    assert.equal(handedOver(), before, 'no connection went to node:http');
  });

  it('hands a connection to node:http at its first other request, answers staying in order', async () => {
    const before = handedOver();
    const metrics = request('GET', '/metrics');
    for (const pieces of [
      [Buffer.concat([infer('m1'), metrics, infer('m2')])],
      [infer('m3'), metrics, infer('m4')],
    ]) {
      const mixed = await exchange(pair.raw.port, pieces, { answers: 3, gapMs: 100 });
      assert.deepEqual(
        mixed.answers.map((a) => a.status),
        [200, 200, 200],
      );
      assert.match(mixed.answers[1]!.body.toString(), /model_canary_requests_total/);
      assert.equal(headerOf(mixed.answers[0]!, 'x-model-canary-variant'), 'a');
      assert.equal(headerOf(mixed.answers[2]!, 'x-model-canary-variant'), 'a');
      assert.equal(mixed.closed, false);
    }
    // A head written byte by byte: past 64 pieces node:http's incremental parser takes it.
    const bytewise = await exchange(
      pair.raw.port,
      [...infer('bytewise')].map((b) => Buffer.from([b])),
      { gapMs: 1 },
    );
    assert.deepEqual(ids(bytewise.answers), ['bytewise']);
    assert.equal(bytewise.answers[0]!.status, 200);
    assert.equal(handedOver(), before + 3, 'each connection went to node:http once');
  });

  it('mirrors to the shadow once the answer is written', async () => {
    const shadowCalls = (): number => pair.upstream.calls.filter((c) => c.model === 'shadow').length;
    const before = shadowCalls();
    const answered = await exchange(pair.raw.port, [infer('shadowed')]);
    assert.equal(answered.answers[0]?.status, 200);
    for (let i = 0; i < 100 && shadowCalls() === before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(shadowCalls(), before + 1);
  });

  it('closes slow and idle connections as node:http does (408 for a slow head or body)', async () => {
    const head = infer('slow');
    const cases: [string, (string | Buffer)[]][] = [
      ['head never completed', [head.subarray(0, 30)]],
      ['body never completed', [head.subarray(0, head.length - 5)]],
      ['nothing sent', []],
      ['idle after an answer', [infer('idle')]],
    ];
    for (const [name, pieces] of cases) {
      const timed = async (port: number): Promise<{ ms: number; answers: string[]; closed: boolean }> => {
        const t0 = performance.now();
        const r = await exchange(port, pieces, { answers: 99, timeoutMs: 8_000 });
        return { ms: performance.now() - t0, answers: r.answers.map((a) => a.comparable), closed: r.closed };
      };
      const [raw, node] = await Promise.all([timed(pair.raw.port), timed(pair.node.port)]);
      console.log(
        `      ${name}: raw front closed after ${raw.ms.toFixed(0)} ms, node:http after ${node.ms.toFixed(0)} ms`,
      );
      assert.equal(raw.closed, true, `${name}: closed`);
      assert.ok(raw.ms < 5_000, `${name}: closed within the timeouts`);
      assert.deepEqual(raw.answers.map(masked), node.answers.map(masked), `${name}: the same answers`);
    }
    function masked(text: string): string {
      return text.replace(/x-request-id: [^\r]*/, 'x-request-id: <id>');
    }
  });
  it('ends every connection of a fuzz of mutated heads with an answer or a close, and keeps routing', async () => {
    // A seeded generator (mulberry32), so a failure can be replayed.
    let seed = 0xf20;
    const rand = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const int = (n: number): number => Math.floor(rand() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
    const inserts = [
      '\r\n',
      '\n',
      '\r',
      ':',
      ' ',
      '\x00',
      '\t',
      '\xff',
      '%',
      'HTTP/1.0',
      'Transfer-Encoding: chunked\r\n',
      'Content-Length: 7\r\n',
      'Connection: close\r\n',
      'Connection: upgrade\r\n',
      'Expect: 100-continue\r\n',
      'x-model-canary-variant: b\r\n',
      'origin: https://evil.example\r\n',
      'host: evil.example\r\n',
    ];
    // A third are mild (a header line from the list, maybe a second request behind): most of
    // those stay on the raw front; the rest are mangled and mostly end at node:http.
    const mild = (i: number): Buffer => {
      const text = infer(`fuzz-${i}`).toString('latin1');
      const at = text.indexOf('\r\n') + 2;
      const one = Buffer.from(
        text.slice(0, at) + pick(inserts.filter((x) => x.endsWith('\r\n'))) + text.slice(at),
        'latin1',
      );
      return rand() < 0.5 ? one : Buffer.concat([one, infer(`fuzz-${i}-next`)]);
    };
    const mutated = (i: number): Buffer => {
      if (i % 3 === 0) return mild(i);
      let b = Buffer.from(
        infer(`fuzz-${i}`)
          .toString('latin1')
          .replace('POST', pick(['POST', 'GET', 'PUT', 'post', 'P0ST', '']))
          .replace(/content-length: \d+/, (m) =>
            rand() < 0.3
              ? `content-length: ${pick(['-1', '99999999999999999999', '0', ' 5', '5 5', '0x10', '', String(int(400))])}`
              : m,
          ),
        'latin1',
      );
      for (let n = 1 + int(3); n > 0; n--) {
        const at = int(b.length);
        const kind = int(4);
        if (kind === 0) b[at] = int(256);
        else if (kind === 1) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + int(20))]);
        else if (kind === 2)
          b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + int(40)), b.subarray(at)]);
        else b = Buffer.concat([b.subarray(0, at), Buffer.from(pick(inserts), 'latin1'), b.subarray(at)]);
      }
      return b;
    };
    const CASES = 3_000;
    const outcomes = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < CASES) {
          const i = next++;
          const payload = mutated(i);
          const r = await exchange(pair.raw.port, [payload], {
            end: rand() < 0.7,
            timeoutMs: 6_000,
            answers: 1,
          });
          const outcome =
            r.answers.length > 0 ? String(r.answers[0]!.status) : r.closed ? 'closed' : 'nothing';
          assert.notEqual(
            outcome,
            'nothing',
            `case ${i} got neither an answer nor a close: ${JSON.stringify(payload.toString('latin1'))}`,
          );
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }
      }),
    );
    console.log(`      ${CASES} mutated requests: ${[...outcomes].map(([k, v]) => `${k} ×${v}`).join(', ')}`);
    assert.equal(pair.raw.proc.exitCode, null, 'the router is running');
    const after = await exchange(pair.raw.port, [infer('after-fuzz')]);
    assert.equal(after.answers[0]?.status, 200, 'still routing');
    assert.doesNotMatch(pair.raw.output(), /error on /, 'no handler crashed');
  });

  it('finishes a request in flight on SIGTERM, then exits without waiting out shutdownMs (either front)', async () => {
    // After the tests above nothing may be left counted in flight on the raw front; on node:http,
    // two pipelined requests and the client's FIN before the second's turn once left one.
    await exchange(pair.node.port, [Buffer.concat([infer('pipelined-1'), infer('pipelined-2')])], {
      end: true,
    });
    pair.upstream.set({ latencyMs: 400 });
    for (const router of [pair.raw, pair.node]) {
      const answer = exchange(router.port, [infer('draining')]);
      await new Promise((r) => setTimeout(r, 100));
      const t0 = performance.now();
      const [r, code] = await Promise.all([answer, router.stop()]);
      const ms = performance.now() - t0;
      assert.equal(r.answers[0]?.status, 200);
      assert.equal(code, 0);
      assert.ok(ms < 5_000, `stopped after ${ms.toFixed(0)} ms (shutdownMs is 10 s)`);
    }
  });
});
