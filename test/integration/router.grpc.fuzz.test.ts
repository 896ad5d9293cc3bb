import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { connect, constants } from 'node:http2';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { InferenceClient, PROTO_FILE } from '../harness/grpcClient';
import { routerDir, startRouter, writeRouterConfig, type RunningRouter } from '../harness/router';
import { inParallel } from '../harness/routerClient';
import { startUpstream, type Upstream } from '../harness/upstream';
import { seededRandom } from '../../src/core/stats/random';

const INFER = '/inference.GRPCInferenceService/ModelInfer';
const DATATYPES = ['BOOL', 'INT8', 'INT32', 'INT64', 'UINT64', 'FP16', 'FP32', 'FP64', 'BYTES', 'FP99', ''];
const CONTENT_FIELDS = [
  'bool_contents',
  'int_contents',
  'int64_contents',
  'uint_contents',
  'uint64_contents',
  'fp32_contents',
  'fp64_contents',
  'bytes_contents',
];

describe('router: malformed gRPC messages and frames never crash the router (real router process)', function () {
  let upstream: Upstream;
  let dir: string;
  let router: RunningRouter;
  let client: InferenceClient;
  let Request: protobuf.Type;

  before(async () => {
    upstream = await startUpstream();
    dir = await routerDir();
    router = await startRouter(
      await writeRouterConfig(dir, {
        grpcListen: '127.0.0.1:0',
        limits: { maxBodyBytes: 256 * 1024 },
        experiments: [
          {
            name: 'propensity',
            endpoint: 'propensity',
            variants: [{ name: 'v1', url: upstream.url, model: 'm', weight: 1 }],
          },
        ],
      }),
    );
    client = new InferenceClient(`127.0.0.1:${router.grpcPort}`);
    // The proto's own field names, as the router reads them.
    const root = await new protobuf.Root().load(PROTO_FILE, { keepCase: true });
    Request = root.lookupType('inference.ModelInferRequest');
  });

  after(async () => {
    client?.close();
    await router?.stop();
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** One ModelInfer call with `bytes` as the message, whatever they are. */
  function rawCall(bytes: Buffer): Promise<ServiceError | null> {
    return new Promise((resolve) => {
      client.client.makeUnaryRequest(
        INFER,
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        (err) => resolve(err),
      );
    });
  }

  /** A message of the right type with wrong contents: types, counts, shapes and raw sizes at random. */
  function wrongTypedRequest(next: () => number): Buffer {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const n = Math.floor(next() * 4);
    const raw = next() < 0.4;
    const inputs = Array.from({ length: n }, (_, i) => {
      const shape = Array.from({ length: Math.floor(next() * 4) }, () =>
        pick([0, 1, 2, 3, -1, 2 ** 40, Number.MAX_SAFE_INTEGER]),
      );
      const field = pick(CONTENT_FIELDS);
      const count = Math.floor(next() * 5);
      const values = Array.from({ length: count }, () =>
        field === 'bytes_contents'
          ? Buffer.from([Math.floor(next() * 256)])
          : field === 'bool_contents'
            ? next() < 0.5
            : Math.floor(next() * 1000) - 500,
      );
      return {
        name: next() < 0.1 ? '' : `in${i}`,
        datatype: pick(DATATYPES),
        shape,
        ...(raw || next() < 0.2 ? {} : { contents: { [field]: values } }),
      };
    });
    const message = Request.fromObject({
      model_name: next() < 0.85 ? 'propensity' : pick(['', 'nope', 'propensity/x']),
      id: next() < 0.5 ? 'fuzz' : '',
      inputs,
      ...(raw
        ? {
            raw_input_contents: Array.from({ length: Math.floor(next() * 4) }, () =>
              Buffer.from(Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256))),
            ),
          }
        : {}),
      ...(next() < 0.3 ? { outputs: [{ name: next() < 0.5 ? 'predict' : '' }] } : {}),
    });
    return Buffer.from(Request.encode(message).finish());
  }

  it('answers 4,000 random frames, truncated and wrongly typed messages with a status, and stays up', async function () {
    this.timeout(120_000);
    const next = seededRandom(20261206);
    const valid = wrongTypedRequest(seededRandom(1));
    const codes = new Map<number, number>();
    await inParallel(4_000, 32, async (i) => {
      let bytes: Buffer;
      const kind = i % 4;
      if (kind === 0) {
        // Random bytes.
        bytes = Buffer.from(Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256)));
      } else if (kind === 1) {
        // A valid message cut short, or with a byte flipped.
        const m = wrongTypedRequest(next);
        bytes = next() < 0.5 ? m.subarray(0, Math.floor(next() * m.length)) : Buffer.from(m);
        if (bytes.length > 0 && next() < 0.5) bytes[Math.floor(next() * bytes.length)]! ^= 0xff;
      } else {
        bytes = wrongTypedRequest(next);
      }
      const err = await rawCall(bytes);
      const code = err?.code ?? status.OK;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    });
    console.log(
      `      status codes: ${[...codes].map(([c, n]) => `${status[c]} ${n}`).join(', ')} (valid sample: ${valid.length} bytes)`,
    );
    // Only the statuses a bad request deserves: nothing failed inside a handler.
    for (const code of codes.keys())
      assert.ok(
        [status.OK, status.INVALID_ARGUMENT, status.NOT_FOUND, status.INTERNAL].includes(code),
        `unexpected ${status[code]}`,
      );
    assert.ok((codes.get(status.INVALID_ARGUMENT) ?? 0) > 500, 'the messages reached the checks');
    assert.doesNotMatch(router.output(), /error on gRPC/, 'a handler threw');
    assert.deepEqual((await client.call('ServerLive', {})).response, { live: true });
    assert.equal(router.proc.exitCode, null);
  });

  it('survives broken gRPC framing on HTTP/2: lengths past the end, unknown compression, a reset stream', async () => {
    const session = connect(`http://127.0.0.1:${router.grpcPort}`);
    const send = (frame: Buffer, reset = false): Promise<string | undefined> =>
      new Promise((resolve) => {
        const stream = session.request({
          [constants.HTTP2_HEADER_METHOD]: 'POST',
          [constants.HTTP2_HEADER_PATH]: INFER,
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        let grpcStatus: string | undefined;
        stream.on('response', (h) => (grpcStatus = h['grpc-status'] as string | undefined));
        stream.on('trailers', (t) => (grpcStatus = t['grpc-status'] as string | undefined));
        stream.on('close', () => resolve(grpcStatus));
        stream.on('error', () => resolve(grpcStatus));
        stream.on('data', () => undefined);
        if (reset) {
          stream.write(frame);
          stream.close(constants.NGHTTP2_CANCEL);
        } else stream.end(frame);
      });
    const frame = (flag: number, length: number, body: Buffer): Buffer => {
      const head = Buffer.alloc(5);
      head[0] = flag;
      head.writeUInt32BE(length, 1);
      return Buffer.concat([head, body]);
    };
    const body = Buffer.from([0x0a, 0x0a, ...Buffer.from('propensity')]);
    const answers = [
      await send(frame(0, 1_000, body)),
      await send(frame(1, body.length, body)),
      await send(frame(0, 2 ** 31, body)),
      await send(Buffer.from([0, 0])),
      await send(frame(0, body.length, body), true),
    ];
    session.close();
    console.log(`      grpc-status per broken frame: ${answers.join(', ')}`);
    assert.notEqual(answers[1], '0', 'a frame flagged compressed without an encoding is refused');
    assert.deepEqual((await client.call('ServerLive', {})).response, { live: true });
    assert.equal(router.proc.exitCode, null);
  });

  it('answers a message over the body limit RESOURCE_EXHAUSTED, then serves the next call', async () => {
    const big = Request.encode(
      Request.fromObject({ model_name: 'propensity', raw_input_contents: [Buffer.alloc(300 * 1024, 7)] }),
    ).finish();
    const err = await rawCall(Buffer.from(big));
    assert.equal(err?.code, status.RESOURCE_EXHAUSTED, String(err?.details));
    assert.match(String(err?.details), /larger than the limit of 262144 bytes/);
    assert.deepEqual((await client.call('ServerLive', {})).response, { live: true });
    assert.equal(router.proc.exitCode, null);
  });
});
