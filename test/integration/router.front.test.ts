/**
 * The raw HTTP/1.1 front (src/router/front/) against node:http: the same requests to a router
 * with `front: raw` and one with `front: node` get the same bytes back (but the Date), errors
 * included; and the raw front keeps HTTP's rules on one connection: pipelining, requests in
 * pieces, a connection handed to node:http midway, Connection: close, HTTP/1.0, the shadow
 * after the answer, a graceful stop.
 */
import assert from 'node:assert/strict';
import { simpleRequest } from '../harness/routerClient';
import { startFrontPair, type FrontPair } from '../harness/frontPair';
import { exchange, headerOf, request, type Exchange } from '../harness/rawHttp';

const INFER = '/v2/models/front/infer';
const JSON_TYPE = { 'content-type': 'application/json' };
const OK = JSON.stringify(simpleRequest());

describe('router: the raw HTTP front answers as node:http (two real router processes)', function () {
  let pair: FrontPair;

  before(async () => {
    pair = await startFrontPair({ limits: { maxBodyBytes: 4096 } });
  });

  after(async () => {
    await pair?.close();
  });

  /** The binary tensor extension's request: JSON head, then 16 bytes of two FP64s. */
  const binaryRequest = (id: string): Buffer => {
    const json = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP64', parameters: { binary_data_size: 16 } }],
        parameters: { binary_data_output: true },
      }),
    );
    const data = Buffer.alloc(16);
    data.writeDoubleLE(55, 0);
    data.writeDoubleLE(12, 8);
    return request('POST', INFER, Buffer.concat([json, data]), {
      'inference-header-content-length': String(json.length),
      'x-request-id': id,
    });
  };

  const cases = (id: (name: string) => string): [string, (string | Buffer)[]][] => [
    ['infer', [request('POST', INFER, OK, { ...JSON_TYPE, 'x-request-id': id('infer') })]],
    [
      'forced',
      [request('POST', INFER, OK, { ...JSON_TYPE, 'x-request-id': id('f'), 'x-model-canary-variant': 'b' })],
    ],
    ['sticky', [request('POST', INFER, OK, { ...JSON_TYPE, 'x-request-id': id('s'), 'x-user-id': 'u-17' })]],
    ['query', [request('POST', `${INFER}?trace=1`, OK, { ...JSON_TYPE, 'x-request-id': id('q') })]],
    ['no content type', [request('POST', INFER, OK, { 'x-request-id': id('nct') })]],
    ['malformed JSON', [request('POST', INFER, '{"inputs":', { ...JSON_TYPE, 'x-request-id': id('mj') })]],
    [
      'wrong shape',
      [request('POST', INFER, '{"inputs":[{"name":1}]}', { ...JSON_TYPE, 'x-request-id': id('ws') })],
    ],
    ['empty body', [request('POST', INFER, '', { ...JSON_TYPE, 'x-request-id': id('eb') })]],
    [
      'unknown forced variant',
      [
        request('POST', INFER, OK, {
          ...JSON_TYPE,
          'x-request-id': id('uf'),
          'x-model-canary-variant': 'zz',
        }),
      ],
    ],
    ['413', [request('POST', INFER, 'x'.repeat(5000), { ...JSON_TYPE, 'x-request-id': id('big') })]],
    ['binary tensor extension', [binaryRequest(id('bin'))]],
    ['415', [request('POST', INFER, OK, { 'content-type': 'text/plain', 'x-request-id': id('415') })]],
    [
      'unknown model',
      [request('POST', '/v2/models/nope/infer', OK, { ...JSON_TYPE, 'x-request-id': id('um') })],
    ],
    ['405', [request('GET', INFER, '', { 'x-request-id': id('405') })]],
    [
      'listed origin',
      [request('POST', INFER, OK, { ...JSON_TYPE, origin: 'https://app.example', 'x-request-id': id('lo') })],
    ],
    [
      'refused origin',
      [
        request('POST', INFER, OK, {
          ...JSON_TYPE,
          origin: 'https://evil.example',
          'x-request-id': id('ro'),
        }),
      ],
    ],
    [
      'refused host',
      [request('POST', INFER, OK, { ...JSON_TYPE, host: 'evil.example', 'x-request-id': id('rh') })],
    ],
    ['bad request id', [request('POST', INFER, OK, { ...JSON_TYPE, 'x-request-id': 'a b' })]],
    [
      'two request ids',
      [request('POST', INFER, OK, { ...JSON_TYPE, 'x-request-id': id('t1'), 'X-Request-Id': id('t2') })],
    ],
    ['HTTP/1.0', [request('POST', INFER, OK, { ...JSON_TYPE, 'x-request-id': id('10') }, '1.0')]],
    [
      'HTTP/1.0 keep-alive',
      [
        request(
          'POST',
          INFER,
          OK,
          { ...JSON_TYPE, connection: 'keep-alive', 'x-request-id': id('10k') },
          '1.0',
        ),
      ],
    ],
    [
      'Connection: close',
      [request('POST', INFER, OK, { ...JSON_TYPE, connection: 'close', 'x-request-id': id('cc') })],
    ],
    [
      'chunked',
      [
        `POST ${INFER} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nx-request-id: ${id('ch')}\r\ntransfer-encoding: chunked\r\n\r\n${OK.length.toString(16)}\r\n${OK}\r\n0\r\n\r\n`,
      ],
    ],
    [
      'CL+TE',
      [
        `POST ${INFER} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`,
      ],
    ],
    [
      'two lengths',
      [
        `POST ${INFER} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}x`,
      ],
    ],
    ['no Host', [`POST ${INFER} HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`]],
    ['header too large', [request('POST', INFER, OK, { ...JSON_TYPE, 'x-big': 'a'.repeat(20_000) })]],
    ['bare LF', [`POST ${INFER} HTTP/1.1\nhost: x\ncontent-type: application/json\ncontent-length: 2\n\n{}`]],
    ['garbage', ['\x00\x01POST / HTTP/1.1\r\n\r\n']],
    ['body cut short', [request('POST', INFER, OK, JSON_TYPE).subarray(0, 150)]],
    ['head cut short', [request('POST', INFER, OK, JSON_TYPE).subarray(0, 40)]],
  ];

  it('gives the same bytes as node:http for infer requests, refusals and malformed HTTP', async () => {
    const run = async (port: number, tag: string): Promise<Map<string, Exchange>> => {
      const out = new Map<string, Exchange>();
      for (const [name, pieces] of cases((n) => `${tag}-${n}`))
        out.set(name, await exchange(port, pieces, { settleMs: 150, end: name.endsWith('cut short') }));
      return out;
    };
    const raw = await run(pair.raw.port, 'parity');
    const node = await run(pair.node.port, 'parity');
    const statuses: string[] = [];
    for (const [name, r] of raw) {
      const n = node.get(name)!;
      assert.ok(r.answers.length >= 1, `${name}: an answer from the raw front`);
      assert.equal(
        r.answers.map((a) => a.comparable).join('\n'),
        n.answers.map((a) => a.comparable).join('\n'),
        `${name}: the same answer`,
      );
      assert.equal(r.closed, n.closed, `${name}: the connection closes alike (${n.closed})`);
      statuses.push(`${name} ${r.answers[0]!.status}${r.closed ? ' closed' : ''}`);
    }
    console.log(`      ${statuses.join(', ')}`);
    const status = (name: string): number => raw.get(name)!.answers[0]!.status;
    assert.equal(status('infer'), 200);
    assert.equal(headerOf(raw.get('forced')!.answers[0]!, 'x-model-canary-variant'), 'b');
    assert.equal(status('binary tensor extension'), 200);
    assert.equal(status('malformed JSON'), 400);
    assert.equal(status('413'), 413);
    assert.equal(status('CL+TE'), 400);
    assert.equal(status('two lengths'), 400);
    assert.equal(status('header too large'), 431);
    assert.equal(status('chunked'), 200);
    assert.equal(status('refused host'), 403);
    assert.equal(
      headerOf(raw.get('listed origin')!.answers[0]!, 'access-control-allow-origin'),
      'https://app.example',
    );
    assert.equal(raw.get('Connection: close')!.closed, true);
    assert.equal(raw.get('HTTP/1.0')!.closed, true);
    assert.equal(raw.get('HTTP/1.0 keep-alive')!.closed, false);
  });
});
