/**
 * The raw front's head reader (src/router/front/head.ts) against node:http's own parser on
 * loopback: for every head it calls plain, node:http sees the same target, Content-Length,
 * keep-alive and header values (duplicates included); what it refuses goes to node:http.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { headEnd, headerIn, mayBePlain, plainHead } from '../../src/router/front/head';

const NAMES = ['host', 'content-type', 'x-request-id', 'x-user-id', 'origin', 'cookie', 'x-a'];

describe('router raw front: the head reader agrees with node:http', function () {
  let server: Server;
  let seen: ((got: { req: IncomingMessage; res: ServerResponse }) => void) | undefined;
  let refused: ((err: Error) => void) | undefined;

  before(async () => {
    server = createServer((req, res) => {
      seen?.({ req, res });
      req.resume();
      req.on('end', () => res.end());
    });
    server.on('clientError', (err: Error, socket: Socket) => {
      refused?.(err);
      socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });

  after(() => new Promise<void>((r) => server.close(() => r())));

  const viaNode = (head: string): Promise<{ req: IncomingMessage; res: ServerResponse }> =>
    new Promise((resolve, reject) => {
      seen = resolve;
      refused = reject;
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => socket.write(head));
      socket.on('data', () => socket.destroy());
      socket.on('error', reject);
    });

  const heads = [
    'POST /v2/models/m/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n',
    'POST /v2/models/m/infer?x=1&y=%20 HTTP/1.1\r\nhost:127.0.0.1\r\ncontent-length:   0  \r\nX-Request-Id: a\r\nx-request-id: b\r\n\r\n',
    'POST /a HTTP/1.0\r\nContent-Length: 0\r\n\r\n',
    'POST /a HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n',
    'POST /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    'POST /a HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n',
    'POST /a HTTP/1.1\r\nHost: h\r\nHost: second\r\nContent-Type: a\r\ncontent-type: b\r\nCookie: c=1\r\nCookie: d=2\r\nContent-Length: 0\r\n\r\n',
    'POST /a HTTP/1.1\r\nHost: h\r\nX-A:\r\nX-A: \t v \t\r\nContent-Length: 0\r\n\r\n',
    'POST /a HTTP/1.1\r\nHost: h\r\nOrigin: https://x.example\r\nX-User-Id: u 1\r\nContent-Length: 00\r\n\r\n',
  ];

  /** Heads mutated at random (seeded): each one the reader calls plain must be read alike by node:http. */
  const mutatedHeads = (): string[] => {
    let seed = 0x4ead;
    const rand = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const bits = [
      ' ',
      '\t',
      ':',
      ',',
      '\r',
      '\n',
      '\r\n',
      '\x7f',
      '\x00',
      'close',
      'keep-alive',
      '0',
      '%',
      '?',
      '#',
      '"',
      'A',
    ];
    return Array.from({ length: 2_000 }, () => {
      let t = heads[Math.floor(rand() * heads.length)]!.slice(0, -4);
      for (let n = 1 + Math.floor(rand() * 2); n > 0; n--) {
        const at = 1 + Math.floor(rand() * (t.length - 1));
        const bit = bits[Math.floor(rand() * bits.length)]!;
        t = rand() < 0.3 ? t.slice(0, at) + t.slice(at + 1) : t.slice(0, at) + bit + t.slice(at);
      }
      return `${t}\r\n\r\n`;
    });
  };

  it('reads plain heads as node:http does, hand-written and mutated', async () => {
    let plain = 0;
    const mutated = mutatedHeads();
    for (const text of [...heads, ...mutated]) {
      const buf = Buffer.from(text, 'latin1');
      const head = plainHead(buf, headEnd(buf));
      if (!head && !heads.includes(text)) continue;
      assert.ok(head, `plain: ${JSON.stringify(text)}`);
      plain++;
      const { req, res } = await viaNode(text).catch((err: Error) =>
        assert.fail(`node:http refuses a head called plain: ${JSON.stringify(text)}: ${err.message}`),
      );
      assert.equal(head.target, req.url);
      assert.equal(head.contentLength, Number(req.headers['content-length']));
      assert.equal(head.keepAlive, res.shouldKeepAlive, text);
      for (const name of NAMES) {
        const v = req.headers[name];
        assert.equal(
          headerIn(head.headers, name),
          Array.isArray(v) ? v[0] : v,
          `${name} in ${JSON.stringify(text)}`,
        );
      }
    }
    console.log(
      `      ${plain} plain heads (${plain - heads.length} of ${mutated.length} mutated ones) read alike`,
    );
  });

  it('leaves to node:http every head that is not plain', () => {
    const notPlain = [
      'GET /a HTTP/1.1\r\nHost: h\r\n\r\n',
      'POST /a HTTP/1.1\r\nContent-Length: 0\r\n\r\n', // HTTP/1.1 without Host
      'POST /a HTTP/1.1\r\nHost: h\r\n\r\n', // no length
      'POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n',
      'POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
      'POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n',
      'POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n',
      'POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n',
      'POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n folded\r\n\r\n',
      'POST /a HTTP/1.1\r\nHost: h\r\nContent-Length : 1\r\n\r\n',
      'POST /a HTTP/1.1\r\nHost: h\nContent-Length: 1\r\n\r\n',
      'POST /a HTTP/1.1\r\nHost: h\r\nX: \xe9\r\nContent-Length: 1\r\n\r\n',
      'POST http://h/a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n',
      'POST /a#f HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n',
      'POST /a HTTP/2.0\r\nHost: h\r\nContent-Length: 1\r\n\r\n',
      'POST  /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n',
    ];
    for (const text of notPlain) {
      const buf = Buffer.from(text, 'latin1');
      assert.equal(plainHead(buf, headEnd(buf)), undefined, JSON.stringify(text));
    }
    assert.equal(mayBePlain(Buffer.from('POS')), true);
    assert.equal(mayBePlain(Buffer.from('POST /a HTTP/1.1\r')), true);
    assert.equal(mayBePlain(Buffer.from('GET /')), false);
    assert.equal(mayBePlain(Buffer.from('POST /a HTTP/1.1\nHost')), false);
    assert.equal(mayBePlain(Buffer.from('POST /a\x00')), false);
  });
});
