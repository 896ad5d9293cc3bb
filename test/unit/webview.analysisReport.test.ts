import assert from 'node:assert/strict';
import type { Report } from '../../src/shared/report';
import { abTable } from '../../webview/panels/comparisons/shape';
import { verdicts } from '../../webview/panels/verdict/shape';
import { variantOrder } from '../../webview/variants';

describe('webview shaping: the report the analysis really makes', () => {
  it('shapes the fixture event log’s report without a missing number turning into a crash', async () => {
    const { analyzeEventsFile } = await import('../../src/cli/analyze');
    const dir = new URL('../fixtures/analysis/', import.meta.url).pathname;
    const { report: r } = await analyzeEventsFile(`${dir}medium.events.jsonl`, `${dir}experiment.yaml`);
    const served = JSON.parse(JSON.stringify(r)) as Report;
    const lines = verdicts(served);
    assert.equal(lines.length, served.comparisons.length);
    for (const v of lines) assert.ok(v.headline.startsWith(`${v.variant}:`), v.headline);
    const t = abTable(served);
    assert.deepEqual(
      t.rows.map((row) => row.variant),
      variantOrder(served),
    );
    assert.ok(t.scale > 0);
  });
});
