import assert from 'node:assert/strict';
import { requestToJson, responseFromJson, responseToJson } from '../../src/router/grpc/tensors';
import { decodeRaw, encodeRaw } from '../../src/router/rawTensors';

describe('V2 tensors between protobuf (typed and raw) and JSON', () => {
  it('encodes FP16 as IEEE 754 binary16, rounding to nearest even, as numpy does', () => {
    // The bit patterns are numpy 2.4.6's: np.array([v], dtype=np.float16).view(np.uint16).
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff], // the largest half
      [2 ** -14, 0x0400], // the smallest normal
      [2 ** -24, 0x0001], // the smallest subnormal
      [0.1, 0x2e66],
      [1 + 2 ** -11, 0x3c00], // a tie rounds to even: down to 1
      [1 + 3 * 2 ** -11, 0x3c02], // rounds up, carrying within the mantissa
      [2047.9, 0x6800], // rounds up across the exponent: 2048
      [1e6, 0x7c00], // overflow: infinity
      [2 ** -25, 0x0000], // a tie below the smallest subnormal: to even, 0
      [3 * 2 ** -26, 0x0001],
      [2 ** -15 + 2 ** -25, 0x0200], // a subnormal tie, to even
    ];
    for (const [value, bits] of cases) {
      const buf = encodeRaw([value], 'FP16');
      assert.equal(buf.readUInt16LE(0), bits, `${value} → 0x${buf.readUInt16LE(0).toString(16)}`);
    }
    assert.deepEqual(decodeRaw(Buffer.from([0x00, 0x3c, 0x66, 0x2e, 0x01, 0x00]), 'FP16', 3, 'x'), [
      1,
      0.0999755859375,
      2 ** -24,
    ]);
  });

  it('round-trips every datatype through raw bytes, and names the field when the sizes disagree', () => {
    const cases: [string, unknown[]][] = [
      ['BOOL', [true, false, true]],
      ['UINT8', [0, 255]],
      ['INT8', [-128, 127]],
      ['UINT16', [65535]],
      ['INT16', [-32768, 5]],
      ['UINT32', [4294967295]],
      ['INT32', [-2147483648]],
      ['UINT64', [2 ** 53 - 1]],
      ['INT64', [-(2 ** 53) + 1, 7]],
      ['FP32', [0.5, -1.25]],
      ['FP64', [0.1, -1e300]],
      ['BYTES', ['web', '', 'ünïcode']],
    ];
    for (const [datatype, values] of cases)
      assert.deepEqual(
        decodeRaw(encodeRaw(values, datatype), datatype, values.length, 'x'),
        values,
        datatype,
      );
    assert.throws(() => decodeRaw(Buffer.alloc(7), 'FP64', 1, 'raw_input_contents[0]'), {
      message: /^raw_input_contents\[0\]: has 7 bytes but the shape needs 1 FP64 elements of 8 bytes \(8\)/,
    });
    assert.throws(() => decodeRaw(Buffer.from([5, 0, 0, 0, 1]), 'BYTES', 1, 'b'), {
      message: /^b: a BYTES element of 5 bytes runs past the end/,
    });
  });

  it('turns typed and raw requests into the same V2 JSON, and answers raw only to raw requests', () => {
    const typed = requestToJson({
      model_name: 'm',
      id: 'r1',
      parameters: { content_type: { parameter_choice: 'string_param', string_param: 'pd' } },
      inputs: [
        { name: 'age', datatype: 'INT64', shape: [2], contents: { int64_contents: [41, 7] } },
        {
          name: 'channel',
          datatype: 'BYTES',
          shape: [2],
          contents: { bytes_contents: [Buffer.from('a'), Buffer.from('b')] },
        },
      ],
      outputs: [],
      raw_input_contents: [],
    });
    const raw = requestToJson({
      model_name: 'm',
      id: 'r1',
      parameters: { content_type: { parameter_choice: 'string_param', string_param: 'pd' } },
      inputs: [
        { name: 'age', datatype: 'INT64', shape: [2], contents: null },
        { name: 'channel', datatype: 'BYTES', shape: [2], contents: null },
      ],
      raw_input_contents: [encodeRaw([41, 7], 'INT64'), encodeRaw(['a', 'b'], 'BYTES')],
    });
    assert.deepEqual(typed, raw);
    assert.deepEqual(typed, {
      id: 'r1',
      parameters: { content_type: 'pd' },
      inputs: [
        { name: 'age', shape: [2], datatype: 'INT64', data: [41, 7] },
        { name: 'channel', shape: [2], datatype: 'BYTES', data: ['a', 'b'] },
      ],
    });
    assert.throws(
      () =>
        requestToJson({
          model_name: 'm',
          inputs: [{ name: 'x', datatype: 'FP16', shape: [1], contents: {} }],
        }),
      { message: /^inputs\[0\]\.contents: FP16 has no typed contents — send it in raw_input_contents/ },
    );

    const json = {
      model_name: 'm',
      id: 'r1',
      outputs: [
        { name: 'predict', datatype: 'INT64', shape: [2], data: [1, 0] },
        {
          name: 'predict_proba',
          datatype: 'FP64',
          shape: [2, 2],
          data: [
            [0.2, 0.8],
            [0.9, 0.1],
          ],
        },
      ],
    };
    const typedAnswer = responseFromJson(json, false);
    assert.equal(typedAnswer.raw_output_contents.length, 0);
    assert.deepEqual(typedAnswer.outputs[1]!.contents, { fp64_contents: [0.2, 0.8, 0.9, 0.1] });
    const rawAnswer = responseFromJson(json, true);
    assert.equal(rawAnswer.raw_output_contents.length, 2);
    // And back, as a gRPC upstream's answer is recorded.
    const back = responseToJson(rawAnswer) as { outputs: { data: unknown[] }[] };
    assert.deepEqual(
      back.outputs.map((o) => o.data),
      [
        [1, 0],
        [0.2, 0.8, 0.9, 0.1],
      ],
    );
  });
});
