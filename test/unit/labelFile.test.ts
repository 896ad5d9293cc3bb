import assert from 'node:assert/strict';
import { OperationError } from '../../src/operations/errors';
import { labelValue, parseLabels } from '../../src/operations/label';

// `model-canary label` reads ground truth from files: what it accepts, and how it says what is wrong.
describe('label files', () => {
  it('reads a CSV with requestId and label columns, numbers as numbers and classes as text', () => {
    const csv = 'request_id,label,note\n123,1,a\nr-2,churned,b\nr-3,0.5,c\n';
    assert.deepEqual(parseLabels(csv, 'labels.csv'), [
      { requestId: '123', label: 1 },
      { requestId: 'r-2', label: 'churned' },
      { requestId: 'r-3', label: 0.5 },
    ]);
  });

  it('reads JSON Lines and a JSON array, skipping blank lines', () => {
    const jsonl = '{"requestId":"a","label":1}\n\n{"requestId":"b","label":"no"}\n';
    assert.deepEqual(parseLabels(jsonl, 'x.jsonl'), [
      { requestId: 'a', label: 1 },
      { requestId: 'b', label: 'no' },
    ]);
    assert.deepEqual(parseLabels('[{"requestId":"a","label":0}]', 'x.json'), [{ requestId: 'a', label: 0 }]);
  });

  it('names the line, the missing column or the extension to use instead', () => {
    const usage = (re: RegExp) => (err: unknown) =>
      err instanceof OperationError && err.kind === 'usage' && re.test(err.message);
    assert.throws(
      () => parseLabels('{"requestId":"a","label":1}\nnot json\n', 'x.jsonl'),
      usage(/^x\.jsonl:2: not JSON/),
    );
    assert.throws(
      () => parseLabels('id,truth\n1,1\n', 'x.csv'),
      usage(/needs a "requestId" and a "label" column \(its header is: id, truth\)/),
    );
    assert.throws(() => parseLabels('requestId,label\n1,\n', 'x.csv'), usage(/x\.csv:2: the row needs both/));
    assert.throws(() => parseLabels('', 'x.txt'), usage(/give a \.jsonl, \.ndjson, \.json or \.csv file/));
  });

  it('reads a label typed on the command line as a number when it is one', () => {
    assert.deepEqual(
      [labelValue('1'), labelValue(' 2.5 '), labelValue('yes'), labelValue('1e3')],
      [1, 2.5, 'yes', 1000],
    );
  });
});
