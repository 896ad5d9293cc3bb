import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { readFileSync } from 'node:fs';
import { GRPC_LOADER_OPTIONS } from '../../src/shared/grpcProto';
import type { GrpcInferRequest } from '../../src/router/grpc/tensors';
import {
  Code,
  decodeMessage,
  encodeMessage,
  frame,
  retargeted,
  timeoutHeader,
  timeoutMs,
  unframe,
} from '../../src/router/grpc/wire';
import { PROTO_FILE } from '../harness/grpcClient';

// The router bundles the .proto as text (esbuild); here it is read from the file.
const Request = protobuf
  .parse(readFileSync(PROTO_FILE, 'utf8'), { keepCase: true })
  .root.lookupType('inference.ModelInferRequest');

describe('gRPC wire format (router/grpc/wire.ts)', () => {
  it('reads grpc-timeout in every unit and refuses malformed values', () => {
    assert.equal(timeoutMs('100m'), 100);
    assert.equal(timeoutMs('2S'), 2_000);
    assert.equal(timeoutMs('1M'), 60_000);
    assert.equal(timeoutMs('1H'), 3_600_000);
    assert.equal(timeoutMs('1500u'), 1.5);
    assert.equal(timeoutMs('2000000n'), 2);
    for (const bad of ['', '10', 'm', '123456789m', '1.5S', '-1m', undefined])
      assert.equal(timeoutMs(bad), undefined);
    assert.equal(timeoutMs(timeoutHeader(250.2)), 251);
    assert.equal(timeoutHeader(-5), '1m');
  });

  it('frames and unframes one message, and names what is wrong with a broken frame', () => {
    const message = Buffer.from('hello');
    const framed = frame(message);
    assert.deepEqual([...framed.subarray(0, 5)], [0, 0, 0, 0, 5]);
    const back = unframe(framed);
    assert.ok(back.ok);
    assert.deepEqual(back.message, message);
    const compressed = Buffer.from(framed);
    compressed[0] = 1;
    assert.deepEqual(unframe(compressed), {
      ok: false,
      code: Code.UNIMPLEMENTED,
      details: 'compressed messages are not supported: send them uncompressed (grpc-encoding identity)',
    });
    const short = unframe(framed.subarray(0, 7));
    assert.ok(!short.ok && short.code === Code.INTERNAL && /says 5 bytes but 2 came/.test(short.details));
    assert.ok(!unframe(Buffer.from([0, 0])).ok);
  });

  it('percent-encodes grpc-message and decodes it back, tolerating a broken escape', () => {
    const text = 'unknown model "é" — 100% wrong\n';
    const encoded = encodeMessage(text);
    assert.match(encoded, /^[\x20-\x7e]*$/);
    assert.ok(!encoded.includes('%%'));
    assert.equal(decodeMessage(encoded), text);
    assert.equal(decodeMessage('50%zz'), '50%zz');
    assert.equal(decodeMessage(undefined), '');
  });

  it('retargets a message by appending fields: the last model_name wins and appended outputs add up', () => {
    const original = Request.encode(
      Request.fromObject({
        model_name: 'propensity',
        model_version: 'v9',
        id: 'r1',
        inputs: [{ name: 'age', datatype: 'INT64', shape: [1], contents: { int64_contents: [41] } }],
      }),
    ).finish();
    const sent = unframe(retargeted(original, 'propensity-v2', ['predict_proba']));
    assert.ok(sent.ok);
    const decoded = Request.toObject(
      Request.decode(sent.message),
      GRPC_LOADER_OPTIONS as protobuf.IConversionOptions,
    ) as GrpcInferRequest;
    assert.equal(decoded.model_name, 'propensity-v2');
    assert.equal(decoded.model_version, '');
    assert.equal(decoded.id, 'r1');
    assert.deepEqual(
      decoded.outputs?.map((o) => o.name),
      ['predict_proba'],
    );
    assert.deepEqual(decoded.inputs[0]?.contents?.int64_contents, [41]);
  });

  it('retargets each call for its own model and outputs, however often a model and output list recur', () => {
    const original = Request.encode(Request.fromObject({ model_name: 'propensity', id: 'r2' })).finish();
    const both = ['predict', 'predict_proba'];
    const read = (model: string, outputs?: readonly string[]) => {
      const sent = unframe(retargeted(original, model, outputs));
      assert.ok(sent.ok);
      const d = Request.toObject(Request.decode(sent.message)) as GrpcInferRequest;
      return { model: d.model_name, outputs: (d.outputs ?? []).map((o) => o.name), id: d.id };
    };
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(read('a', both), { model: 'a', outputs: both, id: 'r2' });
      assert.deepEqual(read('a'), { model: 'a', outputs: [], id: 'r2' });
      assert.deepEqual(read('a', ['predict']), { model: 'a', outputs: ['predict'], id: 'r2' });
      assert.deepEqual(read('bb', both), { model: 'bb', outputs: both, id: 'r2' });
      assert.deepEqual(read('bb'), { model: 'bb', outputs: [], id: 'r2' });
    }
  });
});
