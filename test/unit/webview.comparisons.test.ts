import assert from 'node:assert/strict';
import { abTable, liftPosition, liftTone, niceCeil } from '../../webview/panels/comparisons/shape';
import { comparison, report, variant } from './webviewReportFixture';

describe('webview shaping: A/B table', () => {
  it('has one row per variant, baseline first, with conversions and the comparison', () => {
    const t = abTable(report(), { v1: 'propensity-v1', v2: '<img src=x onerror=alert(1)>' });
    assert.equal(t.metric, 'conversion');
    assert.equal(t.proportion, true);
    assert.deepEqual(
      t.rows.map((r) => [
        r.variant,
        r.role,
        r.model,
        r.requests,
        r.conversions,
        r.rate,
        r.comparison?.decision,
      ]),
      [
        ['v1', 'baseline', 'propensity-v1', 19_000, 1140, 0.06, undefined],
        ['v2', 'candidate', '<img src=x onerror=alert(1)>', 1_000, 60, 0.06, 'continue'],
      ],
    );
    assert.equal(t.scale, 0.4); // the widest end of any interval (36.1%) rounded up: a shared axis
  });

  it('counts requests by protocol: over gRPC as reported, the rest over HTTP (0 in older reports)', () => {
    const t = abTable(
      report({ variants: [variant('v1', 'baseline'), variant('v2', 'candidate', { grpcRequests: 400 })] }),
    );
    assert.deepEqual(
      t.rows.map((r) => [r.variant, r.requests, r.grpcRequests]),
      [
        ['v1', 19_000, 0],
        ['v2', 1_000, 400],
      ],
    );
  });

  it('keeps rows of empty arms (null after JSON) without inventing numbers', () => {
    const empty = report({
      variants: [variant('v1', 'baseline'), variant('v2', 'candidate', { requests: 0, feedback: {} })],
      comparisons: [
        comparison({
          relativeLift: null as unknown as number,
          relativeCi95: [null, null] as unknown as [number, number],
        }),
      ],
    });
    const row = abTable(empty).rows[1]!;
    assert.equal(row.requests, 0);
    assert.ok(Number.isNaN(row.conversions));
    assert.ok(Number.isNaN(row.rate), "no requests: no rate, not the comparison's 0");
    assert.equal(abTable(empty).scale, 0.1);
  });

  it('places lifts on the shared axis and colours intervals by what they rule out', () => {
    assert.equal(liftPosition(0, 0.4), 0.5);
    assert.equal(liftPosition(0.4, 0.4), 1);
    assert.equal(liftPosition(-1, 0.4), 0);
    assert.equal(liftPosition(NaN, 0.4), 0.5);
    assert.equal(liftTone([0.039, 0.361]), 'good');
    assert.equal(liftTone([-0.3, -0.1]), 'bad');
    assert.equal(liftTone([-0.1, 0.2]), 'neutral');
    assert.equal(liftTone([NaN, NaN]), 'neutral');
    assert.equal(niceCeil(0.37), 0.4);
    assert.equal(niceCeil(1.3), 1.5);
  });
});
