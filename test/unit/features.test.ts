import assert from 'node:assert/strict';
import { firstRowFeatures, firstRowOutputs } from '../../src/router/features';
import type { V2InferRequest } from '../../src/router/v2';

describe('router features: what a request records for drift', () => {
  it("records the first row's features by input name, and by column of a 2-D input", () => {
    const req: V2InferRequest = {
      inputs: [
        { name: 'age', datatype: 'INT64', shape: [2], data: [41, 52] },
        { name: 'x', datatype: 'FP64', shape: [2, 2], data: [1.5, 2.5, 3.5, 4.5] },
      ],
    };
    assert.deepEqual(firstRowFeatures(req, ['income', 'tenure']), { age: 41, income: 1.5, tenure: 2.5 });
  });

  it('takes the class from predict and the positive score from predict_proba', () => {
    const answer = {
      outputs: [
        { name: 'predict', datatype: 'INT64', shape: [1], data: [1] },
        { name: 'predict_proba', datatype: 'FP64', shape: [1, 2], data: [[0.3, 0.7]] },
      ],
    };
    assert.deepEqual(firstRowOutputs(answer), { predict: 1, proba: 0.7 });
  });

  // A gRPC request or answer is no longer a JSON round trip away from these objects: raw FP32
  // contents can hold NaN and ±Infinity, which JSON turned into null (and so into nothing).
  it('leaves out non-finite numbers, as the JSON round trip did', () => {
    const req: V2InferRequest = {
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [1], data: [Number.NaN] },
        { name: 'b', datatype: 'FP32', shape: [1, 3], data: [Number.POSITIVE_INFINITY, 2, -0] },
      ],
    };
    assert.deepEqual(firstRowFeatures(req, undefined), { b_1: 2, b_2: -0 });
    assert.deepEqual(
      firstRowOutputs({
        outputs: [
          { name: 'predict', data: [Number.NaN] },
          { name: 'predict_proba', shape: [1, 2], data: [0.4, Number.NaN] },
        ],
      }),
      {},
    );
    assert.deepEqual(
      firstRowOutputs({
        outputs: [{ name: 'predict_proba', shape: [1, 3], data: [0.2, 0.5, 0.3] }],
      }),
      { predict: 1, proba: 0.5 },
    );
  });
});
