import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { withoutOutputs } from '../../src/router/grpc/outputs';
import type { GrpcInferResponse } from '../../src/router/grpc/tensors';
import { GRPC_LOADER_OPTIONS } from '../../src/shared/grpcProto';
import { PROTO_FILE } from '../harness/grpcClient';

// The router bundles the .proto as text (esbuild); here it is read from the file.
const Response = protobuf
  .parse(readFileSync(PROTO_FILE, 'utf8'), { keepCase: true })
  .root.lookupType('inference.ModelInferResponse');
const encodeMessage = (_name: string, value: object): Uint8Array =>
  Response.encode(Response.fromObject(value)).finish();
const decodeMessage = <T>(_name: string, bytes: Uint8Array): T =>
  Response.toObject(Response.decode(bytes), GRPC_LOADER_OPTIONS as protobuf.IConversionOptions) as T;

const tensor = (name: string, contents: object | null) => ({
  name,
  datatype: 'INT64',
  shape: [2],
  ...(contents ? { contents } : {}),
});

describe('gRPC front: leaving out the outputs the router added', () => {
  it('drops the outputs not kept, typed, and keeps every other field as sent (INT64s exact)', () => {
    const big = 2 ** 53 + 1;
    const message = encodeMessage('ModelInferResponse', {
      model_name: 'm-v1',
      model_version: '3',
      id: 'req-1',
      parameters: { content_type: { string_param: 'np' } },
      outputs: [
        tensor('out', { int64_contents: [1, 2] }),
        tensor('predict', { int64_contents: [0, 1] }),
        tensor('predict_proba', { fp64_contents: [0.2, 0.8] }),
      ],
    });
    const stripped = withoutOutputs(message, [true, false, false])!;
    const got = decodeMessage<GrpcInferResponse>('ModelInferResponse', stripped);
    assert.equal(got.model_name, 'm-v1');
    assert.equal(got.model_version, '3');
    assert.equal(got.id, 'req-1');
    assert.equal(got.parameters.content_type?.string_param, 'np');
    assert.deepEqual(
      got.outputs.map((o) => o.name),
      ['out'],
    );
    assert.deepEqual(got.outputs[0]!.contents?.int64_contents, [1, 2]);
    // Nothing is re-encoded: what is kept is the variant's own bytes.
    const withBig = encodeMessage('ModelInferResponse', {
      outputs: [tensor('predict', null), tensor('out', { int64_contents: [String(big)] })],
    });
    const kept = withoutOutputs(withBig, [false, true])!;
    const exact = Response.toObject(Response.decode(kept), { longs: String }) as {
      outputs: { name: string; contents: { int64_contents: string[] } }[];
    };
    assert.deepEqual(
      exact.outputs.map((o) => o.name),
      ['out'],
    );
    assert.deepEqual(exact.outputs[0]!.contents.int64_contents, [String(big)]);
  });

  it('drops the raw contents of the outputs it drops, in order', () => {
    const raw = (n: number) => Buffer.from(new BigInt64Array([BigInt(n), BigInt(n + 1)]).buffer);
    const message = encodeMessage('ModelInferResponse', {
      model_name: 'm',
      outputs: [tensor('predict', null), tensor('out', null), tensor('predict_proba', null)],
      raw_output_contents: [raw(10), raw(20), raw(30)],
    });
    const got = decodeMessage<GrpcInferResponse>(
      'ModelInferResponse',
      withoutOutputs(message, [false, true, false])!,
    );
    assert.deepEqual(
      got.outputs.map((o) => o.name),
      ['out'],
    );
    assert.deepEqual(
      got.raw_output_contents.map((b) => Buffer.from(b)),
      [raw(20)],
    );
  });

  it('refuses bytes that are not protobuf fields', () => {
    assert.equal(withoutOutputs(Buffer.from([0x2a, 0x05, 0x01]), [true]), undefined); // length past the end
    assert.equal(withoutOutputs(Buffer.from([0x0b]), [true]), undefined); // a group (wire type 3)
  });
});
