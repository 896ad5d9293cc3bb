import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { decodeInferRequest, decodeInferResponse } from '../../src/router/grpc/protoRead';
import { seededRandom } from '../../src/core/stats/random';
import { GRPC_LOADER_OPTIONS } from '../../src/shared/grpcProto';
import { PROTO_FILE } from '../harness/grpcClient';

// protobufjs (decode, then toObject with proto-loader's options) is the reference reader.
const root = protobuf.parse(readFileSync(PROTO_FILE, 'utf8'), { keepCase: true }).root;
const Request = root.lookupType('inference.ModelInferRequest');
const Response = root.lookupType('inference.ModelInferResponse');
const reference = (type: protobuf.Type, bytes: Uint8Array): unknown =>
  type.toObject(type.decode(bytes), GRPC_LOADER_OPTIONS as protobuf.IConversionOptions);

/** Both readers' results in one comparable form: empty `contents` arrays dropped, objects plain. */
function normal(x: unknown): unknown {
  if (Buffer.isBuffer(x)) return `bytes:${x.toString('hex')}`;
  if (Array.isArray(x)) return x.map(normal);
  if (x === null || typeof x !== 'object') return x;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) {
    if (
      k.endsWith('_contents') &&
      Array.isArray(v) &&
      v.length === 0 &&
      k !== 'raw_input_contents' &&
      k !== 'raw_output_contents'
    )
      continue;
    out[k] = normal(v);
  }
  return out;
}

const CONTENTS: [string, (next: () => number) => unknown][] = [
  ['bool_contents', (n) => n() < 0.5],
  ['int_contents', (n) => Math.floor(n() * 2 ** 32) - 2 ** 31],
  ['int64_contents', (n) => Math.floor((n() - 0.5) * 2 ** 53)],
  ['uint_contents', (n) => Math.floor(n() * 2 ** 32)],
  ['uint64_contents', (n) => Math.floor(n() * 2 ** 53)],
  ['fp32_contents', (n) => Math.fround((n() - 0.5) * 1e6)],
  ['fp64_contents', (n) => (n() - 0.5) * 1e300],
  ['bytes_contents', (n) => Buffer.from([Math.floor(n() * 256), Math.floor(n() * 256)])],
];

function parameters(next: () => number): Record<string, object> {
  const out: Record<string, object> = {};
  const kinds = [
    { bool_param: true },
    { int64_param: -5 },
    { string_param: 'np' },
    { double_param: 0.25 },
    { uint64_param: 2 ** 40 },
  ];
  for (let i = Math.floor(next() * 3); i > 0; i--) out[`p${i}`] = kinds[Math.floor(next() * kinds.length)]!;
  return out;
}

function tensors(next: () => number, n: number): object[] {
  return Array.from({ length: n }, (_, i) => {
    const [field, value] = CONTENTS[Math.floor(next() * CONTENTS.length)]!;
    return {
      name: `t${i}`,
      datatype: ['INT64', 'FP32', 'BYTES', 'BOOL'][i % 4],
      shape: Array.from({ length: Math.floor(next() * 3) }, () => Math.floor((next() - 0.2) * 1e4)),
      parameters: parameters(next),
      ...(next() < 0.8
        ? { contents: { [field]: Array.from({ length: Math.floor(next() * 4) }, () => value(next)) } }
        : {}),
    };
  });
}

describe('gRPC front: reading ModelInfer messages without protobufjs (protoRead.ts)', () => {
  it('reads 500 random requests and responses as protobufjs does (int64 as numbers, negative shapes, parameters)', () => {
    const next = seededRandom(20261207);
    for (let i = 0; i < 500; i++) {
      const raw = Array.from({ length: Math.floor(next() * 3) }, () => Buffer.from([i & 255, 7]));
      const request = Request.encode(
        Request.fromObject({
          model_name: next() < 0.9 ? 'propensity' : '',
          model_version: next() < 0.5 ? '2' : '',
          id: next() < 0.5 ? `id-${i}` : '',
          parameters: parameters(next),
          inputs: tensors(next, Math.floor(next() * 4)),
          outputs: next() < 0.5 ? [{ name: 'predict', parameters: parameters(next) }] : [],
          raw_input_contents: raw,
        }),
      ).finish();
      assert.deepEqual(normal(decodeInferRequest(Buffer.from(request))), normal(reference(Request, request)));
      const response = Response.encode(
        Response.fromObject({
          model_name: 'm',
          id: next() < 0.5 ? 'x' : '',
          parameters: parameters(next),
          outputs: tensors(next, Math.floor(next() * 4)),
          raw_output_contents: raw,
        }),
      ).finish();
      assert.deepEqual(
        normal(decodeInferResponse(Buffer.from(response))),
        normal(reference(Response, response)),
      );
    }
  });

  it('reads unpacked repeated scalars, skips unknown fields and lets a later model_name win', () => {
    const w = protobuf.Writer.create();
    w.uint32(10).string('first');
    w.uint32((5 << 3) | 2).fork();
    w.uint32(10).string('age').uint32(18).string('INT64');
    w.uint32(24).int64(1).uint32(24).int64(-1); // shape, unpacked: [1, -1]
    w.uint32(42)
      .fork()
      .uint32(24)
      .int64(-7)
      .uint32(24)
      .int64(2 ** 40)
      .ldelim(); // int64_contents, unpacked
    w.ldelim();
    w.uint32((99 << 3) | 0).uint32(5); // unknown varint field
    w.uint32((98 << 3) | 1).fixed64(3); // unknown fixed64 field
    w.uint32((97 << 3) | 2).bytes(Buffer.from([1, 2, 3])); // unknown bytes field
    w.uint32(10).string('second');
    const bytes = Buffer.from(w.finish());
    const got = decodeInferRequest(bytes);
    assert.equal(got.model_name, 'second');
    assert.deepEqual(got.inputs[0]!.shape, [1, -1]);
    assert.deepEqual(got.inputs[0]!.contents, { int64_contents: [-7, 2 ** 40] });
    assert.deepEqual(normal(got), normal(reference(Request, bytes)));
  });

  it('refuses truncated messages, wrong wire types and bad varints with an error that says where', () => {
    const valid = Buffer.from(
      Request.encode(
        Request.fromObject({ model_name: 'propensity', inputs: tensors(seededRandom(3), 2) }),
      ).finish(),
    );
    for (let cut = 1; cut < valid.length; cut++) {
      // Some cuts end on a field boundary and are a shorter valid message; the rest throw, none crash.
      try {
        decodeInferRequest(valid.subarray(0, cut));
      } catch (err) {
        assert.match((err as Error).message, /index out of range|invalid|wire type/);
      }
    }
    assert.throws(
      () => decodeInferRequest(Buffer.from([0x0a, 0x05, 0x61])),
      /index out of range: 2 \+ 5 > 3/,
    );
    assert.throws(() => decodeInferRequest(Buffer.from([0x08, 0x01])), /wire type 0 where its type needs 2/);
    assert.throws(() => decodeInferRequest(Buffer.from([0xa7, 0x01])), /invalid wire type 7/); // field 20
    assert.throws(() => decodeInferRequest(Buffer.from([0x0a, ...Array(11).fill(0xff)])), /invalid varint/);
  });
});
